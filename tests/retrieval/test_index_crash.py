"""An ingest killed half-way (SIGKILL, in another process) leaves the committed state."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from retrieval.index import IndexStats, PostmortemIndex, SearchMode
from tests.retrieval.index_support import chunker, corpus, settings, shared_embedder
from tools.errors import RetrievalError
from tools.postmortems import Hit

REPO = Path(__file__).resolve().parents[2]
QUERIES = ["getaddrinfo five-second timeout", "ndots", "OOMKilled memory", "MTU mismatch"]
MODES: tuple[SearchMode, ...] = ("hybrid", "bm25", "dense")


async def observe(index: PostmortemIndex) -> tuple[IndexStats, list[list[Hit]]]:
    stats = await index.stats()
    results = [await index.search(q, k=10, mode=m) for q in QUERIES for m in MODES]
    return stats, results


def test_a_killed_ingest_changes_nothing_and_the_next_one_cleans_up(tmp_path: Path) -> None:
    root, db = tmp_path / "pm", settings(tmp_path / "db")

    async def first() -> tuple[IndexStats, list[list[Hit]]]:
        async with await PostmortemIndex.open(db, embedder=shared_embedder()) as index:
            await index.ingest(corpus(root, "a"), [root], chunker)
            return await observe(index)

    before_stats, before = asyncio.run(first())

    # The child ingests corpus b in batches of 2 chunks and stops after the second batch:
    # new chunks are written, the manifest is not. Then it is killed without warning.
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.retrieval.ingest_child", "pause", str(db.chroma_path),
         str(root)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(120, child.kill)
    watchdog.start()
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("PAUSED 4/"), child.stderr.read() if child.stderr else ""
        assert "attempts=0" in line  # the child never tried the network either
        with pytest.raises(
            RetrievalError, match=f"in use by another process \\(pid {child.pid}\\)"
        ):
            asyncio.run(PostmortemIndex.open(db, embedder=shared_embedder()))
        os.kill(child.pid, signal.SIGKILL)
    finally:
        watchdog.cancel()
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    async def after() -> None:
        async with await PostmortemIndex.open(db, embedder=shared_embedder()) as index:
            stats, results = await observe(index)
            assert (stats.documents, stats.chunks, stats.generation) == (
                before_stats.documents,
                before_stats.chunks,
                before_stats.generation,
            )
            assert stats.stored_chunks == before_stats.stored_chunks + 4  # the orphans
            assert results == before
            report = await index.ingest(corpus(root, "b"), [root], chunker)
            assert sorted(report.added) == ["kafka.md", "mtu.md"]
            assert report.removed == ("memleak.md",)
            assert report.chunks_deleted == 4 + 7  # the orphans, then the replaced versions
            stats = await index.stats()
            assert stats.chunks == stats.stored_chunks
            assert stats.generation == before_stats.generation + 1
            assert await index.search("ndots", mode="bm25") == []
            assert (await index.search("MTU mismatch", k=1))[0].document.doc_id == "mtu.md"

    asyncio.run(after())
