"""A real Redis for the tests, started from the installed binary (Debian package
``redis-server``, which ``make test`` installs).

The server listens on a free 127.0.0.1 port (never 6379), in its own temporary directory, with
no persistence at all (``--save ''``, no append-only file): the store tests need a Redis that
behaves like production's (atomic ``SET NX``, key expiry, transactions), not its durability.
One server per session; :func:`redis_url` empties it (``FLUSHALL``) before each test.

If ``redis-server`` is missing the tests that need it are **skipped** on a developer's machine,
saying how to install it, but **fail** in CI (``CI`` set), where a silently skipped store would
be an untested one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import free_port, stop_process
from tests.servers.llamacpp import in_ci

INSTALL_HINT = (
    "`make test` installs the Debian package `redis-server`; "
    "or run: sudo apt-get install redis-server"
)
READY_TIMEOUT_S = 10.0


class ServerError(RuntimeError):
    """The server exited or did not answer in time (the message holds its log's tail)."""


def require_redis_server() -> str:
    """The path of ``redis-server``; skip the test (developer machine) or fail it (CI) when it
    is not installed."""
    found = shutil.which("redis-server")
    if found is not None:
        return found
    if in_ci():
        pytest.fail(f"redis-server is not installed: {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"redis-server is not installed: {INSTALL_HINT}")


def command(port: int, *lines: str) -> bytes | None:
    """Send ``lines`` as inline commands to the Redis on ``port``; the reply's bytes, or
    ``None`` while nothing listens there."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall("".join(f"{line}\r\n" for line in lines).encode())
            return sock.recv(4096)
    except OSError:  # connection refused: not listening yet
        return None


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError as exc:
        return f"(cannot read {path}: {exc})"


@contextmanager
def running_redis(executable: str, *, timeout_s: float = READY_TIMEOUT_S) -> Iterator[int]:
    """Run a Redis on a free port; yield the port once it answers ``PING``; stop it after."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="rcabot-redis-") as tmp:
        log = Path(tmp) / "redis.log"
        argv = [
            executable,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", tmp,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        with log.open("wb") as output:
            process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while not (command(port, "PING") or b"").startswith(b"+PONG"):
                if process.poll() is not None:
                    raise ServerError(
                        f"redis-server exited with {process.returncode} before it was ready "
                        f"({' '.join(argv)}):\n{_tail(log)}"
                    )
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"redis-server not answering PING on port {port} within "
                        f"{timeout_s:g}s:\n{_tail(log)}"
                    )
                time.sleep(0.05)
            yield port
        finally:
            stop_process(process)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[int]:
    """A real Redis (no persistence) for the session; its port on 127.0.0.1."""
    executable = require_redis_server()
    try:
        with running_redis(executable) as port:
            yield port
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def redis_url(redis_server: int) -> str:
    """The URL of the session's Redis (database 0), emptied for this test."""
    reply = command(redis_server, "FLUSHALL")
    if reply != b"+OK\r\n":
        pytest.fail(f"FLUSHALL on the test Redis answered {reply!r}", pytrace=False)
    return f"redis://127.0.0.1:{redis_server}/0"
