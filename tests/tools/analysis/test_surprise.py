"""Exact tests of "is this count above normal, given how much of normal we saw?"."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.analysis.surprise import (
    SIGNIFICANCE,
    rate_rose,
    share_above,
    share_rose,
    smoothed_share,
    values_rose,
)


def _binomial_tail(hits: int, total: int, p: float) -> float:
    """P(X >= hits) for X ~ Binomial(total, p), summed term by term."""
    return sum(math.comb(total, i) * p**i * (1 - p) ** (total - i) for i in range(hits, total + 1))


def test_smoothed_share_adds_half_a_hit_and_half_a_miss() -> None:
    assert smoothed_share(0, 0) == 0.5  # nothing seen: no opinion
    assert smoothed_share(0, 3) == 0.125  # 0 of 3 is not a share of exactly 0
    assert smoothed_share(3, 3) == 0.875  # nor 3 of 3 one of exactly 1
    assert smoothed_share(50, 100) == 0.5


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_a_smoothed_share_is_never_zero_or_one(hits: int, extra: int) -> None:
    share = smoothed_share(hits, hits + extra)
    assert 0.0 < share < 1.0


def test_a_share_far_above_a_well_sampled_normal_is_significant() -> None:
    assert share_rose(3, 3, 0, 99)  # every trace fails where 0 of 99 did


def test_the_same_share_against_a_thin_normal_is_not() -> None:
    assert not share_rose(3, 3, 0, 3)  # 0 of 3 says little about normal
    assert not share_rose(3, 3, 0, 0)  # no normal period at all


def test_a_share_no_higher_than_normal_is_not_significant() -> None:
    assert not share_rose(50, 100, 500, 1000)
    assert not share_rose(10, 100, 500, 1000)


def test_zero_hits_are_never_significant() -> None:
    assert not share_rose(0, 1000, 0, 1000)
    assert not share_rose(0, 0, 0, 0)
    assert not rate_rose(0, 10.0, 0, 1000.0)


def _fisher_tail(hits: int, total: int, normal_hits: int, normal_total: int) -> float:
    """P(hits or more of all the hits fall among the ``total``), term by term."""
    everyone, hit = total + normal_total, hits + normal_hits
    return sum(
        math.comb(hit, i) * math.comb(everyone - hit, total - i)
        for i in range(hits, min(hit, total) + 1)
    ) / math.comb(everyone, total)


def test_a_share_is_judged_by_fishers_exact_test() -> None:
    # against 1 of 40 traces: 12 of 20 p ≈ 1e-6, 8 of 20 p ≈ 4e-4, 7 of 20 p ≈ 0.0013
    assert _fisher_tail(8, 20, 1, 40) <= SIGNIFICANCE < _fisher_tail(7, 20, 1, 40)
    assert share_rose(12, 20, 1, 40)
    assert share_rose(8, 20, 1, 40)
    assert not share_rose(7, 20, 1, 40)


def test_a_thin_clean_normal_is_a_sample_not_a_known_share() -> None:
    # 9 of 138 traces against 0 of 62 (a burst of registry errors TrainTicket also has when
    # healthy): given 9 failing traces in all, the chance that all fall among the 138 is 3 %
    assert _fisher_tail(9, 138, 0, 62) == pytest.approx(0.03, abs=0.005)
    assert not share_rose(9, 138, 0, 62)
    assert share_above(9, 138, 0, 62)  # taking 0 of 62 (smoothed: 0.8 %) as known: 2e-6


def test_share_above_is_judged_by_its_binomial_tail_at_the_smoothed_normal_share() -> None:
    normal = smoothed_share(1, 19)  # 1 of 19 traces: 0.075 with the prior
    above, below = _binomial_tail(5, 10, normal), _binomial_tail(4, 10, normal)
    assert above <= SIGNIFICANCE < below  # 5 of 10 is past the line, 4 of 10 is not
    assert share_above(5, 10, 1, 19)
    assert not share_above(4, 10, 1, 19)
    assert not share_above(0, 10, 1, 19)


def test_eight_in_two_minutes_against_none_in_three_is_significant() -> None:
    # given 8 events in all, each falls in the incident with probability 2/5: 0.4⁸ ≈ 0.00066
    assert _binomial_tail(8, 8, 2 / 5) <= SIGNIFICANCE
    assert rate_rose(8, 2.0, 0, 3.0)


def test_eight_in_two_minutes_against_none_in_one_is_not() -> None:
    # (2/3)⁸ ≈ 0.039: a minute of silence before is no evidence of a change
    assert _binomial_tail(8, 8, 2 / 3) > SIGNIFICANCE
    assert not rate_rose(8, 2.0, 0, 1.0)


def test_a_rate_is_judged_by_its_exact_conditional_tail() -> None:
    # 7 in 2 minutes against none in 3: 0.4⁷ ≈ 0.0016, just short of significant
    assert _binomial_tail(7, 7, 2 / 5) > SIGNIFICANCE
    assert not rate_rose(7, 2.0, 0, 3.0)
    # 20 in 2 minutes against 10 in 10: the tail at 1/6 sums many terms
    tail = _binomial_tail(20, 30, 2 / 12)
    assert rate_rose(20, 2.0, 10, 10.0) == (tail <= SIGNIFICANCE)
    assert tail <= SIGNIFICANCE


def test_without_a_normal_period_a_rate_is_not_significant() -> None:
    assert not rate_rose(1000, 2.0, 0, 0.0)
    assert not rate_rose(1000, 0.0, 0, 30.0)  # nor without an incident period


def test_the_same_rate_in_both_periods_is_not_significant() -> None:
    assert not rate_rose(300, 30.0, 300, 30.0)
    assert not rate_rose(100, 10.0, 300, 30.0)


@given(st.integers(1, 60), st.integers(0, 60), st.floats(0.1, 60.0), st.floats(0.1, 60.0))
def test_more_events_in_the_incident_never_make_a_rate_less_significant(
    count: int, normal_count: int, minutes: float, normal_minutes: float
) -> None:
    if rate_rose(count, minutes, normal_count, normal_minutes):
        assert rate_rose(count + 1, minutes, normal_count, normal_minutes)


@given(st.integers(1, 60), st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_more_failing_traces_never_make_a_share_less_significant(
    hits: int, misses: int, normal_hits: int, normal_misses: int
) -> None:
    normal_total = normal_hits + normal_misses
    for test in (share_rose, share_above):
        if test(hits, hits + misses, normal_hits, normal_total):
            assert test(hits + 1, hits + misses + 1, normal_hits, normal_total)


def test_durations_all_above_the_usual_ones_rose() -> None:
    normal = [float(v) for v in range(1, 41)]
    assert values_rose([100.0 + i for i in range(8)], normal)


def test_durations_within_the_usual_spread_did_not_rise_whatever_their_median() -> None:
    normal = [1.0, 2.0, 3.0, 4.0, 6.0, 9.0, 14.0, 20.0, 30.0, 40.0] * 4
    assert not values_rose([9.0, 14.0, 20.0, 30.0, 40.0, 20.0], normal)


def test_faster_durations_or_an_empty_sample_did_not_rise() -> None:
    normal = [float(v) for v in range(50, 90)]
    assert not values_rose([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], normal)
    assert not values_rose([], normal) and not values_rose([100.0], [])
