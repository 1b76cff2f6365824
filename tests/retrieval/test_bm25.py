"""The BM25 wrapper: tokenisation, stopwords, masks, queries with no known word."""

from __future__ import annotations

import numpy as np

from retrieval.bm25 import Bm25Index

TEXTS = [
    "HikariPool-1 connection is not available, request timed out after 30000ms",
    "getaddrinfo took 5001 ms for catalog-db because CoreDNS dropped queries",
    "The certificate of the payment provider expired",
    "Connection refused by the database: too many connections",
]


def test_exact_identifiers_rank_their_chunk_first() -> None:
    index = Bm25Index(TEXTS)
    assert index.top("getaddrinfo", 10) == [1]
    assert index.top("hikaripool timed out", 10)[0] == 0
    assert set(index.top("connection", 10)) == {0, 3}  # "connections" is another term


def test_stopwords_and_unknown_words_give_nothing() -> None:
    index = Bm25Index(TEXTS)
    assert index.terms("the of and is") == []
    assert index.top("the of and is", 10) == []
    assert index.top("zzzz qqqq", 10) == []


def test_mask_and_limit() -> None:
    index = Bm25Index(TEXTS)
    mask = np.array([False, True, True, True])
    assert index.top("connection", 10, mask) == [3]
    assert len(index.top("connection database certificate catalog", 2)) == 2
    assert index.top("connection", 0) == []


def test_long_query_uses_every_word() -> None:
    index = Bm25Index(TEXTS)
    query = "lorem ipsum " * 2000 + "certificate"
    assert index.top(query, 10) == [2]


def test_empty_corpus() -> None:
    index = Bm25Index([])
    assert len(index) == 0
    assert index.top("anything", 5) == []
