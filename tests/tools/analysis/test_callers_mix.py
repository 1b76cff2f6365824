"""The arithmetic of a share compared at the incident's mix of callers."""

from __future__ import annotations

import pytest

from tools.analysis.callers_mix import least_surprise, share_at_mix
from tools.analysis.surprise import change_score


def test_each_caller_s_normal_share_is_weighted_by_its_incident_count() -> None:
    """travel's requests always make the call, travel2's never: 2 of travel and 20 of travel2
    in the incident give 2 of 22, whatever the normal mix was."""
    mixed = share_at_mix(
        {"travel": 2, "travel2": 20}, {"travel": 20, "travel2": 10}, {"travel": 20}, 20 / 30, 5
    )
    assert mixed == pytest.approx(2 / 22)


def test_a_caller_normal_barely_saw_counts_at_the_overall_share() -> None:
    mixed = share_at_mix(
        {"web": 10, "travel": 10}, {"web": 4, "travel": 20}, {"web": 4, "travel": 10}, 0.6, 5
    )
    assert mixed == pytest.approx((10 * 0.6 + 10 * 0.5) / 20)


def test_the_least_surprising_of_the_normals_counts() -> None:
    both = least_surprise([0.9, 0.7], 40, 4, 40)
    assert both == pytest.approx(change_score(28, 40, 4, 40))
    assert both is not None and both < change_score(36, 40, 4, 40)


def test_no_move_or_moves_both_ways_are_none() -> None:
    assert least_surprise([0.5], 40, 20, 40) is None  # no move
    assert least_surprise([0.2, 0.8], 40, 20, 40) is None  # above one, below the other
    assert least_surprise([0.2, 0.5], 40, 20, 40) is None  # no move at the mix
