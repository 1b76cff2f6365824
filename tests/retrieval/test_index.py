"""Hybrid search over a small hand-made corpus: modes, filters, de-duplication, queries."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from retrieval.embeddings import Embedder, resolve_model
from retrieval.index import FUSION_K, PostmortemIndex
from tests.retrieval.index_support import chunker, corpus, settings, shared_embedder
from tools.errors import RetrievalError
from tools.postmortems import SectionName


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostmortemIndex]:
    """The ``a`` corpus, ingested once for the module (searches do not change it)."""
    base = tmp_path_factory.mktemp("search")

    async def build() -> PostmortemIndex:
        opened = await PostmortemIndex.open(settings(base / "db"), embedder=shared_embedder())
        await opened.ingest(corpus(base / "pm"), [base / "pm"], chunker)
        return opened

    opened = asyncio.run(build())
    yield opened
    opened.close()


async def test_round_trip_builds_hits_from_stored_metadata(index: PostmortemIndex) -> None:
    hits = await index.search("getaddrinfo timed out after five seconds")
    top = hits[0]
    assert top.document.doc_id == "dns.md"
    assert top.document.title == "Catalog pages stall for five seconds on DNS lookups"
    assert top.document.services == ("catalog", "coredns")
    assert top.document.date == date(2025, 1, 21)
    assert top.document.url == "https://wiki.example/pm/dns.md"
    assert top.document.root_cause_category == "dns"
    assert top.document.source.endswith("dns.md")
    assert top.document.sections == ()  # the index keeps metadata; read the source for more
    assert top.chunk.section is SectionName.ROOT_CAUSE
    assert "getaddrinfo" in top.chunk.text
    assert top.chunk.heading == "Root cause"
    assert top.bm25_rank == 1
    assert top.dense_rank is not None


async def test_one_hit_per_document_best_chunk_first(index: PostmortemIndex) -> None:
    hits = await index.search("payments", k=10)
    doc_ids = [h.document.doc_id for h in hits]
    assert len(doc_ids) == len(set(doc_ids)) == 6  # every document once, though many match
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert set(doc_ids[:2]) == {"payments-pool.md", "cert.md"}


async def test_k_limits_the_hits(index: PostmortemIndex) -> None:
    assert len(await index.search("incident", k=2)) == 2
    with pytest.raises(ValueError, match="k must be"):
        await index.search("incident", k=0)


async def test_modes(index: PostmortemIndex) -> None:
    query = "HikariPool-1 connection is not available"
    lexical = await index.search(query, mode="bm25")
    dense = await index.search(query, mode="dense")
    hybrid = await index.search(query, mode="hybrid")
    assert all(h.dense_rank is None and h.bm25_rank is not None for h in lexical)
    assert all(h.bm25_rank is None and h.dense_rank is not None for h in dense)
    assert lexical[0].score == pytest.approx(1 / (FUSION_K + 1))
    for hits in (lexical, dense, hybrid):
        assert hits[0].document.doc_id == "payments-pool.md"
    # Fused score of a chunk = the reciprocal ranks it got from each retriever.
    for hit in hybrid:
        expected = sum(1 / (FUSION_K + r) for r in (hit.bm25_rank, hit.dense_rank) if r)
        assert hit.score == pytest.approx(expected)
    with pytest.raises(ValueError, match="mode"):
        await index.search(query, mode="sparse")  # type: ignore[arg-type]


async def test_bm25_finds_nothing_for_unknown_words_dense_still_answers(
    index: PostmortemIndex,
) -> None:
    assert await index.search("zzzqx", mode="bm25") == []
    hybrid = await index.search("out of memory, the pods keep restarting")
    assert hybrid[0].document.doc_id == "memleak.md"


async def test_service_filter_keeps_documents_listing_any_service(index: PostmortemIndex) -> None:
    hits = await index.search("outage", k=10, services=["PSP-Gateway", "inventory"])
    assert {h.document.doc_id for h in hits} == {"cert.md", "disk.md"}
    for mode in ("bm25", "dense"):
        only = await index.search("timed out", k=10, services=["checkout"], mode=mode)
        assert {h.document.doc_id for h in only} == {"payments-pool.md"}
    assert await index.search("outage", services=["no-such-service"]) == []
    one = await index.search("outage", k=10, services="cart")  # a string is one service
    assert [h.document.doc_id for h in one] == ["notes/undated.md"]


async def test_date_filters_are_inclusive_and_drop_undated_documents(
    index: PostmortemIndex,
) -> None:
    everything = await index.search("latency outage failure", k=10)
    assert "notes/undated.md" in {h.document.doc_id for h in everything}
    ranged = await index.search(
        "latency outage failure", k=10, since=date(2025, 2, 10), until=date(2025, 5, 12)
    )
    assert {h.document.doc_id for h in ranged} == {"cert.md", "disk.md", "memleak.md"}
    since = await index.search("latency outage failure", k=10, since=date(2025, 5, 13))
    assert {h.document.doc_id for h in since} == {"payments-pool.md"}
    until = await index.search("latency", k=10, until=date(2025, 1, 21), services=["catalog"])
    assert [h.document.doc_id for h in until] == ["dns.md"]


async def test_empty_query_is_refused(index: PostmortemIndex) -> None:
    for query in ("", "   \n\t"):
        with pytest.raises(RetrievalError, match="empty query"):
            await index.search(query)


async def test_a_10000_character_query_works(index: PostmortemIndex) -> None:
    query = ("Checkout is slow and payments time out. " * 250)[:10_000]
    assert len(query) == 10_000
    for mode in ("hybrid", "bm25", "dense"):
        hits = await index.search(query, mode=mode)
        assert hits and hits[0].document.doc_id == "payments-pool.md"


async def test_an_empty_index_finds_nothing(tmp_path: Path) -> None:
    async with await PostmortemIndex.open(
        settings(tmp_path / "db"), embedder=shared_embedder()
    ) as empty:
        assert await empty.search("anything") == []
        stats = await empty.stats()
        assert (stats.documents, stats.chunks, stats.stored_chunks) == (0, 0, 0)


async def test_an_index_built_with_another_model_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "pm"
    async with await PostmortemIndex.open(
        settings(tmp_path / "db"), embedder=shared_embedder()
    ) as built:
        await built.ingest(corpus(root)[:1], [root], chunker)
    other = Embedder(str(resolve_model("all-MiniLM-L6-v2")[1]))  # same files, another name
    with pytest.raises(RetrievalError, match="built with the embedding model 'all-MiniLM"):
        await PostmortemIndex.open(settings(tmp_path / "db"), embedder=other)
    # ... and the failed open released the directory.
    async with await PostmortemIndex.open(settings(tmp_path / "db"), embedder=shared_embedder()):
        pass


async def test_hits_carry_how_alike_they_are_not_only_their_rank(index: PostmortemIndex) -> None:
    near = await index.search("getaddrinfo timed out after five seconds", mode="hybrid")
    lexical = await index.search("getaddrinfo timed out after five seconds", mode="bm25")
    assert all(h.similarity is None for h in lexical)  # dense retrieval was not asked
    top = near[0]
    assert top.similarity is not None and -1.0 <= top.similarity <= 1.0
    unrelated = await index.search("quarterly marketing newsletter layout", mode="dense", k=1)
    assert unrelated[0].similarity is not None and unrelated[0].similarity < top.similarity


def test_a_non_file_source_is_its_own_origin() -> None:
    from retrieval.manifest import origin_of

    assert origin_of("slack:C0001/1700000000.000100") == "slack:C0001/1700000000.000100"
    assert origin_of("pm/dns.md") == str(Path("pm/dns.md").resolve())
