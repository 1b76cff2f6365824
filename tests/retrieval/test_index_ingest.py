"""Incremental ingest: content hashes decide, roots scope removals, the manifest commits."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from retrieval.index import PostmortemIndex
from tests.retrieval.index_support import chunker, corpus, settings, shared_embedder
from tools.errors import RetrievalError
from tools.postmortems import Chunk, Document, Hit, SectionName


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[PostmortemIndex]:
    async with await PostmortemIndex.open(
        settings(tmp_path / "db"), embedder=shared_embedder()
    ) as opened:
        yield opened


def ids(hits: list[Hit]) -> list[str]:
    return [h.document.doc_id for h in hits]


async def test_first_ingest_adds_everything(index: PostmortemIndex, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "pm")
    report = await index.ingest(docs, [tmp_path / "pm"], chunker)
    assert report.added == tuple(d.doc_id for d in docs)
    assert (report.updated, report.removed, report.unchanged) == ((), (), ())
    total = sum(len(chunker(d)) for d in docs)
    assert report.chunks_embedded == total
    assert report.seconds > 0
    stats = await index.stats()
    assert (stats.documents, stats.chunks, stats.stored_chunks, stats.generation) == (
        6,
        total,
        total,
        1,
    )


async def test_reingesting_the_same_tree_embeds_and_writes_nothing(
    index: PostmortemIndex, tmp_path: Path
) -> None:
    root = tmp_path / "pm"
    await index.ingest(corpus(root), [root], chunker)
    encoded = shared_embedder().documents_encoded
    calls: list[str] = []

    def counting(document: Document) -> list[Chunk]:
        calls.append(document.doc_id)
        return chunker(document)

    report = await index.ingest(corpus(root), [root], counting)
    assert not report.changed
    assert report.chunks_embedded == report.chunks_deleted == 0
    assert len(report.unchanged) == 6
    assert calls == []  # unchanged documents are not even chunked
    assert shared_embedder().documents_encoded == encoded
    assert (await index.stats()).generation == 1  # no new manifest was written


async def test_changed_documents_are_replaced_and_missing_ones_removed(
    index: PostmortemIndex, tmp_path: Path
) -> None:
    root = tmp_path / "pm"
    await index.ingest(corpus(root, "a"), [root], chunker)
    assert ids(await index.search("ndots", mode="bm25")) == ["dns.md"]
    b = corpus(root, "b")
    report = await index.ingest(b, [root], chunker)
    assert sorted(report.added) == ["kafka.md", "mtu.md"]
    assert sorted(report.updated) == ["disk.md", "dns.md"]
    assert report.removed == ("memleak.md",)
    assert sorted(report.unchanged) == ["cert.md", "notes/undated.md", "payments-pool.md"]
    new_chunks = sum(len(chunker(d)) for d in b if d.doc_id in report.added + report.updated)
    assert report.chunks_embedded == new_chunks
    assert report.chunks_deleted == 3 + 2 + 2  # old dns.md, old disk.md, memleak.md
    stats = await index.stats()
    assert stats.chunks == stats.stored_chunks == sum(len(chunker(d)) for d in b)
    assert await index.search("ndots", mode="bm25") == []  # the old version is gone
    assert ids(await index.search("rewritten", mode="bm25")) == ["dns.md"]
    assert "memleak.md" not in ids(await index.search("OOMKilled memory leak", k=10))
    disk = (await index.search("auto-grown volume", k=1))[0]
    assert disk.document.title == "Inventory database read-only after the disk filled up"


async def test_only_documents_under_the_given_roots_are_removed(
    index: PostmortemIndex, tmp_path: Path
) -> None:
    wiki, extra = tmp_path / "wiki", tmp_path / "extra"
    await index.ingest(corpus(wiki), [wiki], chunker)
    other = dataclasses.replace(corpus(extra)[0], doc_id="extra/dns.md")
    report = await index.ingest([other], [extra], chunker)
    assert (report.added, report.removed) == (("extra/dns.md",), ())
    assert (await index.stats()).documents == 7
    # Reading wiki/notes alone removes nothing but what is under it.
    report = await index.ingest([], [wiki / "notes"], chunker)
    assert report.removed == ("notes/undated.md",)
    assert (await index.stats()).documents == 6
    # A root given as a file (a JSON collection): its records are "file#key".
    record = dataclasses.replace(
        corpus(wiki)[1], doc_id="db.json#PM-1", source=str(wiki / "db.json") + "#PM-1"
    )
    await index.ingest([record], [wiki / "db.json"], chunker)
    report = await index.ingest([], [wiki / "db.json"], chunker)
    assert report.removed == ("db.json#PM-1",)
    assert (await index.stats()).documents == 6


async def test_two_documents_with_one_id_are_refused(
    index: PostmortemIndex, tmp_path: Path
) -> None:
    first, second = corpus(tmp_path / "a")[0], corpus(tmp_path / "b")[1]
    twin = dataclasses.replace(second, doc_id=first.doc_id)
    with pytest.raises(RetrievalError, match=r"two postmortems have the id 'dns\.md'"):
        await index.ingest([first, twin], [tmp_path], chunker)
    assert (await index.stats()).documents == 0


async def test_a_chunker_must_number_the_chunks_of_its_document(
    index: PostmortemIndex, tmp_path: Path
) -> None:
    def sloppy(document: Document) -> list[Chunk]:
        return [dataclasses.replace(c, index=c.index + 1) for c in chunker(document)]

    with pytest.raises(ValueError, match="numbered 0, 1, 2"):
        await index.ingest(corpus(tmp_path), [tmp_path], sloppy)
    assert (await index.stats()).stored_chunks == 0


async def test_progress_is_reported_per_batch(index: PostmortemIndex, tmp_path: Path) -> None:
    docs = corpus(tmp_path)[:2]
    total = sum(len(chunker(d)) for d in docs)
    seen: list[tuple[int, int]] = []
    await index.ingest(
        docs, [tmp_path], chunker, batch_size=2, on_progress=lambda *a: seen.append(a)
    )
    assert seen == [(min(i, total), total) for i in range(2, total + 2, 2)]


async def test_leftover_chunks_are_invisible_and_collected(
    index: PostmortemIndex, tmp_path: Path
) -> None:
    """What a killed ingest leaves (chunks without a manifest entry) is never returned and
    the next ingest deletes it, even one with nothing to do."""
    root = tmp_path / "pm"
    await index.ingest(corpus(root), [root], chunker)
    before = await index.search("getaddrinfo", k=10)
    stray = corpus(root, "b")[-1]
    stray_chunks = chunker(stray)
    vectors = shared_embedder().encode_documents([c.text for c in stray_chunks])
    index._store.upsert_chunks(stray_chunks, vectors, {stray.doc_id: stray})
    stats = await index.stats()
    assert stats.stored_chunks == stats.chunks + len(stray_chunks)
    assert await index.search("getaddrinfo", k=10) == before
    assert "mtu.md" not in ids(await index.search("MTU mismatch dashboard", k=10))
    report = await index.ingest(corpus(root), [root], chunker)
    assert (report.changed, report.chunks_deleted) == (False, len(stray_chunks))
    stats = await index.stats()
    assert stats.stored_chunks == stats.chunks


async def test_chunks_lost_from_chroma_are_embedded_again(tmp_path: Path) -> None:
    root, db = tmp_path / "pm", settings(tmp_path / "db")
    async with await PostmortemIndex.open(db, embedder=shared_embedder()) as index:
        await index.ingest(corpus(root), [root], chunker)
        lost = chunker(corpus(root)[0])[1].chunk_id
        index._store.delete_chunks([lost])
    async with await PostmortemIndex.open(db, embedder=shared_embedder()) as index:
        report = await index.ingest(corpus(root), [root], chunker)
        assert report.updated == ("dns.md",)
        assert report.chunks_embedded == len(chunker(corpus(root)[0]))
        stats = await index.stats()
        assert stats.chunks == stats.stored_chunks == sum(len(chunker(d)) for d in corpus(root))


async def test_searches_during_an_ingest_see_the_committed_state(
    index: PostmortemIndex, tmp_path: Path
) -> None:
    root = tmp_path / "pm"
    await index.ingest(corpus(root, "a"), [root], chunker)
    queries = ["getaddrinfo", "MTU mismatch dashboard", "disk full"]
    before = [await index.search(q, k=10) for q in queries]
    during: list[list[list[Hit]]] = []

    def search_now(done: int, total: int) -> None:
        # Called between batches on the event loop; search from a thread with its own loop.
        async def all_queries() -> list[list[Hit]]:
            return [await index.search(q, k=10) for q in queries]

        worker = threading.Thread(target=lambda: during.append(asyncio.run(all_queries())))
        worker.start()
        worker.join()

    await index.ingest(corpus(root, "b"), [root], chunker, batch_size=4, on_progress=search_now)
    assert len(during) > 2
    assert all(snapshot == before for snapshot in during)
    assert ids(await index.search("MTU mismatch dashboard", k=1)) == ["mtu.md"]


def test_chunk_metadata_is_what_chroma_accepts() -> None:
    from retrieval.manifest import chunk_metadata

    document = corpus(Path("/wiki"))[-1]  # undated, no root cause
    chunk = Chunk(document.doc_id, document.content_hash, 0, SectionName.SUMMARY, "Summary", "x")
    meta = chunk_metadata(chunk, document)
    assert meta["services"] == ["cart"]
    assert meta["services_text"] == "cart"
    assert "date" not in meta and "root_cause" not in meta
    assert all(isinstance(v, str | int | list) for v in meta.values())
