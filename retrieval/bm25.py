"""Lexical search over chunk texts with BM25 (the bm25s library, numpy backend).

Dense vectors find paraphrases; BM25 finds the exact identifiers incidents are full of
(``getaddrinfo``, ``ERR_CERT_DATE_INVALID``, ``HikariPool-1``, alert names) that a small
embedding model blurs. Texts are lower-cased, split on runs of two or more word characters
(bm25s' default) and English stopwords are dropped; there is no stemming (PyStemmer is not a
dependency), so "timeout" and "timeouts" are different terms.

The index lives in memory only and is rebuilt whenever the set of active chunks changes:
building it for 10,000 chunks takes about a second, scoring a query a fraction of a
millisecond, so persisting it would buy little and add a second thing to keep consistent.
"""

from __future__ import annotations

from collections.abc import Sequence

import bm25s  # type: ignore[import-untyped]  # no type information shipped
import numpy as np
import numpy.typing as npt
from bm25s.tokenization import Tokenizer  # type: ignore[import-untyped]

BoolArray = npt.NDArray[np.bool_]


class Bm25Index:
    """BM25 (Lucene variant, k1 = 1.5, b = 0.75) over ``texts``; rows are their positions."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._size = len(texts)
        self._tokenizer = Tokenizer(stopwords="en")
        self._retriever: bm25s.BM25 | None = None
        if texts:
            corpus = self._tokenizer.tokenize(list(texts), return_as="tuple", show_progress=False)
            self._retriever = bm25s.BM25()
            self._retriever.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return self._size

    def terms(self, query: str) -> list[int]:
        """The vocabulary ids of the query's words that occur in the corpus (may be empty)."""
        if self._retriever is None:
            return []
        words = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="string", show_progress=False
        )[0]
        ids: list[int] = self._retriever.get_tokens_ids([w for w in words if w])
        return ids

    def top(self, query: str, n: int, mask: BoolArray | None = None) -> list[int]:
        """Rows of the ``n`` best-scoring texts, best first.

        Only texts that share a term with the query and are allowed by ``mask`` (one bool per
        row) are returned; equal scores keep row order.
        """
        ids = self.terms(query)
        if self._retriever is None or not ids or n <= 0:
            return []
        scores = np.asarray(self._retriever.get_scores(ids), dtype=np.float32)
        if mask is not None:
            scores = np.where(mask, scores, np.float32(0.0))
        candidates = np.flatnonzero(scores > 0.0)
        order = np.argsort(-scores[candidates], kind="stable")[:n]
        return [int(row) for row in candidates[order]]
