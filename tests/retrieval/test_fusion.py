"""Reciprocal rank fusion on rankings whose fused scores are worked out by hand."""

from __future__ import annotations

import pytest

from retrieval.fusion import RRF_K, reciprocal_rank_fusion


def test_scores_are_sums_of_reciprocal_ranks_plus_k() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]])
    by_key = {f.key: f for f in fused}
    assert RRF_K == 60
    assert by_key["a"].score == pytest.approx(1 / 61)
    assert by_key["b"].score == pytest.approx(1 / 62 + 1 / 61)
    assert by_key["c"].score == pytest.approx(1 / 63)
    assert by_key["d"].score == pytest.approx(1 / 62)
    assert by_key["b"].ranks == (2, 1)
    assert by_key["d"].ranks == (None, 2)
    assert [f.key for f in fused] == ["b", "a", "d", "c"]


def test_agreement_beats_a_single_first_place() -> None:
    # x is first in one list only; y is second in both: 2/62 > 1/61.
    fused = reciprocal_rank_fusion([["x", "y"], ["z", "y"]])
    assert fused[0].key == "y"


def test_ties_break_by_best_rank_then_first_appearance() -> None:
    # p: ranks (1, 3) and q: (3, 1) tie on score and best rank: p appeared first.
    # r, second in both, scores 2/62 = 0.032258 < 1/61 + 1/63 = 0.032266.
    fused = reciprocal_rank_fusion([["p", "r", "q"], ["q", "r", "p"]])
    assert [f.key for f in fused] == ["p", "q", "r"]
    assert fused[0].score == pytest.approx(fused[1].score)
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 63)
    assert fused[2].score == pytest.approx(2 / 62)


def test_k_changes_how_much_the_head_counts() -> None:
    # k = 1: first place in one list (1/2) loses to second place in both (1/3 + 1/3).
    assert reciprocal_rank_fusion([["x", "y"], ["z", "y"]], k=1)[0].key == "y"
    fused = reciprocal_rank_fusion([["x"], []], k=0)
    assert fused[0].score == 1.0


def test_empty_and_single_rankings() -> None:
    assert reciprocal_rank_fusion([[], []]) == []
    only = reciprocal_rank_fusion([["a", "b"]])
    assert [(f.key, f.ranks) for f in only] == [("a", (1,)), ("b", (2,))]


def test_a_key_twice_in_one_ranking_is_a_bug() -> None:
    with pytest.raises(ValueError, match="twice"):
        reciprocal_rank_fusion([["a", "a"]])
    with pytest.raises(ValueError, match="k must be"):
        reciprocal_rank_fusion([["a"]], k=-1)
