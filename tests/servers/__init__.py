"""Local servers the tests start themselves: real Prometheus, and stand-ins (named as such) for
Elasticsearch (noida-db), Jaeger/Tempo (a local HTTP server speaking their query APIs) and any
misbehaving backend (``canned``: the same scripted answer to every request, for failure tests).

Here: what they share.
"""

from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def unreachable_url() -> str:
    """The base URL of a local port nothing listens on: an unreachable backend."""
    return f"http://127.0.0.1:{free_port()}"


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server process; kill it if it has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
