"""Where in a run of yes/no outcomes a change began (Bernoulli CUSUM)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.analysis.change_point import log_likelihood_ratio, run_start


def test_a_line_that_stops_a_while_into_the_incident_stops_there() -> None:
    """ts-travel2-service at 10:26 on the Nezha day: 11 spans still wrote the line after the
    start, then 15 did not (True: the span did not write it, normally 0.5 in 12 spans)."""
    outcomes = [False] * 11 + [True] * 15
    assert run_start(outcomes, 0.5 / 12, 5) == 11


def test_a_change_from_the_first_outcome_starts_there() -> None:
    assert run_start([True] * 20, 0.1, 5) == 0
    assert run_start([True, False] * 10, 0.1, 5) == 0  # a steady 50 %: no later point is better


def test_the_run_is_at_least_min_run_long() -> None:
    """Only the last two differ: a run of two is not a share, the last five are the run."""
    assert run_start([False] * 18 + [True] * 2, 0.1, 5) == 15
    assert run_start([True] * 3, 0.1, 5) == 0  # shorter than a run: all of it


def test_the_ratio_is_the_binomial_log_likelihood_ratio() -> None:
    assert log_likelihood_ratio(3, 10, 0.3) == pytest.approx(0.0)
    expected = 8 * math.log(0.8 / 0.2) + 2 * math.log(0.2 / 0.8)
    assert log_likelihood_ratio(8, 10, 0.2) == pytest.approx(expected)
    assert log_likelihood_ratio(0, 10, 0.5) == pytest.approx(10 * math.log(2))


def test_a_normal_share_of_zero_or_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="strictly between"):
        run_start([True] * 10, 0.0, 5)


@given(
    st.lists(st.booleans(), min_size=1, max_size=60),
    st.floats(min_value=0.01, max_value=0.99),
    st.integers(min_value=1, max_value=10),
)
def test_no_other_run_is_less_like_normal(
    outcomes: list[bool], normal: float, min_run: int
) -> None:
    start = run_start(outcomes, normal, min_run)
    if len(outcomes) <= min_run:
        assert start == 0
        return
    assert 0 <= start <= len(outcomes) - min_run

    def ratio(k: int) -> float:
        return log_likelihood_ratio(sum(outcomes[k:]), len(outcomes) - k, normal)

    best = ratio(start)
    assert all(ratio(k) <= best + 1e-9 for k in range(len(outcomes) - min_run + 1))
    assert all(ratio(k) < best for k in range(start))  # the earliest of equals
