"""The protocols telemetry backends implement, and the queries they take.

Each protocol has a production implementation (Elasticsearch, Prometheus, Jaeger, Tempo) and
the embedded bundle implementation (``tools.bundle``). Backends are read-only, async and
time-bounded. They raise :class:`bot.errors.BackendError` for an expected failure (unreachable,
HTTP error, malformed answer); the tool layer turns that into a structured failure.

Every query can be *described*: ``describe()`` returns the exact query text in the backend's own
language (Elasticsearch DSL / KQL, PromQL, Jaeger search) and a deep link to see the same data,
which become an evidence item's ``query`` and ``link``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from bot.evidence import TimeWindow
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


@runtime_checkable
class LogsBackend(Protocol):
    name: str

    async def search(self, query: LogQuery) -> LogPage:
        """Records matching ``query``, oldest first, at most ``query.limit``."""
        ...

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        """Number of matching records per service (``limit`` is ignored)."""
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
class ChangesBackend(Protocol):
    name: str

    async def changes(self, window: TimeWindow, services: tuple[str, ...] = ()) -> list[Change]:
        """Deploys and other changes in ``window``, oldest first."""
        ...

    def describe(self, window: TimeWindow, services: tuple[str, ...] = ()) -> QueryInfo: ...
