"""The one trace-query semantics every traces backend answers with, and its TraceQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.bundles import T0
from tools.backends import TraceQuery, select_traces
from tools.bundle.backends import BundleTraces
from tools.bundle.reader import load_bundle
from tools.evidence import TimeWindow
from tools.links import Links
from tools.records import Span
from tools.settings import LinksSettings
from tools.traceql import go_duration, traceql


async def test_select_traces_is_the_bundle_answer(small_bundle: Path) -> None:
    bundle = load_bundle(small_bundle)
    reference = BundleTraces(bundle, Links(LinksSettings()))
    traces: dict[str, list[Span]] = {}
    for span in bundle.spans or []:
        traces.setdefault(span.trace_id, []).append(span)
    shuffled = sorted(traces.values(), key=lambda t: t[0].trace_id[::-1])
    window = TimeWindow(start=T0 + timedelta(minutes=12), end=T0 + timedelta(minutes=44))
    for query in (
        TraceQuery(window=window, limit=17),
        TraceQuery(window=window, service="api", errors_only=True),
        TraceQuery(window=window, min_duration=timedelta(milliseconds=50), operation="call api"),
    ):
        expected = await reference.find_traces(query)
        assert select_traces(shuffled + shuffled, query) == expected


def test_go_durations() -> None:
    assert go_duration(timedelta(milliseconds=250)) == "250ms"
    assert go_duration(timedelta(microseconds=1500)) == "1500us"
    assert go_duration(timedelta(seconds=2)) == "2000ms"


def test_bundle_queries_are_described_in_the_same_traceql_tempo_is_sent(
    small_bundle: Path,
) -> None:
    traces = BundleTraces(load_bundle(small_bundle), Links(LinksSettings()))
    query = TraceQuery(
        window=TimeWindow(start=T0, end=T0 + timedelta(hours=1)),
        service='we"b',
        errors_only=True,
        min_duration=timedelta(microseconds=1500),
    )
    assert traces.describe(query).text == traceql(query)
    assert traceql(query) == (
        '{ resource.service.name = "we\\"b" && status = error && duration >= 1500us }'
    )
