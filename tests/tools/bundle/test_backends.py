from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.bundles import T0
from tools.backends import LogQuery, TraceQuery
from tools.bundle.backends import BundleLogs, BundleMetrics, BundleTraces
from tools.bundle.reader import Bundle, load_bundle
from tools.elasticsearch.settings import LogFields
from tools.evidence import TimeWindow
from tools.links import Links
from tools.records import LogLevel, Span
from tools.settings import LinksSettings

HOUR = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
LATE = TimeWindow(start=T0 + timedelta(minutes=40), end=T0 + timedelta(hours=1))


async def test_log_search_filters_and_counts(small_bundle: Path) -> None:
    logs = BundleLogs(load_bundle(small_bundle), Links(LinksSettings()), LogFields())
    page = await logs.search(
        LogQuery(
            window=HOUR,
            services=("api",),
            min_level=LogLevel.ERROR,
            text="acquiring CONNECTION",
            limit=5,
        )
    )
    assert page.total == 80
    assert len(page.records) == 5
    assert page.truncated
    assert all(r.service == "api" and r.level is LogLevel.ERROR for r in page.records)
    counts = await logs.count_by_service(LogQuery(window=LATE, min_level=LogLevel.ERROR))
    assert counts == {"api": 80, "web": 80}
    early = await logs.count_by_service(
        LogQuery(window=HOUR.split(LATE.start)[0] or HOUR, min_level=LogLevel.ERROR)
    )
    assert early == {}


async def test_log_query_is_described_as_kql_with_a_kibana_link(small_bundle: Path) -> None:
    links = Links(LinksSettings(kibana_url="http://kibana:5601"))
    logs = BundleLogs(load_bundle(small_bundle), links, LogFields(service="app"))
    info = logs.describe(
        LogQuery(window=HOUR, services=("api",), min_level=LogLevel.ERROR, text='say "hi"')
    )
    assert info.text == (
        'app:("api") and log.level:(error or fatal or critical) and message:"say \\"hi\\""'
    )
    assert info.link is not None and info.link.startswith("http://kibana:5601/app/discover#/")


async def test_metric_series_are_cut_to_the_window(small_bundle: Path) -> None:
    metrics = BundleMetrics(load_bundle(small_bundle), Links(LinksSettings()))
    assert await metrics.signals() == ["error_ratio", "latency_p99_seconds"]
    series = await metrics.series("error_ratio", LATE, timedelta(seconds=15))
    assert {s.service for s in series} == {"web", "api", "db"}
    assert all(len(s.timestamps) == 20 for s in series)
    assert metrics.describe("error_ratio", LATE, "api").text == 'error_ratio{service="api"}'


async def test_traces_are_found_whole_and_newest_first(small_bundle: Path) -> None:
    traces = BundleTraces(load_bundle(small_bundle), Links(LinksSettings()))
    found = await traces.find_traces(
        TraceQuery(window=LATE, service="api", errors_only=True, limit=3)
    )
    assert len(found) == 3
    assert all(len(spans) == 3 for spans in found)
    starts = [min(s.start for s in spans) for spans in found]
    assert starts == sorted(starts, reverse=True)
    assert await traces.get_trace("nope") == []
    query = traces.describe(TraceQuery(window=LATE, service="api", errors_only=True))
    assert query.text == '{ resource.service.name = "api" && status = error }'


async def test_a_trace_is_found_by_any_span_in_the_window_whatever_its_first(
    tmp_path: Path,
) -> None:
    """Traces are passed over by the span starts they cover, not looked into: one that began
    before the window and has a span in it is found; one that ended before it, or began at its
    end (closed-open), is not."""
    at = T0 + timedelta(minutes=40)

    def span(trace: str, n: int, minutes: float) -> Span:
        start = (at + timedelta(minutes=minutes)).timestamp()
        return Span(trace, f"{trace}{n}", None, "api", "GET /", start, 5.0)

    spans = [
        span("straddles", 1, -30),
        span("straddles", 2, 5),
        span("before", 1, -30),
        span("before", 2, -0.01),
        span("inside", 1, 10),
        span("at-end", 1, 20),
    ]
    bundle = Bundle(tmp_path, {}, None, None, spans, None, None, [])
    traces = BundleTraces(bundle, Links(LinksSettings()))
    found = await traces.find_traces(TraceQuery(window=LATE))
    assert [t[0].trace_id for t in found] == ["inside", "straddles"]
    assert await traces.find_traces(TraceQuery(window=LATE, service="db")) == []
