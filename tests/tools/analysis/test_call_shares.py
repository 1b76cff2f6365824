"""The share of a caller's traces that make a call, normal and at the incident's mix of callers."""

from __future__ import annotations

import pytest

from tests.tools.analysis.test_trace_periods import SPLIT, _edge, _stats, asked_by
from tools.analysis.call_shares import call_change, normal_share, share_at_callers_mix
from tools.analysis.span_attribution import analyze_traces
from tools.analysis.trace_periods import PeriodStats
from tools.records import Span


def _mixed(prefix: str, start: float, travel: int, travel2: int) -> list[list[Span]]:
    """seat asks order for the trains travel asks about, other for travel2's."""
    traces = [asked_by("travel", f"{prefix}a{i}", start + i, "order") for i in range(travel)]
    traces += [
        asked_by("travel2", f"{prefix}b{i}", start + 50 + i, "other") for i in range(travel2)
    ]
    return traces


def test_a_call_made_less_because_fewer_requests_came_from_its_caller_is_no_stop() -> None:
    """travel failed before calling seat (2023-01-29 10:04): seat's calls to order fell from
    20 of 30 of its traces to 2 of 22, all of them still made when travel asks."""
    normal, incident = _stats(*_mixed("b", 900, 20, 10)), _stats(*_mixed("i", 1001, 2, 20))
    assert share_at_callers_mix(normal, incident, "seat", "order") == pytest.approx(2 / 22)
    found = analyze_traces([*_mixed("b", 900, 20, 10), *_mixed("i", 1001, 2, 20)], SPLIT)
    order = _edge(found.edges, "order")
    assert (order.baseline_with, order.baseline_through) == (20, 30)  # as counted, for the text
    assert order.call_share(incident=False) == pytest.approx(2 / 22)
    assert order.call_surprise == 0.0 and not order.call_stopped


def test_a_call_seat_stopped_making_for_the_same_callers_is_a_stop() -> None:
    traces = _mixed("b", 900, 20, 10)
    traces += [asked_by("travel", f"i{i}", 1001 + i) for i in range(20)]  # order no more
    traces += _mixed("j", 1030, 0, 10)
    order = _edge(analyze_traces(traces, SPLIT).edges, "order")
    assert order.call_share(incident=False) == pytest.approx((20 * 1.0 + 10 * 0.0) / 30)
    assert order.call_stopped


def test_a_caller_group_normal_barely_saw_counts_at_the_overall_share() -> None:
    normal = _stats(*_mixed("b", 900, 20, 10))
    incident = _stats(*[asked_by("web", f"w{i}", 1001 + i, "order") for i in range(10)])
    assert share_at_callers_mix(normal, incident, "seat", "order") == pytest.approx(20 / 30)
    assert share_at_callers_mix(PeriodStats(), incident, "seat", "order") is None


def test_the_mix_explains_a_change_but_is_no_evidence_of_one() -> None:
    """ts-travel-service on a fault-free phase of 2023-01-30: through the gateway it called
    basic in 7 of 7 traces before the split and 2 of 8 after; overall 9 of 13 → 2 of 9. At the
    incident's mix normal is 97 %, which alone says p ~ 5e-5; as it was, p ~ 0.03."""
    assert call_change(9, 13, 0.966, 2, 9) == pytest.approx(call_change(9, 13, None, 2, 9))
    assert call_change(9, 13, 0.966, 2, 9) < 3 < call_change(round(0.966 * 13), 13, None, 2, 9)


def test_a_change_one_way_as_it_was_and_the_other_at_the_mix_is_none() -> None:
    assert call_change(5, 40, None, 30, 40) > 3  # 12 % → 75 %: started
    assert call_change(5, 40, 0.95, 30, 40) == 0.0  # at the incident's mix it fell


def test_the_normal_share_is_the_nearer_of_the_two() -> None:
    assert normal_share(20, 30, 2 / 22, 2 / 22) == pytest.approx(2 / 22)
    assert normal_share(20, 30, 0.95, 0.5) == pytest.approx(20 / 30)
    assert normal_share(20, 30, None, 0.0) == pytest.approx(20 / 30)
