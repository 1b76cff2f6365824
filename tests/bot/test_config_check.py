from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.config import Settings
from bot.config_check import Check, check_settings
from tests.servers import unreachable_url
from tests.servers.tgi import Reply, TgiStandin
from tools.settings import RedactionSettings


def test_config_check_never_prints_a_password_from_a_url() -> None:
    settings = Settings(
        metrics={"url": "http://admin:hunter22secret@127.0.0.1:9"},
        redaction=RedactionSettings(extra_patterns=[r"127\.0\.0\.1"]),
    )
    checks = asyncio.run(check_settings(settings))
    details = " ".join(check.detail for check in checks)
    assert "unreachable" in details
    assert "hunter22secret" not in details
    assert "127.0.0.1" not in details  # the operator's extra pattern applies too


def _llm_check(settings: Settings) -> Check:
    checks = asyncio.run(check_settings(settings))
    return next(check for check in checks if check.name.startswith("llm"))


@pytest.mark.parametrize("api", ["tgi", "openai"])
def test_config_check_probes_the_model_with_a_one_token_generation(
    tgi_standin: TgiStandin, api: str
) -> None:
    check = _llm_check(Settings(llm={"url": tgi_standin.url, "api": api}))
    assert check.configured and check.ok, check.detail
    assert "standin/tiny-chat" in check.detail
    assert "generated 1 token(s)" in check.detail
    generation = "/" if api == "tgi" else "/v1/chat/completions"
    assert generation in tgi_standin.paths()


def test_config_check_reports_a_model_that_answers_but_cannot_generate(
    tgi_standin: TgiStandin,
) -> None:
    tgi_standin.script(Reply.failure(424, "CUDA out of memory", "generation"))
    check = _llm_check(Settings(llm={"url": tgi_standin.url, "api": "tgi"}))
    assert check.configured and not check.ok
    assert "CUDA out of memory" in check.detail


def test_config_check_reports_an_unreachable_model_without_its_key() -> None:
    url = unreachable_url().replace("http://", "http://user:hunter22secret@")
    check = _llm_check(Settings(llm={"url": url, "api": "openai", "api_key": "sk-hunter22"}))
    assert check.configured and not check.ok and "unreachable" in check.detail
    assert "hunter22" not in check.detail


def test_config_check_without_a_model_says_how_to_configure_one() -> None:
    check = _llm_check(Settings())
    assert not check.configured and "RCABOT_LLM__URL" in check.detail


def _map_check(settings: Settings) -> Check:
    checks = asyncio.run(check_settings(settings))
    return next(check for check in checks if check.name == "service map")


def test_config_check_reads_the_service_map(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("caller,callee\nfrontend,checkout\nfrontend,cart\ncheckout,\n")
    check = _map_check(Settings(investigation={"service_map": str(path)}))
    assert check.configured and check.ok, check.detail
    assert check.detail.startswith("2 calls among 3 services")
    assert "1 rows skipped, first: map.csv:4:" in check.detail


def test_config_check_fails_on_a_service_map_that_cannot_be_read(tmp_path: Path) -> None:
    check = _map_check(Settings(investigation={"service_map": str(tmp_path / "gone.csv")}))
    assert check.configured and not check.ok
    assert check.detail == f"{tmp_path / 'gone.csv'}: file does not exist"
    off = _map_check(Settings())
    assert not off.configured and "RCABOT_INVESTIGATION__SERVICE_MAP" in off.detail


def test_readiness_probes_leave_the_service_map_out(tmp_path: Path) -> None:
    """/readyz asks every few seconds: a map the bot cannot read costs the ranking, not the
    answer, so it does not make the bot unready."""
    settings = Settings(investigation={"service_map": str(tmp_path / "gone.csv")})
    checks = asyncio.run(check_settings(settings, quick=True))
    assert "service map" not in {check.name for check in checks}
