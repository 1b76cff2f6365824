"""A canned-answer HTTP server: a **stand-in** for a misbehaving backend of any kind.

The real servers the tests start (Prometheus, noida-db, the traces stand-in) answer correctly;
failure paths need one that does not. This one (stdlib ``http.server`` in a thread on 127.0.0.1)
answers *every* request alike, with a scripted status, body and content type, after a scripted
delay, plus optional extra headers (``ELASTICSEARCH_PRODUCT`` for elasticsearch-py); and it
records every request's method, path with query string and headers. It is not Elasticsearch,
Prometheus, Jaeger or Tempo. It exercises the real client stacks end to end (elasticsearch-py on
aiohttp, httpx → JsonClient, our error mapping and ``Resilience``) against 5xx, malformed or
wrongly shaped answers and slow ones.

``with running_canned_server(503, b"busy") as server:`` point a client at ``server.url``, then
look at ``server.received`` (or ``server.paths``).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JSON = "application/json"
#: elasticsearch-py refuses a server without this header ("not Elasticsearch").
ELASTICSEARCH_PRODUCT: Mapping[str, str] = MappingProxyType({"X-Elastic-Product": "Elasticsearch"})


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the stand-in received it."""

    method: str
    path: str  # path and query string exactly as sent (percent-encoded)
    headers: Mapping[str, str]  # names lower-cased

    @property
    def decoded_path(self) -> str:
        """``path`` with its query decoded, to read in assertions: ``/api/search?q={ }&limit=2``
        where ``/api/search?q=%7B+%7D&limit=2`` was sent."""
        url = urlsplit(self.path)
        if not url.query:
            return url.path
        pairs = parse_qsl(url.query, keep_blank_values=True)
        return url.path + "?" + "&".join(f"{name}={value}" for name, value in pairs)


@dataclass
class CannedServer:
    """The answer every request gets (read per request), where the server is, what it got."""

    status: int = 200
    body: bytes | str = b"{}"
    content_type: str = JSON
    delay_s: float = 0.0
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""  # http://127.0.0.1:<port>, once serving
    received: list[ReceivedRequest] = field(default_factory=list)  # in order

    @property
    def paths(self) -> list[str]:
        """The path and query string of every request, as sent."""
        return [request.path for request in self.received]

    @property
    def decoded_paths(self) -> list[str]:
        """The same with each query decoded (see :attr:`ReceivedRequest.decoded_path`)."""
        return [request.decoded_path for request in self.received]


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins the handler threads
    request_queue_size = 128  # the default 5 drops concurrent connects (1 s SYN retry)

    def __init__(self, canned: CannedServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.canned = canned
        self.stopping = threading.Event()  # set when the test is over: delayed answers abort
        self._lock = threading.Lock()
        self._connections: set[Any] = set()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def hang_up(self) -> None:
        """End the connections still open (a client's idle keep-alive), so their handler
        threads end now and ``server_close`` does not wait for them."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that gave up (timeout tests) makes the write fail, as intended."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' connection pools expect
    timeout = 5  # an idle keep-alive connection cannot hold a handler thread for long

    def _answer(self) -> None:
        canned = self.server.canned
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        canned.received.append(ReceivedRequest(self.command, self.path, headers))
        if canned.delay_s and self.server.stopping.wait(canned.delay_s):
            self.close_connection = True
            return  # the test is over: no answer
        body = canned.body.encode() if isinstance(canned.body, str) else canned.body
        with suppress(OSError):  # the client gave up waiting, as a timeout test wants
            self.send_response(canned.status)
            self.send_header("Content-Type", canned.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in canned.extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def running_canned_server(
    status: int = 200,
    body: bytes | str = b"{}",
    *,
    content_type: str = JSON,
    delay_s: float = 0.0,
    extra_headers: Mapping[str, str] | None = None,
) -> Iterator[CannedServer]:
    """Serve the canned answer on a free local port until the block ends, then stop: delayed
    answers are dropped, open connections closed and every thread joined."""
    canned = CannedServer(
        status=status,
        body=body,
        content_type=content_type,
        delay_s=delay_s,
        extra_headers=dict(extra_headers or {}),
    )
    server = _Server(canned)
    canned.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield canned
    finally:
        server.stopping.set()
        server.shutdown()
        server.hang_up()
        server.server_close()
        thread.join(timeout=5)
