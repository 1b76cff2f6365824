"""A trace sample spread evenly over a window.

Backends return the *newest* traces matching a query, so one query over a window would sample
only its end. The window is cut into up to :data:`MAX_SLICES` slices of whole buckets, each
asked for an equal share of the budget; where a slice holds more traces than its share, only
its latest part is seen, and the leftover budget refines such slices bucket by bucket. The
sample says how closely it places a change (:attr:`SpreadSample.resolution_s`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tools.backends import TraceQuery, TracesBackend, unique_traces
from tools.concurrency import gather_all
from tools.evidence import TimeWindow
from tools.records import Span

MAX_SLICES = 40  # trace queries per call, at most
MIN_TRACES_PER_SLICE = 10


@dataclass(frozen=True)
class Grid:
    """The buckets of a window: ``count`` of ``width`` seconds from ``first``."""

    window: TimeWindow
    first: datetime
    count: int
    width: float

    def slices(self, buckets: range, per: int) -> list[TimeWindow]:
        """Windows of ``per`` buckets over ``buckets`` (clipped to the window)."""
        out = []
        for i in buckets[::per]:
            start = max(self.first + timedelta(seconds=i * self.width), self.window.start)
            last = min(i + per, buckets.stop)
            end = min(self.first + timedelta(seconds=last * self.width), self.window.end)
            if end > start:
                out.append(TimeWindow(start=start, end=end))
        return out


@dataclass(frozen=True)
class SpreadSample:
    """The traces sampled, and how closely they place a change in time."""

    traces: list[list[Span]]
    resolution_s: float  # how closely the sample places a change
    short: int  # slices the sample saw only the latest part of
    slices: int


async def spread_sample(backend: TracesBackend, grid: Grid, budget: int) -> SpreadSample:
    """Traces spread over the window: up to :data:`MAX_SLICES` slices of whole buckets share
    ``budget``; what the slices with fewer traces leave unspent goes, bucket by bucket, to the
    slices that held more than their share (a backend returns the newest traces of a slice, so
    of those only the latest part was seen)."""
    count = max(1, min(grid.count, MAX_SLICES, budget // MIN_TRACES_PER_SLICE))
    per = math.ceil(grid.count / count)
    slices = grid.slices(range(grid.count), per)
    limit = max(1, budget // len(slices))
    pages = await _pages(backend, slices, limit)
    short = [w for w, page in zip(slices, pages, strict=True) if len(page) >= limit]
    finer = [b for w in short for b in _buckets_of(grid, w)] if per > 1 else []
    left = budget - sum(len(page) for page in pages)
    refined = bool(finer) and left >= len(finer)
    if refined:
        pages += await _pages(backend, finer, left // len(finer))
    placed = not short or per == 1 or refined
    resolution = grid.width if placed else max(w.duration.total_seconds() for w in short)
    return SpreadSample(
        list(unique_traces(t for page in pages for t in page).values()),
        resolution,
        len(short),
        len(slices),
    )


async def _pages(
    backend: TracesBackend, windows: Sequence[TimeWindow], limit: int
) -> list[list[list[Span]]]:
    return list(
        await gather_all(*(backend.find_traces(TraceQuery(window=w, limit=limit)) for w in windows))
    )


def _buckets_of(grid: Grid, window: TimeWindow) -> list[TimeWindow]:
    origin = grid.first.timestamp()
    low = int((window.start.timestamp() - origin) // grid.width)
    high = math.ceil((window.end.timestamp() - origin) / grid.width)
    return grid.slices(range(low, high), 1)
