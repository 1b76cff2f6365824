"""Reciprocal rank fusion (RRF) of several rankings into one.

Cormack, Clarke and Büttcher (SIGIR 2009): an item's fused score is
``sum over rankings of 1 / (k + rank)``, with 1-based ranks and nothing added by a ranking
that does not contain the item. Only ranks matter, so BM25 scores (unbounded) and cosine
similarities (bounded) need no calibration against each other, which is why hybrid search
uses it. ``k = 60`` is the paper's value and the usual default (Elasticsearch, OpenSearch,
Chroma): it damps the head of each ranking so that an item ranked well by both retrievers
beats one ranked first by only one of them (2 / 62 > 1 / 61).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

RRF_K = 60

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Fused(Generic[K]):
    key: K
    score: float
    ranks: tuple[int | None, ...]  # 1-based rank in each input ranking, None where absent


def reciprocal_rank_fusion(rankings: Sequence[Sequence[K]], *, k: int = RRF_K) -> list[Fused[K]]:
    """Fuse ``rankings`` (best first, keys unique within each) into one list, best first.

    Ties are broken by the best single rank, then by the order of first appearance (earlier
    rankings first), so the result is deterministic.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    ranks: dict[K, list[int | None]] = {}
    for which, ranking in enumerate(rankings):
        for position, key in enumerate(ranking, start=1):
            slot = ranks.setdefault(key, [None] * len(rankings))
            if slot[which] is not None:
                raise ValueError(f"{key!r} appears twice in ranking {which}")
            slot[which] = position
    fused = [
        Fused(key, sum(1.0 / (k + r) for r in slot if r is not None), tuple(slot))
        for key, slot in ranks.items()
    ]
    order = {key: i for i, key in enumerate(ranks)}
    fused.sort(key=lambda f: (-f.score, min(r for r in f.ranks if r is not None), order[f.key]))
    return fused
