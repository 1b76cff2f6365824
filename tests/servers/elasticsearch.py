"""An Elasticsearch-API **stand-in** for tests: noida-db (PyPI ``noida-db``, a dev dependency).

No Elasticsearch can be installed here, so the tests of the Elasticsearch logs backend and of
the loader talk to noida-db, a single binary that implements the Elasticsearch **8.15** REST
API (index creation with mappings, ``_bulk``, ``_search`` with ``bool``/``range``/``terms``/
``match``, ``terms`` and ``date_histogram`` aggregations, ``_count``, ``_field_caps``, point in
time). It is not Elasticsearch. Known gaps: no ``percentiles``, ``composite`` or
``significant_terms`` aggregations; ``date_histogram`` ignores ``time_zone``; the ``missing``
option of a ``terms`` aggregation is ignored. The backend must not depend on any of those.

The binary prints a harmless ``GLIBC_2.39 weak version`` warning on some machines; it goes to
the server's log file with everything else, which a start-up failure quotes.

Tests isolate themselves by index name (``es_index`` gives a fresh ``rcabot-test-<uuid>``), so
one server serves the whole session. Tests that use it are marked ``elasticsearch``.
"""

from __future__ import annotations

import stat
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import pytest

from tests.servers import free_port, stop_process

START_TIMEOUT_S = 20.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "elasticsearch: uses the noida-db Elasticsearch-API stand-in (session server)"
    )


def noida_binary() -> Path:
    """The noida-db executable shipped in the ``noida_db`` package (made executable).

    The binary is run directly rather than through the ``noida-db`` console script, which would
    run it as a child process that terminating the script leaves behind.
    """
    binary = Path(str(files("noida_db") / "noida-db"))
    if not binary.is_file():
        pytest.fail(f"noida-db binary not found at {binary}; install the dev extras (make test)")
    mode = binary.stat().st_mode
    if not mode & stat.S_IXUSR:
        binary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class ServerStartError(RuntimeError):
    """A local test server did not start; the message quotes its output."""


@contextmanager
def running_noida(data_dir: Path) -> Iterator[str]:
    """Run the noida-db Elasticsearch-API **stand-in** on a free port; yield its base URL.

    For pytest use the ``elasticsearch_url`` fixture; benchmarks use this directly.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    command = [
        str(noida_binary()),
        "start",
        "--only",
        "elasticsearch",
        "--elasticsearch-port",
        str(port),
        "--data-dir",
        str(data_dir / "data"),
        "--host",
        "127.0.0.1",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                state = (
                    f"exited with {process.returncode}"
                    if process.returncode is not None
                    else f"did not answer GET {url}/ within {START_TIMEOUT_S:g}s"
                )
                raise ServerStartError(
                    f"noida-db (Elasticsearch stand-in) {state}.\n"
                    f"command: {' '.join(command)}\noutput:\n{output}"
                )
            time.sleep(0.05)
        yield url
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def elasticsearch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a noida-db server, a **stand-in** implementing the Elasticsearch 8.15 API.

    Started once per session on a free port with its own data directory, stopped at the end.
    It lacks the ``percentiles``, ``composite`` and ``significant_terms`` aggregations and
    ignores ``date_histogram``'s ``time_zone``; code under test must not need them.
    """
    try:
        with running_noida(tmp_path_factory.mktemp("noida-db")) as url:
            yield url
    except ServerStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def es_index() -> str:
    """A fresh index name, so tests sharing the session server never see each other's data.

    Not ``logs-…``: in a real Elasticsearch 8, ``logs-*-*`` names belong to a data-stream
    template.
    """
    return f"rcabot-test-{uuid.uuid4().hex[:12]}"


__all__ = [
    "ServerStartError",
    "elasticsearch_url",
    "es_index",
    "noida_binary",
    "running_noida",
]
