"""JaegerTraces: parsing Jaeger's own fixtures, the search it sends, and every way it fails.

Happy paths against the traces stand-in are in tests/bot/loader/test_traces.py (the same traces
as the bundle); failures use the canned-answer stand-in (tests/servers/canned.py).
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.loader.traces import export_spans
from tests.bundles import T0, jaeger_fixture
from tests.servers import unreachable_url
from tests.servers.canned import running_canned_server
from tests.servers.traces import TracesStandIn
from tools.backends import TraceQuery, TracesBackend
from tools.errors import BackendError, BackendTimeout, TransientBackendError
from tools.evidence import TimeWindow
from tools.http import JsonClient
from tools.jaeger import JaegerTraces
from tools.jaeger.traces import parse_span, parse_trace, search_params
from tools.links import Links
from tools.records import Span
from tools.resilience import Resilience, RetryPolicy
from tools.settings import LinksSettings

FAST = RetryPolicy(attempts=2, base_delay_s=0.001, max_delay_s=0.001)
HOUR = TimeWindow(start=T0, end=T0 + timedelta(hours=1))


def jaeger(
    http: httpx.AsyncClient, url: str, links: Links | None = None, timeout_s: float = 1.0
) -> JaegerTraces:
    resilience = Resilience("jaeger", timeout_s=timeout_s, retry=FAST)
    return JaegerTraces(JsonClient(http, url, resilience), links or Links(LinksSettings()))


def test_implements_the_protocol(http: httpx.AsyncClient) -> None:
    backend = jaeger(http, "http://jaeger:16686")
    assert isinstance(backend, TracesBackend) and backend.name == "jaeger"


def test_parses_jaegers_ui_fixture() -> None:
    spans = parse_trace(jaeger_fixture("ui_01.json"))
    assert [(s.span_id, s.parent_id, s.service, s.operation) for s in spans] == [
        ("0000000000000002", None, "service-x", "test-general-conversion"),
        ("0000000000000002", None, "service-x", "some-operation"),
        ("0000000000000003", "0000000000000002", "service-y", "some-operation"),
        # CHILD_OF into another trace is a link, not the parent
        ("0000000000000004", "0000000000000002", "service-y", "reference-test"),
        ("0000000000000005", "0000000000000004", "service-y", "preserveParentID-test"),
    ]
    assert {s.trace_id for s in spans} == {"0000000000000001"}
    assert spans[0].start == 1485467191.639875 and spans[0].duration_ms == 0.005
    assert [s.error for s in spans] == [False, True, False, False, False]
    assert {s.kind for s in spans} == {"internal"}
    assert dict(spans[1].attrs) == {
        "peer.service": "service-y",
        "peer.ipv4": 23456,
        "temperature": 72.5,
        "javascript_limit": 9223372036854775222,  # an int64 Jaeger writes as a string
        "blob": "AAAwOQ==",
    }


def test_parses_stored_spans_with_string_typed_tags() -> None:
    stored = jaeger_fixture("es_01.json")  # as in Elasticsearch: process inline, values as strings
    span = parse_span(stored, {})
    assert (span.service, span.parent_id, span.error) == ("service-x", "0000000000000003", True)
    assert span.attrs["peer.ipv4"] == 23456 and span.attrs["temperature"] == 72.5
    server, client = (parse_span(s, {}) for s in jaeger_fixture("trace_success.json"))
    assert (server.kind, server.error, client.kind, client.error) == (
        "server",
        False,
        "client",
        True,
    )
    assert client.parent_id == server.span_id and client.duration_ms == 32.782


def test_search_parameters() -> None:
    query = TraceQuery(
        window=HOUR,
        service="api",
        operation="POST /order",
        errors_only=True,
        min_duration=timedelta(milliseconds=250),
        limit=20,
    )
    params = search_params("api", query)
    start = int(T0.timestamp()) * 1_000_000
    assert params == {
        "service": "api",
        "operation": "POST /order",
        "tags": '{"error":"true"}',
        "minDuration": "250ms",
        "start": start,
        "end": start + 3600 * 1_000_000 - 1,  # Jaeger's end is inclusive
        "limit": 20,
    }


async def test_without_a_service_every_service_is_searched(
    traces_standin: TracesStandIn, http: httpx.AsyncClient
) -> None:
    traces_standin.reset()
    async with httpx.AsyncClient() as sender:
        spans = [
            Span(f"{i:032x}", "01", None, f"svc{i}", "op", T0.timestamp() + i, 1.0)
            for i in range(1, 12)
        ]
        await export_spans(sender, traces_standin.url, spans)
    backend = jaeger(http, traces_standin.jaeger_url)
    assert await backend.services() == sorted(f"svc{i}" for i in range(1, 12))
    found = await backend.find_traces(TraceQuery(window=HOUR, limit=4))
    assert [t[0].service for t in found] == ["svc11", "svc10", "svc9", "svc8"]
    assert await backend.find_traces(TraceQuery(window=HOUR, service="nope")) == []


def test_describe_and_links(http: httpx.AsyncClient) -> None:
    links = Links(LinksSettings(jaeger_ui_url="http://jaeger-ui"))
    backend = jaeger(http, "http://jaeger:16686", links)
    query = TraceQuery(
        window=HOUR, service="api", errors_only=True, min_duration=timedelta(seconds=1)
    )
    info = backend.describe(query)
    assert info.text == (
        'GET /api/traces service="api" tags={"error":"true"} minDuration=1000ms limit=200'
    )
    assert info.link is not None and info.link.startswith("http://jaeger-ui/search?service=api")
    assert parse_qs(urlsplit(info.link).query)["tags"] == ['{"error": "true"}']
    anywhere = backend.describe(TraceQuery(window=HOUR, operation="GET /"))
    assert anywhere.text.startswith('GET /api/traces service=<each service> operation="GET /"')
    assert anywhere.link is None
    assert backend.trace_link("abc") == "http://jaeger-ui/trace/abc"
    assert jaeger(http, "http://j").trace_link("abc") is None


@pytest.mark.parametrize(
    ("status", "body", "error", "message", "attempts"),
    [
        (503, "overloaded", TransientBackendError, "HTTP 503", 2),
        (200, "{not json", BackendError, "malformed JSON", 1),
        (200, '{"data": "x"}', BackendError, "unexpected answer .* data is not an array", 1),
        (200, "[1]", BackendError, "answer is not an object", 1),
        (
            200,
            '{"data": [{"spans": [{"traceID": "01", "spanID": "02", "processID": "p9"}]}]}',
            BackendError,
            "names process 'p9'",
            1,
        ),
        (200, '{"errors": [{"code": 500, "msg": "es down"}]}', BackendError, "es down", 1),
        (400, '{"errors": [{"code": 400, "msg": "bad"}]}', BackendError, "HTTP 400", 1),
    ],
)
async def test_failures_are_backend_errors(
    http: httpx.AsyncClient,
    status: int,
    body: str,
    error: type[BackendError],
    message: str,
    attempts: int,
) -> None:
    with running_canned_server(status, body) as server:
        backend = jaeger(http, server.url)
        with pytest.raises(error, match=message) as caught:
            await backend.find_traces(TraceQuery(window=HOUR, service="api"))
        assert type(caught.value) is error
        assert len(server.received) == attempts
        assert server.decoded_paths[0].startswith("/api/traces?service=api&start=")


async def test_partial_errors_next_to_data_keep_the_data(http: httpx.AsyncClient) -> None:
    body = {
        "data": [{"traceID": "01", "spans": [], "processes": {}}],
        "errors": [{"code": 500, "msg": "one trace failed"}],
    }
    with running_canned_server(200, json.dumps(body)) as server:
        query = TraceQuery(window=HOUR, service="api")
        assert await jaeger(http, server.url).find_traces(query) == []


async def test_unknown_trace_is_empty_and_other_4xx_are_errors(http: httpx.AsyncClient) -> None:
    not_found = '{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"x"}]}'
    with running_canned_server(404, not_found) as server:
        assert await jaeger(http, server.url).get_trace("ab" * 16) == []
        assert server.paths == ["/api/traces/" + "ab" * 16]
    with running_canned_server(400, "{}") as server, pytest.raises(BackendError, match="400"):
        await jaeger(http, server.url).get_trace("ab")


async def test_slow_and_unreachable(http: httpx.AsyncClient) -> None:
    with (
        running_canned_server(200, '{"data": []}', delay_s=0.3) as server,
        pytest.raises(BackendTimeout),
    ):
        await jaeger(http, server.url, timeout_s=0.05).get_trace("ab")
    backend = jaeger(http, unreachable_url())
    with pytest.raises(TransientBackendError, match="unreachable"):
        await backend.find_traces(TraceQuery(window=HOUR))
