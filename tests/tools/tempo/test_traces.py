"""TempoTraces: the TraceQL it writes, the window filter Tempo lacks, links, and failures.

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
from tests.bundles import T0
from tests.servers import unreachable_url
from tests.servers.canned import running_canned_server
from tests.servers.traces import TracesStandIn
from tests.servers.traces_api import parse_traceql
from tools.backends import TraceQuery, TracesBackend
from tools.errors import BackendError, BackendTimeout, TransientBackendError
from tools.evidence import TimeWindow
from tools.http import JsonClient
from tools.links import Links
from tools.records import Span
from tools.resilience import Resilience, RetryPolicy
from tools.settings import LinksSettings
from tools.tempo import TempoTraces
from tools.tempo.traces import search_params
from tools.traceql import traceql

FAST = RetryPolicy(attempts=2, base_delay_s=0.001, max_delay_s=0.001)
HOUR = TimeWindow(start=T0, end=T0 + timedelta(hours=1))


def tempo(
    http: httpx.AsyncClient, url: str, links: Links | None = None, timeout_s: float = 1.0
) -> TempoTraces:
    resilience = Resilience("tempo", timeout_s=timeout_s, retry=FAST)
    return TempoTraces(JsonClient(http, url, resilience), links or Links(LinksSettings()))


def test_implements_the_protocol(http: httpx.AsyncClient) -> None:
    backend = tempo(http, "http://tempo:3200")
    assert isinstance(backend, TracesBackend) and backend.name == "tempo"


def test_traceql_and_search_parameters() -> None:
    assert traceql(TraceQuery(window=HOUR)) == "{ }"
    query = TraceQuery(
        window=TimeWindow(start=T0 + timedelta(seconds=0.5), end=T0 + timedelta(seconds=90.2)),
        service='a "quoted" \\ name',
        operation="GET /",
        errors_only=True,
        min_duration=timedelta(milliseconds=1.5),
        limit=50,
    )
    text = traceql(query)
    assert text == (
        '{ resource.service.name = "a \\"quoted\\" \\\\ name" && name = "GET /" '
        "&& status = error && duration >= 1500us }"
    )
    assert len(parse_traceql(text)) == 4  # the stand-in reads exactly what we write
    params = search_params(query)
    start = int(T0.timestamp())
    assert (params["start"], params["end"]) == (start, start + 91)  # whole seconds, widened
    assert params["q"] == text and params["limit"] == 60 and params["spss"] == 1


@pytest.mark.parametrize("bad", ["{ span.foo = 1 }", 'resource.service.name = "x"', "{ a && }"])
def test_the_standin_refuses_other_traceql(bad: str) -> None:
    with pytest.raises(ValueError, match=r"parse error|unsupported"):
        parse_traceql(bad)


async def test_window_is_checked_per_span_not_per_trace(
    traces_standin: TracesStandIn, http: httpx.AsyncClient
) -> None:
    """Tempo keeps traces that overlap the window; the bundle wants a matching span that
    *starts* in it. A long root starting before the window is not a match by itself."""
    traces_standin.reset()
    start = T0.timestamp()
    spans = [
        Span("a1" * 16, "01", None, "web", "GET /", start - 30, 60_000.0),  # overlaps only
        Span("a2" * 16, "01", None, "web", "GET /", start - 30, 60_000.0),
        Span("a2" * 16, "02", "01", "api", "POST", start + 5, 10.0),  # starts inside
        Span("a3" * 16, "01", None, "web", "GET /", start + 10, 5.0),
    ]
    async with httpx.AsyncClient() as sender:
        await export_spans(sender, traces_standin.url, spans)
    backend = tempo(http, traces_standin.tempo_url)
    found = await backend.find_traces(TraceQuery(window=HOUR, limit=1))
    assert [t[0].trace_id for t in found] == ["a3" * 16]
    found = await backend.find_traces(TraceQuery(window=HOUR))
    assert [t[0].trace_id for t in found] == ["a3" * 16, "a2" * 16]
    assert await backend.find_traces(TraceQuery(window=HOUR, service="web", limit=5)) == [
        await backend.get_trace("a3" * 16)
    ]
    assert await backend.get_trace("ff") == []


async def test_describe_and_links(traces_standin: TracesStandIn, http: httpx.AsyncClient) -> None:
    links = Links(LinksSettings(grafana_url="http://grafana", grafana_tempo_uid="tempo-uid"))
    backend = tempo(http, traces_standin.tempo_url, links)
    info = backend.describe(TraceQuery(window=HOUR, service="api", errors_only=True))
    assert info.text == '{ resource.service.name = "api" && status = error }'
    assert info.link is not None and info.link.startswith("http://grafana/explore?")
    panes = json.loads(parse_qs(urlsplit(info.link).query)["panes"][0])
    assert panes["a"]["queries"][0]["query"] == info.text
    assert panes["a"]["range"]["from"] == str(int(T0.timestamp() * 1000))

    traces_standin.reset()
    span = Span("c4" * 16, "01", None, "web", "GET /", T0.timestamp(), 5.0)
    async with httpx.AsyncClient() as sender:
        await export_spans(sender, traces_standin.url, [span])
    assert await backend.get_trace("c4" * 16)
    link = backend.trace_link("c4" * 16)
    assert link is not None
    panes = json.loads(parse_qs(urlsplit(link).query)["panes"][0])
    assert panes["a"]["queries"][0]["query"] == "c4" * 16
    assert panes["a"]["range"]["from"] == str(int((T0.timestamp() - 3600) * 1000))
    assert backend.trace_link("d5" * 16) is not None  # not seen: a wide range
    assert tempo(http, "http://t").trace_link("ab") is None  # no Grafana configured


@pytest.mark.parametrize(
    ("status", "body", "error", "message", "attempts"),
    [
        (502, "bad gateway", TransientBackendError, "HTTP 502", 2),
        (200, "<html>", BackendError, "malformed JSON", 1),
        (200, '{"traces": "x"}', BackendError, "traces is not an array", 1),
        (200, '{"traces": [{"traceID": "xyz"}]}', BackendError, "not a hex id", 1),
        (400, "invalid TraceQL query", BackendError, "HTTP 400", 1),
    ],
)
async def test_search_failures_are_backend_errors(
    http: httpx.AsyncClient,
    status: int,
    body: str,
    error: type[BackendError],
    message: str,
    attempts: int,
) -> None:
    with running_canned_server(status, body) as server:
        with pytest.raises(error, match=message) as caught:
            await tempo(http, server.url).find_traces(TraceQuery(window=HOUR))
        assert type(caught.value) is error
        assert len(server.received) == attempts
        assert server.decoded_paths[0].startswith("/api/search?q={ }&start=")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"batches": "x"}', "batches is not an array"),
        ('{"data": []}', "no resourceSpans or batches"),
        ('{"batches": [{"scopeSpans": [{"spans": [{"name": "x"}]}]}]}', "without traceId"),
    ],
)
async def test_trace_with_the_wrong_shape(http: httpx.AsyncClient, body: str, message: str) -> None:
    with running_canned_server(200, body) as server, pytest.raises(BackendError, match=message):
        await tempo(http, server.url).get_trace("ab" * 16)


async def test_unknown_trace_slow_and_unreachable(http: httpx.AsyncClient) -> None:
    with running_canned_server(404, "trace not found", content_type="text/plain") as server:
        assert await tempo(http, server.url).get_trace("ab" * 16) == []
    with (
        running_canned_server(200, "{}", delay_s=0.3) as server,
        pytest.raises(BackendTimeout),
    ):
        await tempo(http, server.url, timeout_s=0.05).get_trace("ab")
    with pytest.raises(TransientBackendError, match="unreachable"):
        await tempo(http, unreachable_url()).find_traces(TraceQuery(window=HOUR))
