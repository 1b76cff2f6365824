"""Link time: a rarely called link against every link, a callee's callers together."""

from __future__ import annotations

from tools.analysis.link_time import (
    MIN_LINK_CALLS,
    callees_slower_into,
    other_links,
    slower_than_links,
)
from tools.analysis.surprise import values_rose

# calls over every link in a healthy period: most take 2-3 ms, a few links 10-40 ms
LINKS = [2.0, 2.5, 3.0] * 60 + [10.0, 20.0, 30.0, 40.0]


def test_calls_slower_than_any_usual_link_are_slower() -> None:
    assert slower_than_links([1900.0, 2000.0, 2100.0, 2050.0, 1990.0], LINKS)


def test_a_link_always_a_little_slower_than_most_is_not() -> None:
    steady = [8.0, 8.5, 9.0, 8.2, 8.8, 9.1]
    assert values_rose(steady, LINKS)  # significant against the mixture alone
    assert not slower_than_links(steady, LINKS)  # yet some usual links take 40 ms


def test_without_enough_normal_calls_or_any_call_nothing_is_slower() -> None:
    assert not slower_than_links([2000.0] * 8, [2.0] * (MIN_LINK_CALLS - 1))
    assert not slower_than_links([], LINKS)


def test_a_callee_whose_calls_from_all_callers_together_grew_is_slower_into() -> None:
    before, after = [2.0, 2.5, 3.0, 3.5, 4.0], [2000.0, 2001.0, 2002.0, 2003.0, 2004.0]
    calls = {
        ("frontend", "checkout"): (before, after),
        ("cart", "checkout"): (before, after),
        ("frontend", "cart"): (before, before),
    }
    # 5 against 5 alone cannot reach p <= 0.001 (1/252 at best); 10 against 10 can
    assert not values_rose(after, before)
    assert callees_slower_into(calls) == {"checkout"}


def test_the_other_links_are_the_calls_into_every_other_callee() -> None:
    gaps = {
        ("gateway", "preserve"): [2000.0, 2010.0],
        ("order", "preserve"): [1990.0],
        ("gateway", "order"): [3.0, 4.0],
        ("order", "seat"): [2.0],
    }
    assert sorted(other_links(gaps, "preserve")) == [2.0, 3.0, 4.0]
    assert sorted(other_links(gaps, "seat")) == [3.0, 4.0, 1990.0, 2000.0, 2010.0]
