"""Chroma as the index uses it: damaged and locked directories, and server mode."""

from __future__ import annotations

import asyncio
import fcntl
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from retrieval.index import PostmortemIndex
from retrieval.settings import RetrievalSettings
from tests.retrieval.index_support import chunker, corpus, settings, shared_embedder
from tools.errors import RetrievalError
from tools.postmortems import Chunk, Hit, SectionName


def ids(hits: list[Hit]) -> list[str]:
    return [h.document.doc_id for h in hits]


async def ingested(db: Path, root: Path) -> None:
    async with await PostmortemIndex.open(settings(db), embedder=shared_embedder()) as index:
        await index.ingest(corpus(root)[:2], [root], chunker)


async def test_garbage_in_the_sqlite_file_names_the_directory_and_the_fix(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db"
    await ingested(db, tmp_path / "pm")
    (db / "chroma.sqlite3").write_bytes(b"this is not a database\n" * 4096)
    with pytest.raises(RetrievalError) as caught:
        await PostmortemIndex.open(settings(db), embedder=shared_embedder())
    message = str(caught.value)
    assert str(db) in message
    assert "delete it and ingest the postmortems again" in message
    assert "file is not a database" in message  # Chroma's own words, for the logs
    # Doing what the message says works, in the same process too.
    shutil.rmtree(db)
    await ingested(db, tmp_path / "pm")


async def test_a_manifest_from_a_newer_rcabot_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "db"
    await ingested(db, tmp_path / "pm")
    async with await PostmortemIndex.open(settings(db), embedder=shared_embedder()) as index:
        manifest = index._store.read_manifest()
        newer = manifest.to_json_text().replace('"format":1', '"format":2', 1)
        index._store._manifest.upsert(
            ids=["manifest"], embeddings=np.zeros((1, 1), np.float32), documents=[newer]
        )
    with pytest.raises(RetrievalError, match="written by a newer rcabot"):
        await PostmortemIndex.open(settings(db), embedder=shared_embedder())


async def test_a_damaged_vector_index_is_found_when_opening(tmp_path: Path) -> None:
    """Chroma persists the HNSW graph from 1,000 records on and loads it lazily, at the first
    query; opening probes it so the damage shows at start-up, not in the first incident."""
    db = tmp_path / "db"
    async with await PostmortemIndex.open(settings(db), embedder=shared_embedder()) as index:
        doc = corpus(tmp_path)[0]
        chunks = [
            Chunk(doc.doc_id, doc.content_hash, i, SectionName.OTHER, "", "x") for i in range(1100)
        ]
        vectors = np.random.default_rng(0).standard_normal((1100, 384)).astype(np.float32)
        index._store.upsert_chunks(chunks, vectors, {doc.doc_id: doc})
    pickles = list(db.glob("*/index_metadata.pickle"))
    assert pickles
    for pickle in pickles:
        pickle.write_bytes(b"\x00garbage" * 64)
    with pytest.raises(RetrievalError, match="delete it and ingest"):
        await PostmortemIndex.open(settings(db), embedder=shared_embedder())


HOLD_LOCK = """
import fcntl, os, sys, time
lock = open(sys.argv[1], "a+")
fcntl.flock(lock, fcntl.LOCK_EX)
lock.truncate(0)
lock.write(str(os.getpid()))
lock.flush()
print("held", flush=True)
time.sleep(60)
"""


def test_a_directory_locked_by_another_process_is_refused(tmp_path: Path) -> None:
    """Another rcabot holding the directory (here a stand-in taking the same flock; the
    kill-midway test meets a real one) is named, with what to do."""
    db = tmp_path / "db"
    db.mkdir()

    async def open_and_close() -> None:
        async with await PostmortemIndex.open(settings(db), embedder=shared_embedder()):
            pass

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db / "rcabot.lock")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        expected = rf"in use by another process \(pid {holder.pid}\).*retrieval\.chroma_url"
        with pytest.raises(RetrievalError, match=expected):
            asyncio.run(open_and_close())
    finally:
        holder.kill()
        holder.communicate()
    asyncio.run(open_and_close())


async def test_indexes_of_one_process_share_the_directory(tmp_path: Path) -> None:
    db, root = settings(tmp_path / "db"), tmp_path / "pm"
    embedder = shared_embedder()
    async with (
        await PostmortemIndex.open(db, embedder=embedder) as writer,
        await PostmortemIndex.open(db, embedder=embedder, refresh_s=0.0) as reader,
    ):
        await writer.ingest(corpus(root), [root], chunker)
        assert ids(await reader.search("getaddrinfo", mode="bm25")) == ["dns.md"]
    # Both closed: the lock is free again.
    with (db.chroma_path / "rcabot.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (the ``chroma run`` of the installed chromadb) on a free port."""
    binary = Path(sys.executable).parent / "chroma"
    if not binary.is_file():
        pytest.skip("the chroma command is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen(
        [str(binary), "run", "--path", str(path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/api/v2/heartbeat", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"chroma run did not start on port {port}")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_server_mode_serves_several_replicas(chroma_server: str, tmp_path: Path) -> None:
    shared = RetrievalSettings(chroma_url=chroma_server)
    root = tmp_path / "pm"
    embedder = shared_embedder()
    async with (
        await PostmortemIndex.open(shared, embedder=embedder) as writer,
        await PostmortemIndex.open(shared, embedder=embedder, refresh_s=0.0) as replica,
    ):
        await writer.ingest(corpus(root, "a"), [root], chunker)
        assert ids(await replica.search("getaddrinfo", mode="bm25")) == ["dns.md"]
        await writer.ingest(corpus(root, "b"), [root], chunker)
        assert await replica.search("ndots", mode="bm25") == []
        assert ids(await replica.search("MTU mismatch dashboard", k=1)) == ["mtu.md"]
        dense = await replica.search("certificate expired", k=1, services=["payments"])
        assert ids(dense) == ["cert.md"]
        stats = await replica.stats()
        assert (
            stats.chunks == stats.stored_chunks == sum(len(chunker(d)) for d in corpus(root, "b"))
        )
        assert not (await writer.ingest(corpus(root, "b"), [root], chunker)).changed


async def test_an_unreachable_server_is_reported() -> None:
    nowhere = RetrievalSettings(chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RetrievalError, match="Check that the server is running"):
        await PostmortemIndex.open(nowhere, embedder=shared_embedder())
