"""An in-memory metrics backend for tool tests: the given series, whatever the step."""

from __future__ import annotations

from datetime import timedelta

from tools.backends import QueryInfo
from tools.evidence import TimeWindow
from tools.records import MetricSeries


class MemoryMetrics:
    """The given series whose every sample lies in the window asked for."""

    name = "memory"

    def __init__(self, series: list[MetricSeries]) -> None:
        self._series = series

    async def signals(self) -> list[str]:
        return sorted({s.metric for s in self._series})

    async def series(self, signal: str, window: TimeWindow, step: timedelta) -> list[MetricSeries]:
        lo, hi = window.start.timestamp(), window.end.timestamp()
        return [
            s
            for s in self._series
            if s.metric == signal and all(lo <= t < hi for t in s.timestamps)
        ]

    def describe(self, signal: str, window: TimeWindow, service: str | None = None) -> QueryInfo:
        return QueryInfo(text=f"{signal}{{service={service}}}", link=None)
