"""Which calls go together in a trace, and the call made instead of one that stopped."""

from __future__ import annotations

import pytest

from tests.tools.analysis.spans import span
from tools.analysis.span_attribution import EdgeFinding, analyze_traces
from tools.analysis.trace_periods import (
    PeriodStats,
    add_trace,
    call_taken_instead,
    called_by,
)
from tools.records import Span

SPLIT = 1000.0


def _trace(trace: str, start: float, *callees: str, failing: str = "") -> list[Span]:
    """seat (server) calling each of ``callees`` (a client span and the callee's server
    span); the callee named by ``failing`` fails."""
    spans = [span(trace, "root", None, "seat", start, 10)]
    for n, callee in enumerate(callees):
        spans.append(span(trace, f"c{n}", "root", "seat", start, 10, kind="client"))
        spans.append(span(trace, f"s{n}", f"c{n}", callee, start, 10, error=callee == failing))
    return spans


def _stats(*traces: list[Span]) -> PeriodStats:
    stats = PeriodStats()
    for spans in traces:
        add_trace(stats, spans)
    return stats


def _edge(found: list[EdgeFinding], callee: str) -> EdgeFinding:
    return next(e for e in found if (e.caller, e.callee) == ("seat", callee))


def test_calls_made_in_one_trace_are_counted_as_pairs() -> None:
    stats = _stats(_trace("a", 1, "config", "order"), _trace("b", 2, "order", "config", "other"))
    assert stats.call_pairs[("seat", "config", "order")] == 2
    assert stats.call_pairs[("seat", "config", "other")] == 1
    assert stats.call_pairs[("seat", "order", "other")] == 1
    assert stats.service_traces["seat"] == 2 and stats.edge_traces[("seat", "other")] == 1


def _either_or(prefix: str, start: float, order: int, other: int) -> list[list[Span]]:
    """Traces through seat that call config, and order or other (never both)."""
    return [
        _trace(f"{prefix}{i}", start + i, "config", "order" if i < order else "other")
        for i in range(order + other)
    ]


def test_a_call_replaced_by_the_other_arm_of_a_choice_is_the_input_not_the_code() -> None:
    """The seat service asks order or other for sold tickets, by train type: more requests
    for the other type move calls from one arm to the other, and nothing stopped."""
    normal = _stats(*_either_or("b", 900, 20, 10))
    incident = _stats(*_either_or("i", 1001, 4, 26))
    assert call_taken_instead(normal, incident, "seat", "order") == "other"
    found = analyze_traces([*_either_or("b", 900, 20, 10), *_either_or("i", 1001, 4, 26)], SPLIT)
    order, other = _edge(found.edges, "order"), _edge(found.edges, "other")
    assert order.call_surprise > 3  # the share moved, significantly
    assert (order.other_arm, other.other_arm) == ("other", "order")
    assert not order.call_stopped


def test_a_rare_arm_taking_over_is_still_the_other_arm() -> None:
    """28 and 7 of 35 traces before, 31 and 40 of 71 since (ts-seat-service asking
    ts-order-service or ts-order-other-service by train type, Nezha 2023-01-29 10:04)."""
    normal = _stats(*_either_or("b", 900, 28, 7))
    incident = _stats(*_either_or("i", 1001, 31, 40))
    assert call_taken_instead(normal, incident, "seat", "order") == "other"


@pytest.mark.parametrize(
    ("normal", "incident"),
    [
        pytest.param(
            [*_either_or("b", 900, 18, 6), _trace("bb", 950, "config", "order", "other")],
            _either_or("i", 1001, 4, 26),
            id="the two calls were made together once: not two arms",
        ),
        pytest.param(
            _either_or("b", 900, 27, 3),
            _either_or("i", 1001, 4, 26),
            id="an arm in fewer traces than MIN_SAMPLES: no arm taken as a rule",
        ),
        pytest.param(
            _either_or("b", 900, 20, 10),
            [_trace(f"i{i}", 1001 + i, "config") for i in range(30)],
            id="neither arm taken: the path was cut short",
        ),
    ],
)
def test_a_stopped_call_that_is_not_the_other_arm_of_a_choice_stays_a_change(
    normal: list[list[Span]], incident: list[list[Span]]
) -> None:
    assert call_taken_instead(_stats(*normal), _stats(*incident), "seat", "order") is None
    order = _edge(analyze_traces([*normal, *incident], SPLIT).edges, "order")
    assert order.other_arm is None and order.call_stopped


def test_a_call_made_in_more_of_the_traces_was_not_replaced_by_anything() -> None:
    """The arm that took over is no stop: only the call made less often has an arm instead."""
    normal = _stats(*_either_or("b", 900, 20, 10))
    incident = _stats(*_either_or("i", 1001, 4, 26))
    assert call_taken_instead(normal, incident, "seat", "other") is None
    assert call_taken_instead(normal, incident, "seat", "order") == "other"


def test_a_call_stopped_after_another_call_failed_is_explained_by_it() -> None:
    """seat stops calling order in the traces where its call to config failed first."""
    normal = [_trace(f"b{i}", 900 + i, "config", "order") for i in range(20)]
    reacting = [_trace(f"i{i}", 1001 + i, "config", failing="config") for i in range(15)]
    calling = [_trace(f"j{i}", 1020 + i, "config", "order") for i in range(5)]
    order = _edge(analyze_traces([*normal, *reacting, *calling], SPLIT).edges, "order")
    assert order.call_stopped and order.incident_without_failed == 15
    assert order.stop_explained == 1.0
    own = [_trace(f"i{i}", 1001 + i, "config") for i in range(15)]  # nothing failed below
    order = _edge(analyze_traces([*normal, *own, *calling], SPLIT).edges, "order")
    assert order.call_stopped and order.stop_explained == 0.0


def test_answered_calls_and_the_longest_unanswered_one_per_trace_are_kept() -> None:
    """Per callee: how long each answered call took, and per trace whose errors originate in
    calls to it that got no answer, the longest of those calls (one wait per trace)."""
    lost = [
        span("l", "root", None, "seat", 0, 2100),
        span("l", "c0", "root", "seat", 0, 500, error=True, kind="client",
             **{"peer.service": "price"}),
        span("l", "c1", "root", "seat", 0.5, 1500, error=True, kind="client",
             **{"peer.service": "price"}),
    ]  # fmt: skip
    stats = _stats(_trace("a", 0, "price"), lost)
    assert stats.answered_ms["price"] == [10]
    assert stats.unanswered_ms["price"] == [1500]
    assert stats.origin_traces["price"] == 1


def asked_by(caller: str, trace: str, start: float, *callees: str) -> list[Span]:
    """``caller`` (server span, then a client span) calling seat, which calls ``callees``."""
    seat = _trace(trace, start, *callees)
    head = [
        span(trace, "in", None, caller, start, 20),
        span(trace, "out", "in", caller, start, 15, kind="client"),
    ]
    root = seat[0]
    return [*head, span(trace, root.span_id, "out", "seat", start, 10), *seat[1:]]


def test_who_called_a_service_is_the_service_of_the_spans_its_own_hang_under() -> None:
    spans = asked_by("travel", "t", 1, "order")
    assert called_by(spans) == {"travel": "", "seat": "travel", "order": "seat"}
