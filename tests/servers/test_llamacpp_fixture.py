"""The real-model fixture's rule: without the model, skip on a developer's machine, fail in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import llamacpp


@pytest.fixture
def no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llamacpp, "MODEL_FILE", tmp_path / "absent.gguf")


@pytest.mark.usefixtures("no_model")
def test_a_missing_model_is_skipped_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make model"):
        llamacpp.require_model()


@pytest.mark.usefixtures("no_model")
@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_a_missing_model_fails_in_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match=r"absent\.gguf is missing.*make model"):
        llamacpp.require_model()


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_ci_unset_or_false_is_not_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert not llamacpp.in_ci()


def test_the_server_command_serves_the_file_on_loopback() -> None:
    command = llamacpp.server_command(Path("/m.gguf"), 8123, context_tokens=2048, threads=2)
    flags = dict(zip(command[3::2], command[4::2], strict=True))
    assert command[1:3] == ["-m", "llama_cpp.server"]
    assert flags["--model"] == "/m.gguf"
    assert flags["--host"] == "127.0.0.1"
    assert flags["--port"] == "8123"
    assert flags["--n_ctx"] == "2048"
    assert flags["--chat_format"] == "chatml-function-calling"
