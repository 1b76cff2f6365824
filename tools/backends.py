"""The protocols telemetry backends implement, and the queries they take.

Each protocol has a production implementation (Elasticsearch, Prometheus, Jaeger, Tempo) and
the embedded bundle implementation (``tools.bundle``). Backends are read-only, async and
time-bounded. They raise :class:`tools.errors.BackendError` for an expected failure (unreachable,
HTTP error, malformed answer); the tool layer turns that into a structured failure.

Every query can be *described*: ``describe()`` returns the exact query text in the backend's own
language (Elasticsearch DSL / KQL, PromQL, Jaeger search) and a deep link to see the same data,
which become an evidence item's ``query`` and ``link``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from tools.concurrency import gather_all
from tools.evidence import TimeWindow
from tools.postmortems import Hit
from tools.records import Change, LogLevel, LogRecord, MetricSeries, Span


@dataclass(frozen=True, slots=True)
class QueryInfo:
    """The exact query as its backend understands it, and where to see its result."""

    text: str
    link: str | None


class LogQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    window: TimeWindow
    services: tuple[str, ...] = ()
    min_level: LogLevel | None = None
    text: str | None = Field(default=None, description="free text, matched as words, not syntax")
    trace_id: str | None = None
    limit: int = Field(default=500, ge=0, le=10_000)


@dataclass(frozen=True, slots=True)
class LogHistogram:
    """Matching records per service per fixed-size bucket (Elasticsearch ``date_histogram``).

    Bucket ``i`` covers ``[start + i*interval, start + (i+1)*interval)``; ``start`` is the
    window start floored to a multiple of ``interval`` since the epoch. Empty buckets are 0.
    """

    start: datetime
    interval: timedelta
    counts: dict[str, list[int]]  # service → count per bucket, all lists the same length

    @property
    def buckets(self) -> int:
        return max((len(c) for c in self.counts.values()), default=0)

    def totals(self) -> list[int]:
        """Records of every service per bucket (a shorter row counts 0 past its end)."""
        found = [0] * self.buckets
        for row in self.counts.values():
            for i, count in enumerate(row):
                found[i] += count
        return found


def histogram_buckets(window: TimeWindow, interval: timedelta) -> tuple[datetime, int]:
    """First bucket start (window start floored to ``interval`` since the epoch) and count."""
    width = interval.total_seconds()
    if width <= 0:
        raise ValueError("histogram interval must be positive")
    first = math.floor(window.start.timestamp() / width) * width
    count = max(1, math.ceil((window.end.timestamp() - first) / width))
    return datetime.fromtimestamp(first, tz=UTC), count


@dataclass(frozen=True, slots=True)
class LogPage:
    records: list[LogRecord]
    total: int  # matching records, of which ``records`` holds at most ``limit``

    @property
    def truncated(self) -> bool:
        return self.total > len(self.records)


class TraceQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    window: TimeWindow
    service: str | None = None
    operation: str | None = None
    errors_only: bool = False
    min_duration: timedelta | None = None
    limit: int = Field(default=200, ge=1, le=5_000)

    @cached_property
    def bounds(self) -> tuple[float, float]:
        """The window as epoch seconds, ``[start, end)`` (computed once: ``matches`` runs per
        span)."""
        return self.window.start.timestamp(), self.window.end.timestamp()

    def matches(self, span: Span) -> bool:
        """Whether ``span`` satisfies every condition (start in the window, closed-open)."""
        start, end = self.bounds
        if not start <= span.start < end:
            return False
        if self.service and span.service != self.service:
            return False
        if self.operation and span.operation != self.operation:
            return False
        if self.errors_only and not span.error:
            return False
        return not (self.min_duration and span.duration_ms < self.min_duration / MILLISECOND)


MILLISECOND = timedelta(milliseconds=1)


def matching_traces(traces: Iterable[list[Span]], query: TraceQuery) -> list[list[Span]]:
    """Traces (one per id, first seen wins) with a span matching ``query``, order kept."""
    unique: dict[str, list[Span]] = {}
    for spans in traces:
        if spans and any(query.matches(s) for s in spans):
            unique.setdefault(spans[0].trace_id, spans)
    return list(unique.values())


def unique_traces(traces: Iterable[list[Span]]) -> dict[str, list[Span]]:
    """One trace per id, the first copy seen (a trace in two answers, or in two slices of a
    window whose spans it straddles, counts once)."""
    found: dict[str, list[Span]] = {}
    for spans in traces:
        if spans:
            found.setdefault(spans[0].trace_id, spans)
    return found


async def no_traces() -> list[list[Span]]:
    """An awaitable empty answer, for a query not asked (``gather_all`` takes it)."""
    return []


def select_traces(traces: Iterable[list[Span]], query: TraceQuery) -> list[list[Span]]:
    """The answer every :class:`TracesBackend` gives to ``find_traces``: traces with a span
    matching ``query``, one per id, newest first (by their earliest span), at most ``limit``.

    Neither Jaeger (Cassandra intersects per-condition indexes by trace) nor Tempo (filters
    traces by overlap with the window, not span start) matches exactly that, so their backends
    ask for a superset and apply this; the bundle backend applies it to everything.
    """
    found = matching_traces(traces, query)
    found.sort(key=lambda t: min(s.start for s in t), reverse=True)
    return found[: query.limit]


@runtime_checkable
class LogsBackend(Protocol):
    name: str

    async def search(self, query: LogQuery) -> LogPage:
        """Records matching ``query``, oldest first, at most ``query.limit``."""
        ...

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        """Number of matching records per service (``limit`` is ignored)."""
        ...

    async def histogram(self, query: LogQuery, interval: timedelta) -> LogHistogram:
        """Matching records per service per ``interval`` bucket (``limit`` is ignored)."""
        ...

    def describe(self, query: LogQuery) -> QueryInfo: ...


@runtime_checkable
class MetricsBackend(Protocol):
    name: str

    async def signals(self) -> list[str]:
        """Names of the signals this backend can return (``latency_p99_seconds``, ...)."""
        ...

    async def series(self, signal: str, window: TimeWindow, step: timedelta) -> list[MetricSeries]:
        """One series per service for ``signal`` over ``window``."""
        ...

    def describe(
        self, signal: str, window: TimeWindow, service: str | None = None
    ) -> QueryInfo: ...


async def fetch_series(
    metrics: MetricsBackend, signals: Iterable[str], window: TimeWindow | None, step: timedelta
) -> list[MetricSeries]:
    """Every series of each of ``signals`` over ``window``, fetched together (none: no window)."""
    if window is None:
        return []
    groups = await gather_all(*(metrics.series(s, window, step) for s in signals))
    return [series for group in groups for series in group]


@runtime_checkable
class TracesBackend(Protocol):
    name: str

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        """Whole traces (all their spans) with a span matching ``query``; newest first."""
        ...

    async def get_trace(self, trace_id: str) -> list[Span]:
        """All spans of one trace; empty when unknown."""
        ...

    def describe(self, query: TraceQuery) -> QueryInfo: ...

    def trace_link(self, trace_id: str) -> str | None: ...


@runtime_checkable
class PostmortemSearch(Protocol):
    """Past postmortems, searched by meaning and by words (``retrieval.index.PostmortemIndex``)."""

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        services: Sequence[str] = (),
        since: date | None = None,
        until: date | None = None,
    ) -> list[Hit]:
        """The ``k`` best-matching postmortems, one hit per document, best first."""
        ...


@runtime_checkable
class ChangesBackend(Protocol):
    name: str

    async def changes(self, window: TimeWindow, services: tuple[str, ...] = ()) -> list[Change]:
        """Deploys and other changes in ``window``, oldest first."""
        ...

    def describe(self, window: TimeWindow, services: tuple[str, ...] = ()) -> QueryInfo: ...
