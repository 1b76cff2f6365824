"""The traces loader (OTLP/HTTP JSON), and the consistency property it exists for: a bundle's
spans, loaded into Jaeger or Tempo (here: the traces stand-in) and read back by
:class:`JaegerTraces` / :class:`TempoTraces`, give the same traces as :class:`BundleTraces`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.loader.traces import export_spans, traces_url
from tests.bundles import T0
from tests.servers.traces import TracesStandIn
from tools.backends import TraceQuery, TracesBackend
from tools.bundle.backends import BundleTraces
from tools.bundle.reader import Bundle, load_bundle
from tools.errors import BackendError, BackendTimeout, TransientBackendError
from tools.evidence import TimeWindow
from tools.http import JsonClient
from tools.jaeger import JaegerTraces
from tools.links import Links
from tools.otlp import otlp_span_id, otlp_trace_id
from tools.records import Span
from tools.resilience import Resilience
from tools.settings import LinksSettings
from tools.tempo import TempoTraces

HOUR = TimeWindow(start=T0, end=T0 + timedelta(hours=1))


def _window(start_min: float, end_min: float) -> TimeWindow:
    return TimeWindow(start=T0 + timedelta(minutes=start_min), end=T0 + timedelta(minutes=end_min))


# Each trace of the small incident starts at minute m + 10·i seconds with spans web "GET /"
# (+0 ms, 60 ms), web "call api" (+1 ms, 50 ms, client), api "POST /order" (+2 ms, 45 ms).
QUERIES = {
    "all services": TraceQuery(window=HOUR, limit=500),
    "one service": TraceQuery(window=_window(30, 50), service="api"),
    "errors only": TraceQuery(window=HOUR, errors_only=True, limit=30),
    "operation": TraceQuery(window=_window(10, 20), operation="call api"),
    "min duration": TraceQuery(window=HOUR, min_duration=timedelta(milliseconds=50), limit=20),
    "min duration above": TraceQuery(window=HOUR, min_duration=timedelta(milliseconds=55)),
    "all conditions": TraceQuery(
        window=_window(39, 42),
        service="web",
        operation="call api",
        errors_only=True,
        min_duration=timedelta(milliseconds=50),
    ),
    "limit smaller": TraceQuery(window=_window(5, 25), limit=7),
    # the window starts 1.5 ms into a trace: only its api span starts inside
    "edge, all services": TraceQuery(window=_window(20 + 0.0015 / 60, 21)),
    "edge, web only": TraceQuery(window=_window(20 + 0.0015 / 60, 21), service="web"),
    "unknown service": TraceQuery(window=HOUR, service="nope"),
    "empty window": TraceQuery(window=_window(120, 180)),
    "nothing that long": TraceQuery(window=HOUR, service="api", min_duration=timedelta(seconds=1)),
}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
def bundle(small_bundle: Path) -> Bundle:
    return load_bundle(small_bundle)


@pytest.fixture
async def loaded(
    traces_standin: TracesStandIn, http: httpx.AsyncClient, bundle: Bundle
) -> TracesStandIn:
    traces_standin.reset()
    assert await export_spans(http, traces_standin.url, bundle.spans or [], batch_size=250) == 720
    assert traces_standin.span_count() == 720
    return traces_standin


def _backends(standin: TracesStandIn, http: httpx.AsyncClient) -> list[TracesBackend]:
    links = Links(LinksSettings())
    return [
        JaegerTraces(JsonClient(http, standin.jaeger_url, Resilience("jaeger")), links),
        TempoTraces(JsonClient(http, standin.tempo_url, Resilience("tempo")), links),
    ]


def _as_loaded(span: Span) -> tuple[Any, ...]:
    """A bundle span as it reads back: fixed-width OTLP ids, time to the microsecond."""
    parent = otlp_span_id(span.parent_id) if span.parent_id else None
    return (
        otlp_trace_id(span.trace_id),
        otlp_span_id(span.span_id),
        parent,
        span.service,
        span.operation,
        span.error,
        span.kind,
        dict(span.attrs),
    )


def _read(span: Span) -> tuple[Any, ...]:
    return (
        span.trace_id,
        span.span_id,
        span.parent_id,
        span.service,
        span.operation,
        span.error,
        span.kind,
        dict(span.attrs),
    )


def assert_same_traces(expected: list[list[Span]], actual: list[list[Span]], who: str) -> None:
    assert [otlp_trace_id(t[0].trace_id) for t in expected] == [t[0].trace_id for t in actual], who
    for want, got in zip(expected, actual, strict=True):
        want_sorted = sorted(want, key=lambda s: otlp_span_id(s.span_id))
        got_sorted = sorted(got, key=lambda s: s.span_id)
        assert [_as_loaded(s) for s in want_sorted] == [_read(s) for s in got_sorted], who
        for w, g in zip(want_sorted, got_sorted, strict=True):
            assert abs(w.start - g.start) <= 1e-6, who
            assert abs(w.duration_ms - g.duration_ms) <= 1e-3, who


@pytest.mark.parametrize("name", list(QUERIES))
async def test_jaeger_and_tempo_read_back_what_the_bundle_says(
    name: str, loaded: TracesStandIn, http: httpx.AsyncClient, bundle: Bundle
) -> None:
    query = QUERIES[name]
    expected = await BundleTraces(bundle, Links(LinksSettings())).find_traces(query)
    for backend in _backends(loaded, http):
        assert_same_traces(expected, await backend.find_traces(query), f"{backend.name}: {name}")


async def test_the_variants_are_not_trivial(bundle: Bundle) -> None:
    traces = BundleTraces(bundle, Links(LinksSettings()))
    sizes = {name: len(await traces.find_traces(q)) for name, q in QUERIES.items()}
    assert sizes["all services"] == 240
    assert sizes["limit smaller"] == 7
    assert sizes["edge, all services"] == 4 and sizes["edge, web only"] == 3
    assert sizes["errors only"] == 30 and sizes["all conditions"] == 8
    assert sizes["empty window"] == sizes["unknown service"] == sizes["nothing that long"] == 0


async def test_get_trace_whole_and_unknown(
    loaded: TracesStandIn, http: httpx.AsyncClient, bundle: Bundle
) -> None:
    some = (bundle.spans or [])[0].trace_id
    expected = await BundleTraces(bundle, Links(LinksSettings())).get_trace(some)
    for backend in _backends(loaded, http):
        assert_same_traces([expected], [await backend.get_trace(some)], backend.name)
        assert await backend.get_trace("0123456789abcdef0123456789abcdef") == []
        assert await backend.get_trace("not a hex id/..") == []


async def test_odd_names_survive_escaping(
    traces_standin: TracesStandIn, http: httpx.AsyncClient
) -> None:
    traces_standin.reset()
    odd = 'we"ird \\ näme'
    span = Span("ab" * 16, "cd" * 8, None, odd, 'op "x"', T0.timestamp() + 1, 5.0, error=True)
    await export_spans(http, traces_standin.url, [span])
    query = TraceQuery(window=HOUR, service=odd, operation='op "x"', errors_only=True)
    for backend in _backends(traces_standin, http):
        found = await backend.find_traces(query)
        assert [[s.service for s in t] for t in found] == [[odd]], backend.name


# --- export_spans on its own ---------------------------------------------------------------------


def test_traces_url_appends_the_otlp_path_once() -> None:
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/v1/traces") == "http://collector:4318/v1/traces"


async def test_spans_are_posted_as_otlp_json_in_batches(bundle: Bundle) -> None:
    bodies: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/v1/traces"
        assert request.headers["content-type"] == "application/json"
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"partialSuccess": {}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        count = await export_spans(client, "http://c:4318", bundle.spans or [], batch_size=100)
    assert count == 720
    assert len(bodies) == 8
    services = [rs["resource"]["attributes"][0] for body in bodies for rs in body["resourceSpans"]]
    assert {s["key"] for s in services} == {"service.name"}
    assert {s["value"]["stringValue"] for s in services} == {"web", "api"}
    sent = [s for b in bodies for rs in b["resourceSpans"] for s in rs["scopeSpans"][0]["spans"]]
    assert len(sent) == 720
    assert all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in sent)


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (httpx.Response(400, text="bad span"), BackendError, "HTTP 400 .*bad span"),
        (httpx.Response(503, text="busy"), TransientBackendError, "HTTP 503"),
        (
            httpx.Response(
                200, json={"partialSuccess": {"rejectedSpans": "2", "errorMessage": "too old"}}
            ),
            BackendError,
            "2 of 3 spans .* rejected: too old",
        ),
        (httpx.ConnectError("refused"), TransientBackendError, "unreachable"),
        (httpx.ReadTimeout("slow"), BackendTimeout, "timed out"),
    ],
)
async def test_export_failures_are_backend_errors(
    answer: httpx.Response | Exception, error: type[BackendError], message: str
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    spans = [Span("ab" * 16, f"{i:016x}", None, "web", "GET /", 1.0, 1.0) for i in range(3)]
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        with pytest.raises(error, match=message):
            await export_spans(client, "http://c:4318", spans)


async def test_an_empty_success_body_is_success() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    spans = [Span("ab" * 16, "01", None, "web", "GET /", 1.0, 1.0)]
    async with httpx.AsyncClient(transport=transport) as client:
        assert await export_spans(client, "http://c:4318", spans) == 1
