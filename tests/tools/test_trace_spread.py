"""spread_sample: a trace sample spread over a window, whatever the backend returns first."""

from __future__ import annotations

from datetime import timedelta

from tests.bundles import T0
from tools.backends import QueryInfo, TraceQuery
from tools.evidence import TimeWindow
from tools.records import Span
from tools.trace_spread import MAX_SLICES, Grid, spread_sample

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(minutes=10))
WIDTH = 5.0
GRID = Grid(WINDOW, T0, 120, WIDTH)  # 120 buckets of 5 s


class NewestFirst:
    """A traces backend as real ones behave: the newest ``limit`` traces of the window asked
    for, one span each; it records every query."""

    name = "fake"

    def __init__(self, every_s: float, from_s: float = 0.0) -> None:
        count = int((WINDOW.duration.total_seconds() - from_s) / every_s)
        start = T0.timestamp() + from_s
        self.spans = [
            Span(f"{i:032x}", "s", None, "web", "GET /", start + i * every_s, 10.0)
            for i in range(count)
        ]
        self.queries: list[TraceQuery] = []

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        self.queries.append(query)
        low, high = query.window.start.timestamp(), query.window.end.timestamp()
        inside = [s for s in self.spans if low <= s.start < high]
        return [[s] for s in sorted(inside, key=lambda s: -s.start)[: query.limit]]

    async def get_trace(self, trace_id: str) -> list[Span]:
        return []

    def describe(self, query: TraceQuery) -> QueryInfo:
        return QueryInfo("fake", None)

    def trace_link(self, trace_id: str) -> str | None:
        return None


async def test_a_sparse_window_is_sampled_whole_and_placed_to_a_bucket() -> None:
    backend = NewestFirst(every_s=10.0)  # 60 traces, budget 400: every slice holds fewer
    sample = await spread_sample(backend, GRID, 400)
    assert len(sample.traces) == 60 and sample.short == 0
    assert sample.resolution_s == WIDTH
    assert len(backend.queries) == sample.slices == MAX_SLICES


async def test_slices_busier_than_their_share_get_what_the_others_left_bucket_by_bucket() -> None:
    # a trace a second in the last 2 minutes only (a recording that begins late): 8 slices of
    # 15 s hold 15 each and are asked for 10; what the 32 empty slices left refines those 8
    # per 5 s bucket, so all 120 are seen and a change is placed to a bucket
    backend = NewestFirst(every_s=1.0, from_s=480.0)
    sample = await spread_sample(backend, GRID, 400)
    assert sample.short == 8 and sample.resolution_s == WIDTH
    assert all(q.limit == 400 // MAX_SLICES for q in backend.queries[:MAX_SLICES])
    refined = backend.queries[MAX_SLICES:]
    assert len(refined) == 24 and all(q.window.duration == timedelta(seconds=5) for q in refined)
    assert len(sample.traces) == 120  # each trace once, though asked for twice


async def test_without_budget_to_refine_a_change_is_placed_to_within_a_slice() -> None:
    backend = NewestFirst(every_s=1.0)
    sample = await spread_sample(backend, GRID, 400)  # 10 per slice, nothing left over
    assert sample.short == MAX_SLICES and len(backend.queries) == MAX_SLICES
    assert sample.resolution_s == 3 * WIDTH  # a slice: only its latest 10 s were seen
    assert len(sample.traces) == 400
