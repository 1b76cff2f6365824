"""A traces **stand-in** for tests: a local HTTP server speaking Jaeger's query API and Tempo's
HTTP API, because neither Jaeger nor Tempo can be installed here. Its JSON shapes are checked
against Jaeger's own fixtures in ../shared/fixtures/jaeger (tests/servers/test_traces_standin.py)
and follow Tempo's documented API; it is not Jaeger or Tempo.

Spans arrive like in production: ``POST /v1/traces`` with an OTLP/JSON body (what
``rcabot load`` sends to Jaeger's collector or Tempo's distributor; ids must have OTLP's fixed
width). Both products answer ``/api/traces/{id}``, differently, so each API has a base path
(as Jaeger's ``--query.base-path`` and Tempo's ``http_api_prefix`` allow): ``/jaeger`` and
``/tempo`` (``standin.jaeger_url`` / ``standin.tempo_url``). They serve

- Jaeger: ``/api/services``, ``/api/services/{s}/operations``, ``/api/traces`` (``service``
  required, else 400; ``operation``, ``tags`` (JSON), ``minDuration``/``maxDuration``,
  ``start``/``end`` in µs, both inclusive, per span as Jaeger's memory store matches; ``limit``;
  newest trace first) and ``/api/traces/{id}`` (404 with Jaeger's error JSON when unknown);
- Tempo: ``/api/search`` (TraceQL: exactly the spanset filters ``tools.tempo`` writes, anything
  else is a 400; like Tempo, traces *overlapping* ``[start, end]`` seconds, newest first),
  ``/api/traces/{id}`` (``{"batches": ...}``, base64 ids and enum names as Tempo's jsonpb
  writes them; 404 ``trace not found``), ``/api/echo``, ``/api/status/buildinfo``;

and ``/ready``. When more traces match than ``limit``, both keep the newest by trace start (as
the bundle does; real storage may choose differently).

Use the session fixture ``traces_standin`` (call ``.reset()`` first) or, outside pytest,
``with running_traces_standin() as standin: ...``. For failure tests, the canned-answer
stand-in (tests/servers/canned.py) answers every request the same way.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.servers.traces_api import (
    jaeger_match,
    jaeger_trace,
    parse_traceql,
    search_span,
    tempo_trace,
)
from tools.otlp import OtlpSpan, WireFormatError, iter_spans

Answer = tuple[int, str, bytes]  # status, content type, body
_JSON = "application/json"


def _json(status: int, body: object) -> Answer:
    return status, _JSON, json.dumps(body).encode()


def _text(status: int, body: str) -> Answer:
    return status, "text/plain; charset=utf-8", body.encode()


@dataclass
class _Store:
    lock: threading.Lock = field(default_factory=threading.Lock)
    traces: dict[str, list[OtlpSpan]] = field(default_factory=dict)  # 32-hex id → spans
    # the sorted copy searches read, made once per change to the store: copying and sorting
    # every trace on each search made a case's thousand searches slow enough, on a busy CI
    # machine, to run past the client's time limit
    newest_first: tuple[tuple[OtlpSpan, ...], ...] | None = None
    by_service: dict[str, tuple[tuple[OtlpSpan, ...], ...]] = field(default_factory=dict)

    def add(self, spans: list[OtlpSpan]) -> None:
        with self.lock:
            for span in spans:
                self.traces.setdefault(span.trace_id, []).append(span)
            self._stale()

    def clear(self) -> None:
        with self.lock:
            self.traces.clear()
            self._stale()

    def _stale(self) -> None:  # the lock held: the store changed, its views are remade
        self.newest_first = None
        self.by_service = {}

    def snapshot(self) -> tuple[tuple[OtlpSpan, ...], ...]:
        """All traces, newest first by their earliest span."""
        with self.lock:
            return self._newest_first()

    def with_service(self, service: str) -> tuple[tuple[OtlpSpan, ...], ...]:
        """The traces with a span of ``service``, newest first."""
        with self.lock:
            if not self.by_service:
                index: dict[str, list[tuple[OtlpSpan, ...]]] = {}
                for trace in self._newest_first():
                    for name in dict.fromkeys(s.service for s in trace):
                        index.setdefault(name, []).append(trace)
                self.by_service = {name: tuple(ts) for name, ts in index.items()}
            return self.by_service.get(service, ())

    def _newest_first(self) -> tuple[tuple[OtlpSpan, ...], ...]:  # the lock held
        if self.newest_first is None:
            traces = (tuple(spans) for spans in self.traces.values())
            ordered = sorted(traces, key=lambda t: min(s.start_ns for s in t), reverse=True)
            self.newest_first = tuple(ordered)
        return self.newest_first

    def get(self, trace_id: str) -> list[OtlpSpan]:
        with self.lock:
            return list(self.traces.get(trace_id.rjust(32, "0"), []))


def _jaeger(data: object, status: int = 200, errors: object = None) -> Answer:
    total = len(data) if isinstance(data, list) else 0
    body = {"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors}
    return _json(status, body)


def _jaeger_error(status: int, message: str) -> Answer:
    return _jaeger(None, status, [{"code": status, "msg": message}])


def jaeger_search(store: _Store, q: dict[str, str]) -> Answer:
    if not q.get("service"):
        return _jaeger_error(400, "parameter 'service' is required")
    try:
        tags = json.loads(q.get("tags", "{}"))
        limit = int(q.get("limit", "100"))
        wanted = {k: str(v) for k, v in tags.items()}
        candidates = store.with_service(q["service"])
        matching = (t for t in candidates if any(jaeger_match(s, q, wanted) for s in t))
        # like Jaeger's storage, stop at the limit instead of converting every match
        found = [jaeger_trace(t) for t in itertools.islice(matching, limit if limit > 0 else None)]
    except (ValueError, AttributeError) as exc:
        return _jaeger_error(400, f"malformed query: {exc}")
    return _jaeger(found)


def tempo_search(store: _Store, q: dict[str, str]) -> Answer:
    try:
        conditions = parse_traceql(q.get("q", "{ }"))
        start_ns, end_ns = int(q.get("start", "0")) * 10**9, int(q.get("end", "0")) * 10**9
        limit, spss = int(q.get("limit", "20")), int(q.get("spss", "3"))
    except ValueError as exc:
        return _text(400, f"invalid TraceQL query: {exc}")
    traces = []
    for spans in store.snapshot():
        first, last = min(s.start_ns for s in spans), max(s.end_ns for s in spans)
        if end_ns and (first > end_ns or last < start_ns):
            continue
        matched = [s for s in spans if all(c(s) for c in conditions)]
        if not matched:
            continue
        root = next((s for s in spans if s.parent_id is None), None)
        spanset = {"spans": [search_span(s) for s in matched[:spss]], "matched": len(matched)}
        traces.append(
            {
                "traceID": spans[0].trace_id.lstrip("0") or "0",
                "rootServiceName": root.service if root else "<root span not yet received>",
                "rootTraceName": root.name if root else "",
                "startTimeUnixNano": str(first),
                "durationMs": (last - first) // 10**6,
                "spanSet": spanset,
                "spanSets": [spanset],
            }
        )
    metrics = {"inspectedTraces": len(traces), "completedJobs": 1, "totalJobs": 1}
    return _json(200, {"traces": traces[:limit], "metrics": metrics})


# --- the server --------------------------------------------------------------------------------


def _ingest(store: _Store, content_type: str, body: bytes) -> Answer:
    if not content_type.startswith(_JSON):
        return _text(415, f"unsupported content type {content_type!r}; this stand-in takes JSON")
    try:
        spans = list(iter_spans(json.loads(body)))
        for span in spans:
            if len(span.trace_id) != 32 or len(span.span_id) != 16:
                raise WireFormatError(f"invalid id length in span {span.span_id!r}")
    except (ValueError, UnicodeDecodeError) as exc:  # WireFormatError, JSONDecodeError
        return _json(400, {"code": 3, "message": str(exc)})
    store.add(spans)
    return _json(200, {"partialSuccess": {}})


def _route(store: _Store, method: str, path: str, q: dict[str, str]) -> Answer:
    parts = [unquote(p) for p in path.strip("/").split("/")]
    flavour, parts = (parts[0], parts[1:]) if parts[0] in ("jaeger", "tempo") else ("", parts)
    if method != "GET":
        return _text(405, "method not allowed")
    if parts == ["ready"]:
        return _text(200, "ready")
    if flavour == "jaeger":
        return _jaeger_route(store, parts, q)
    if flavour == "tempo":
        return _tempo_route(store, parts, q)
    return _text(404, "404 page not found (the APIs are under /jaeger and /tempo)")


def _jaeger_route(store: _Store, parts: list[str], q: dict[str, str]) -> Answer:
    if parts == ["api", "services"]:
        return _jaeger(sorted({s.service for t in store.snapshot() for s in t}))
    if len(parts) == 4 and parts[:2] == ["api", "services"] and parts[3] == "operations":
        names = {s.name for t in store.snapshot() for s in t if s.service == parts[2]}
        return _jaeger(sorted(names))
    if parts == ["api", "traces"]:
        return jaeger_search(store, q)
    if len(parts) == 3 and parts[:2] == ["api", "traces"]:
        if not re.fullmatch(r"[0-9a-fA-F]{1,32}", parts[2]):
            return _jaeger_error(400, f"cannot parse traceID {parts[2]!r}")
        spans = store.get(parts[2].lower())
        return _jaeger([jaeger_trace(spans)]) if spans else _jaeger_error(404, "trace not found")
    return _text(404, "404 page not found")


def _tempo_route(store: _Store, parts: list[str], q: dict[str, str]) -> Answer:
    if parts == ["api", "search"]:
        return tempo_search(store, q)
    if len(parts) == 3 and parts[:2] == ["api", "traces"]:
        if not re.fullmatch(r"[0-9a-fA-F]{1,32}", parts[2]):
            return _text(400, f"invalid trace id {parts[2]!r}")
        spans = store.get(parts[2].lower())
        return _json(200, tempo_trace(spans)) if spans else _text(404, "trace not found")
    if parts == ["api", "echo"]:
        return _text(200, "echo")
    if parts == ["api", "status", "buildinfo"]:
        return _json(200, {"version": "2.6.0-standin", "revision": "", "branch": "standin"})
    return _text(404, "404 page not found")


def _answer(store: _Store) -> Callable[[str, str, dict[str, str], str, bytes], Answer]:
    def answer(method: str, path: str, q: dict[str, str], content_type: str, body: bytes) -> Answer:
        if path.rstrip("/").endswith("/v1/traces"):
            if method != "POST":
                return _text(405, "method not allowed")
            return _ingest(store, content_type, body)
        return _route(store, method, path, q)

    return answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops concurrent connects (1 s SYN retry)
    answer: Callable[[str, str, dict[str, str], str, bytes], Answer]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that gave up (timeout tests) makes the write fail, as intended."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            status, content_type, payload = self.server.answer(
                method, url.path, q, self.headers.get("Content-Type", ""), body
            )
        except Exception:  # a bug in the stand-in: say so instead of dropping the connection
            status, content_type, payload = _text(500, traceback.format_exc())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _serving(answer: Callable[[str, str, dict[str, str], str, bytes], Answer]) -> Iterator[str]:
    """Serve ``answer`` on 127.0.0.1:<free port> in a daemon thread; yields the base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.answer = answer
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class TracesStandIn:
    """A running stand-in. ``url``: the base URL; OTLP/HTTP at ``url + "/v1/traces"`` (pass
    ``url`` as the loader's ``otlp_url``), Jaeger's query API under ``jaeger_url``, Tempo's under
    ``tempo_url`` (each product's own base-path/prefix setting allows such a layout)."""

    url: str
    store: _Store

    @property
    def jaeger_url(self) -> str:
        return self.url + "/jaeger"

    @property
    def tempo_url(self) -> str:
        return self.url + "/tempo"

    def reset(self) -> None:
        """Forget every span (tests call this first to be independent of each other)."""
        self.store.clear()

    def span_count(self) -> int:
        with self.store.lock:
            return sum(len(spans) for spans in self.store.traces.values())


@contextmanager
def running_traces_standin() -> Iterator[TracesStandIn]:
    """Start a traces stand-in for the duration of the ``with`` block (no pytest needed)."""
    store = _Store()
    with _serving(_answer(store)) as url:
        yield TracesStandIn(url, store)


@pytest.fixture(scope="session")
def traces_standin() -> Iterator[TracesStandIn]:
    """The session's traces stand-in (Jaeger query API + Tempo HTTP API + OTLP/HTTP JSON
    ingest). Shared: call ``.reset()`` before loading spans."""
    with running_traces_standin() as standin:
        yield standin
