"""Critical path as Jaeger's UI computes it, on small hand-built traces with exact answers.

Times are written in milliseconds from the trace start; ``approx`` only absorbs float noise
from converting to epoch seconds and back.
"""

from __future__ import annotations

import time

import pytest

from tools.analysis.critical_path import critical_self_ms
from tools.records import Span

T0 = 1_675_000_000.0  # a realistic epoch, so precision is tested where it matters


def _span(sid: str, parent: str | None, start_ms: float, ms: float, service: str = "a") -> Span:
    return Span(
        trace_id="t",
        span_id=sid,
        parent_id=parent,
        service=service,
        operation="op",
        start=T0 + start_ms / 1000.0,
        duration_ms=ms,
    )


def _critical(*spans: Span) -> dict[str, float]:
    return {s.span_id: ms for s, ms in zip(spans, critical_self_ms(spans), strict=True)}


def _exact(expected: dict[str, float]) -> object:
    return pytest.approx(expected, abs=1e-3)


def test_sequential_children_are_all_on_the_path() -> None:
    got = _critical(
        _span("root", None, 0, 100),
        _span("a", "root", 10, 30),  # 10..40
        _span("b", "root", 50, 40),  # 50..90
    )
    assert got == _exact({"root": 30, "a": 30, "b": 40})


def test_parallel_fan_out_counts_only_the_longest_branch() -> None:
    got = _critical(
        _span("root", None, 0, 100),
        _span("fast", "root", 10, 40),  # 10..50, waited on by nobody
        _span("slow", "root", 10, 80),  # 10..90
        _span("under-fast", "fast", 20, 20),
    )
    assert got == _exact({"root": 20, "fast": 0, "slow": 80, "under-fast": 0})


def test_a_sibling_overlapping_the_critical_child_is_not_on_the_path() -> None:
    # Jaeger's own example: after the last finisher (z, starts at 15) the walk takes the child
    # that ended last *before 15*, which is x; y overlaps z and is skipped
    got = _critical(
        _span("root", None, 0, 30),
        _span("x", "root", 0, 10),
        _span("y", "root", 5, 15),  # 5..20
        _span("z", "root", 15, 15),  # 15..30
    )
    assert got == _exact({"root": 5, "x": 10, "y": 0, "z": 15})


def test_children_overrunning_their_parent_are_clipped() -> None:
    got = _critical(
        _span("root", None, 0, 100),
        _span("late", "root", 60, 90),  # 60..150, clipped to 60..100
        _span("early", "root", -20, 50),  # -20..30, clipped to 0..30
        _span("inside-late", "late", 70, 50),  # 70..120, clipped to 70..100 by clipped 'late'
    )
    assert got == _exact({"root": 30, "late": 10, "early": 30, "inside-late": 30})


def test_children_outside_their_parent_are_dropped_with_their_subtree() -> None:
    got = _critical(
        _span("root", None, 0, 100),
        _span("after", "root", 100, 50),  # fire-and-forget: starts when the parent ended
        _span("before", "root", -50, 50),  # ends when the parent starts
        _span("below-after", "after", 110, 10),
    )
    assert got == _exact({"root": 100, "after": 0, "before": 0, "below-after": 0})


def test_orphans_are_roots_of_their_own_critical_path() -> None:
    got = _critical(
        _span("root", None, 0, 100),
        _span("a", "root", 10, 50),
        _span("orphan", "never-exported", 20, 30),  # its parent is missing from the trace
        _span("orphan-child", "orphan", 25, 10),
    )
    assert got == _exact({"root": 50, "a": 50, "orphan": 20, "orphan-child": 10})


def test_zero_duration_spans() -> None:
    got = _critical(
        _span("root", None, 0, 10),
        _span("instant-start", "root", 0, 0),
        _span("instant-mid", "root", 5, 0),
        _span("instant-end", "root", 10, 0),  # at the parent's end: outside, dropped
        _span("empty-root", None, 50, 0),
    )
    assert got == _exact(
        {"root": 10, "instant-start": 0, "instant-mid": 0, "instant-end": 0, "empty-root": 0}
    )


def test_a_cycle_in_parent_ids_is_broken_at_its_earliest_span() -> None:
    got = _critical(
        _span("b", "a", 2, 5),  # 2..7
        _span("a", "b", 0, 10),  # 0..10: earliest, so it becomes the root
        _span("c", "b", 3, 2),  # hangs off the cycle
        _span("self", "self", 20, 4),  # its own parent
    )
    assert got == _exact({"a": 5, "b": 3, "c": 2, "self": 4})


def test_duplicate_span_ids_do_not_loop() -> None:
    got = critical_self_ms([_span("x", None, 0, 10), _span("x", "x", 2, 5), _span("y", "x", 3, 1)])
    assert got == pytest.approx([5, 5, 0], abs=1e-3)


def test_a_ten_thousand_deep_chain_is_walked_without_recursion() -> None:
    depth = 10_000
    # span i runs from 0.1·i ms to 2000 - 0.1·i ms: each owns 0.1 ms at either end
    chain = [
        _span(str(i), str(i - 1) if i else None, 0.1 * i, 2000 - 0.2 * i) for i in range(depth)
    ]
    started = time.perf_counter()
    got = critical_self_ms(chain)
    assert time.perf_counter() - started < 5  # linear, not quadratic
    assert got == pytest.approx([0.2] * depth, abs=1e-3)
    assert sum(got) == pytest.approx(2000, abs=1e-3)


def test_a_wide_fan_out_is_walked_once_per_child() -> None:
    # 20,000 children, each ending just before the next starts: all on the path
    width = 20_000
    spans = [_span("root", None, 0, 2 * width)]
    spans += [_span(f"c{i}", "root", 2 * i + 1, 1) for i in range(width)]
    got = critical_self_ms(spans)
    assert got[1:] == pytest.approx([1.0] * width, abs=1e-3)
    assert sum(got) == pytest.approx(2 * width, abs=1e-3)  # the sections tile the root
    # epoch-second stamps round each 1 ms child the same way; 20,000 of them add up
    assert got[0] == pytest.approx(width, rel=1e-4)
