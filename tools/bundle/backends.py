"""The embedded bundle backend: the backend protocols served from a loaded bundle.

The queries these backends *describe* are the ones that fetch the same data from a real stack
after ``rcabot load``: KQL for Elasticsearch, the series selector for Prometheus, TraceQL for
Tempo. That keeps evidence from an offline investigation re-checkable in production tools.

A bundle's reference period (``reference/``) is served by the same backends, beside the
incident's data: a reference is just another time window on the same backends, as it is on
live ones, and a query for that window returns it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from tools.backends import (
    LogHistogram,
    LogPage,
    LogQuery,
    QueryInfo,
    TraceQuery,
    histogram_buckets,
)
from tools.bundle.metrics_file import SeriesKey, series_of
from tools.bundle.reader import Bundle
from tools.elasticsearch.settings import LogFields
from tools.evidence import TimeWindow
from tools.kql import kql
from tools.kql import quote as kql_quote
from tools.links import Links
from tools.records import Change, LogRecord, MetricSeries, Span
from tools.traceql import traceql

NAME = "bundle"


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\W+", text.lower()) if w]


class BundleLogs:
    name = NAME

    def __init__(self, bundle: Bundle, links: Links, fields: LogFields) -> None:
        reference = bundle.reference.logs if bundle.reference else None
        self._records = sorted([*(bundle.logs or ()), *(reference or ())], key=lambda r: r.ts)
        self._links = links
        self._fields = fields

    def _matching(self, query: LogQuery) -> list[LogRecord]:
        start, end = query.window.start, query.window.end
        services = set(query.services)
        words = _words(query.text) if query.text else []
        out = []
        for record in self._records:
            if not start <= record.ts < end:
                continue
            if services and record.service not in services:
                continue
            if query.min_level is not None and record.level < query.min_level:
                continue
            if query.trace_id and record.trace_id != query.trace_id:
                continue
            if words:
                message = record.message.lower()
                if not all(w in message for w in words):
                    continue
            out.append(record)
        return out

    async def search(self, query: LogQuery) -> LogPage:
        matching = self._matching(query)
        return LogPage(records=matching[: query.limit], total=len(matching))

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self._matching(query):
            counts[record.service] = counts.get(record.service, 0) + 1
        return counts

    async def histogram(self, query: LogQuery, interval: timedelta) -> LogHistogram:
        start, buckets = histogram_buckets(query.window, interval)
        counts: dict[str, list[int]] = {}
        width = interval.total_seconds()
        origin = start.timestamp()
        for record in self._matching(query):
            row = counts.setdefault(record.service, [0] * buckets)
            row[int((record.ts.timestamp() - origin) // width)] += 1
        return LogHistogram(start=start, interval=interval, counts=counts)

    def describe(self, query: LogQuery) -> QueryInfo:
        text = kql(query, self._fields)
        link = self._links.kibana_discover(text, query.window) or self._links.bundle_file(
            "logs.jsonl", f"kql={text}"
        )
        return QueryInfo(text=text, link=link)


class BundleMetrics:
    name = NAME

    def __init__(self, bundle: Bundle, links: Links) -> None:
        reference = bundle.reference.metrics if bundle.reference else None
        own = bundle.metrics or []
        self._series = _merged(own, reference) if reference else own
        self._links = links

    async def signals(self) -> list[str]:
        return sorted({s.metric for s in self._series})

    async def series(self, signal: str, window: TimeWindow, step: timedelta) -> list[MetricSeries]:
        lo, hi = window.start.timestamp(), window.end.timestamp()
        cut = (s.between(lo, hi) for s in self._series if s.metric == signal)
        return [series for series in cut if series.timestamps]

    def describe(self, signal: str, window: TimeWindow, service: str | None = None) -> QueryInfo:
        text = f"{signal}{{service={kql_quote(service)}}}" if service else signal
        link = self._links.metrics(text, window) or self._links.bundle_file(
            "metrics.csv", f"metric={signal}" + (f"&service={service}" if service else "")
        )
        return QueryInfo(text=text, link=link)


def _merged(*groups: Iterable[MetricSeries]) -> list[MetricSeries]:
    """One series per metric, service and labels, whichever group (incident, reference) its
    samples came from: what a live backend returns for a window spanning both. A moment an
    earlier group already holds for that series (a reference cut from the same store as the
    incident's look-back) keeps the earlier group's sample, not two."""
    points: dict[SeriesKey, list[tuple[float, float]]] = {}
    for group in groups:
        held = {key: {t for t, _ in samples} for key, samples in points.items()}
        for series in group:
            key = (series.metric, series.service, tuple(sorted(series.labels.items())))
            before = held.get(key, set())
            points.setdefault(key, []).extend(
                (t, v)
                for t, v in zip(series.timestamps, series.values, strict=True)
                if t not in before
            )
    return series_of(points)


def by_trace(spans: Iterable[Span]) -> dict[str, list[Span]]:
    """``spans`` grouped into their traces, by trace id."""
    traces: dict[str, list[Span]] = {}
    for span in spans:
        traces.setdefault(span.trace_id, []).append(span)
    return traces


class BundleTraces:
    name = NAME

    def __init__(self, bundle: Bundle, links: Links) -> None:
        self._links = links
        # the reference period's traces are kept apart: an id reused there is another trace
        self._traces = by_trace(bundle.spans or [])
        self._reference = by_trace(bundle.reference.spans or []) if bundle.reference else {}
        every = [*self._traces.values(), *self._reference.values()]
        # newest first, each with the first and last start of its spans
        self._order = sorted(
            ((min(s.start for s in t), max(s.start for s in t), t) for t in every if t),
            key=lambda entry: entry[0],
            reverse=True,
        )

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        # select_traces() over self._order, stopping early: the order is already newest first;
        # a trace none of whose spans starts in the window is passed over without a look
        found: list[list[Span]] = []
        start, end = query.bounds
        for first, last, spans in self._order:
            if first >= end or last < start:
                continue
            if any(query.matches(s) for s in spans):
                found.append(spans)
                if len(found) >= query.limit:
                    break
        return found

    async def get_trace(self, trace_id: str) -> list[Span]:
        return list(self._traces.get(trace_id) or self._reference.get(trace_id, []))

    def describe(self, query: TraceQuery) -> QueryInfo:
        text = traceql(query)
        link = None
        if query.service:
            link = self._links.jaeger_search(
                query.service, query.window, errors_only=query.errors_only
            )
        link = link or self._links.grafana_explore_traceql(text, query.window)
        return QueryInfo(text=text, link=link or self._links.bundle_file("traces.jsonl"))

    def trace_link(self, trace_id: str) -> str | None:
        return self._links.jaeger_trace(trace_id) or self._links.bundle_file(
            "traces.jsonl", f"trace_id={trace_id}"
        )


class BundleChanges:
    name = NAME

    def __init__(self, bundle: Bundle, links: Links) -> None:
        self._changes = sorted(bundle.changes or [], key=lambda c: c.ts)
        self._links = links

    async def changes(self, window: TimeWindow, services: tuple[str, ...] = ()) -> list[Change]:
        return [
            c
            for c in self._changes
            if window.contains(c.ts) and (not services or c.service in services)
        ]

    def describe(self, window: TimeWindow, services: tuple[str, ...] = ()) -> QueryInfo:
        text = f"changes between {window.start.isoformat()} and {window.end.isoformat()}"
        if services:
            text += " for " + ", ".join(services)
        return QueryInfo(text=text, link=self._links.bundle_file("changes.jsonl"))
