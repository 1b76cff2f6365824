"""The postmortem index: incremental, atomic ingest and hybrid (BM25 + dense) search.

Ingest (:meth:`PostmortemIndex.ingest`), in this order:

1. **Garbage collection** of chunks the committed manifest does not name: leftovers of an
   ingest that was killed, or old versions a previous ingest did not get to delete.
2. **Plan** by content hash: documents not in the manifest are *added*, those with another
   hash *updated*, the same hash *unchanged* (not chunked, not embedded); committed documents
   whose file lies under one of the given roots but which were not read this time *removed*.
3. **Write** the chunks of added and updated documents, embedded in batches. Chunk ids
   contain the document hash, so a new version never overwrites the old one's chunks.
4. **Commit**: one manifest record (``doc_id → hash, chunk count, metadata``) replaces the old
   one in a single upsert. Before it, searches see exactly the old state; after it, the new.
5. **Garbage-collect** the chunks of replaced and removed versions.

Killed anywhere, the index keeps the last committed state; the next ingest's step 1 removes
what the killed one left. Re-ingesting an unchanged tree embeds nothing and writes nothing.
One ingest at a time per Chroma: embedded, the directory lock guarantees it; with a server,
run ingest from one place (a concurrent ingest's step 1 would delete the other's new chunks).

Search (:meth:`PostmortemIndex.search`): BM25 and dense retrieval each rank up to
``max(100, 20 k)`` committed chunks that pass the filters; the rankings are fused with
reciprocal rank fusion (k = :data:`FUSION_K`, :mod:`retrieval.fusion`) and the best chunk of
each document is kept (ranks and scores are those of chunks, then one hit per document).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Literal, get_args

import numpy as np

from retrieval.embeddings import Embedder
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.manifest import Manifest, ManifestEntry
from retrieval.settings import RetrievalSettings
from retrieval.snapshot import BoolArray, Snapshot, load_snapshot
from retrieval.store import ChromaStore, StaleChunkIds
from tools.errors import RetrievalError
from tools.postmortems import Chunk, Document, Hit

SearchMode = Literal["hybrid", "bm25", "dense"]
Chunker = Callable[[Document], Sequence[Chunk]]
Progress = Callable[[int, int], None]  # (chunks written so far, chunks to write)

CANDIDATES = 100  # chunks each retriever hands to fusion (at least; 20 per wanted hit)
# RRF's k. The paper's 60 is flat enough that two middling ranks beat one retriever's clear
# first place; on the shared postmortem corpus (python bench/retrieval_eval.py) k = 10 gives
# nDCG@10 0.77 / 0.94 (symptom / summary queries) against 0.71 / 0.93 at k = 60.
FUSION_K = 10
WRITE_BATCH = 256  # chunks embedded and written per step: length-sorting works within it


@dataclass(frozen=True, slots=True)
class IngestReport:
    added: tuple[str, ...]  # doc ids
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    chunks_embedded: int
    chunks_deleted: int  # old versions, removed documents and leftovers of killed ingests
    seconds: float

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True, slots=True)
class IndexStats:
    documents: int  # committed
    chunks: int  # committed, i.e. searchable
    stored_chunks: int  # in Chroma, including uncommitted ones awaiting garbage collection
    generation: int  # commits so far


@dataclass(frozen=True, slots=True)
class _Plan:
    added: list[Document]
    updated: list[Document]
    unchanged: list[Document]
    removed: list[str]


class PostmortemIndex:
    """Past postmortems in Chroma, searchable by meaning and by words. Use :meth:`open`."""

    def __init__(
        self, store: ChromaStore, embedder: Embedder, snapshot: Snapshot, refresh_s: float
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._snapshot = snapshot
        self._refresh_s = refresh_s
        self._checked_at = time.monotonic()
        self._stale = False  # a commit whose snapshot could not be loaded (load on next search)
        self._reload_lock = threading.Lock()
        self._ingest_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        settings: RetrievalSettings,
        *,
        embedder: Embedder | None = None,
        refresh_s: float = 5.0,
    ) -> PostmortemIndex:
        """Open (creating if needed) the index ``settings`` point at; the model loads lazily.

        Opening reads every committed chunk and builds the BM25 index (about 2 s at 10,000
        chunks): open once per process and keep it. ``refresh_s``: how often a search checks
        (one small read) whether another index object committed an ingest: another process
        on a Chroma server, or another ``PostmortemIndex`` of this process on the same
        directory (embedded, other processes are locked out).
        """
        embedder = embedder or Embedder(settings.model)
        store = await asyncio.to_thread(ChromaStore, settings)
        try:
            snapshot = await asyncio.to_thread(load_snapshot, store)
            built_with = snapshot.manifest.model
            if built_with is not None and built_with != embedder.name:
                raise RetrievalError(
                    f"the postmortem index in {store.where} was built with the embedding model "
                    f"{built_with!r} but tools.postmortems is {embedder.name!r}: set it back, or "
                    "delete the index and ingest the postmortems again"
                )
        except BaseException:
            store.close()
            raise
        return cls(store, embedder, snapshot, refresh_s)

    def close(self) -> None:
        """Release Chroma (and, embedded, the directory lock)."""
        self._store.close()

    async def __aenter__(self) -> PostmortemIndex:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def warm_up(self) -> None:
        """Load the embedding model now rather than in the first search or ingest."""
        await self._embedder.warm_up()

    async def stats(self) -> IndexStats:
        stored = await asyncio.to_thread(self._store.count)
        snap = self._snapshot
        return IndexStats(len(snap.manifest.entries), len(snap.ids), stored, snap.generation)

    # -- search -----------------------------------------------------------------------------

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        services: Sequence[str] = (),
        since: date | None = None,
        until: date | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[Hit]:
        """The ``k`` postmortems that best match ``query``, best first, one hit per document.

        ``services``: keep documents that list any of them. ``since``/``until``: inclusive
        date bounds; documents without a date are left out as soon as a bound is given.
        ``mode``: ``bm25`` or ``dense`` alone, or both fused (``hybrid``). Any length of query
        works: BM25 uses every word, the model reads the first 256 word pieces.
        """
        if not query.strip():
            raise RetrievalError("empty query: say what to look for in past postmortems")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if mode not in get_args(SearchMode):
            raise ValueError(f"mode must be one of {get_args(SearchMode)}, got {mode!r}")
        wanted = (services,) if isinstance(services, str) else tuple(services)  # not its letters
        return await asyncio.to_thread(self._search, query, k, wanted, since, until, mode)

    def _search(
        self,
        query: str,
        k: int,
        services: Sequence[str],
        since: date | None,
        until: date | None,
        mode: SearchMode,
    ) -> list[Hit]:
        if self._stale or time.monotonic() - self._checked_at > self._refresh_s:
            self._refresh()
        try:
            return self._search_in(self._snapshot, query, k, services, since, until, mode)
        except StaleChunkIds:  # chunks deleted by a commit we have not loaded yet
            self._refresh()
            return self._search_in(self._snapshot, query, k, services, since, until, mode)

    def _search_in(
        self,
        snap: Snapshot,
        query: str,
        k: int,
        services: Sequence[str],
        since: date | None,
        until: date | None,
        mode: SearchMode,
    ) -> list[Hit]:
        mask = snap.mask(services, since, until)
        if not snap.ids or (mask is not None and not mask.any()):
            return []
        n = max(CANDIDATES, 20 * k)
        lexical = [] if mode == "dense" else [snap.ids[r] for r in snap.bm25.top(query, n, mask)]
        near = [] if mode == "bm25" else self._dense(snap, query, n, mask)
        dense = [cid for cid, _ in near]
        similarity: dict[str, float] = {}  # per document: its nearest chunk's cosine similarity
        for cid, sim in near:
            doc_id = snap.chunks[snap.row_of[cid]].doc_id
            similarity[doc_id] = max(sim, similarity.get(doc_id, -1.0))
        hits: list[Hit] = []
        seen: set[str] = set()
        for fused in reciprocal_rank_fusion([lexical, dense], k=FUSION_K):
            chunk = snap.chunks[snap.row_of[fused.key]]
            if chunk.doc_id in seen:
                continue
            seen.add(chunk.doc_id)
            document = snap.documents[chunk.doc_id]
            hits.append(
                Hit(
                    document,
                    chunk,
                    fused.score,
                    fused.ranks[0],
                    fused.ranks[1],
                    similarity.get(chunk.doc_id),
                )
            )
            if len(hits) == k:
                break
        return hits

    def _dense(
        self, snap: Snapshot, query: str, n: int, mask: BoolArray | None
    ) -> list[tuple[str, float]]:
        vector = self._embedder.encode_query(query)
        if mask is None:
            # Nearest of everything stored, skipping chunks not committed (an ingest running,
            # or leftovers): asking twice as many is cheap (1-2 ms at 10k chunks).
            want = min(n, len(snap.ids))
            near = self._store.query(vector, 2 * n, None)
            committed = [(cid, sim) for cid, sim in near if cid in snap.row_of]
            if len(committed) >= want:
                return committed[:want]
            allowed: Sequence[str] = snap.ids  # crowded out: search the committed ones only
        else:
            # Chroma's own metadata filter costs 20-50 ms at 10k chunks; an id list, 3 ms.
            allowed = [snap.ids[int(row)] for row in np.flatnonzero(mask)]
        return self._store.query(vector, min(n, len(allowed)), allowed)

    def _refresh(self) -> None:
        """Load the committed state again if someone else committed since."""
        with self._reload_lock:
            self._checked_at = time.monotonic()
            if self._stale or self._store.read_generation() != self._snapshot.generation:
                self._snapshot = load_snapshot(self._store)
                self._stale = False

    # -- ingest -----------------------------------------------------------------------------

    async def ingest(
        self,
        documents: Iterable[Document],
        roots: Iterable[Path | str],
        chunker: Chunker,
        *,
        batch_size: int = WRITE_BATCH,
        on_progress: Progress | None = None,
    ) -> IngestReport:
        """Bring the index in line with ``documents``, read from ``roots`` (files or dirs).

        Committed documents whose source lies under one of ``roots`` but which are not in
        ``documents`` are removed; documents from elsewhere are left alone. ``chunker`` is
        called for new and changed documents only; ``on_progress`` after each written batch.
        """
        started = time.perf_counter()
        documents = list(documents)
        async with self._ingest_lock:
            await asyncio.to_thread(self._refresh)
            snap = self._snapshot
            deleted = await asyncio.to_thread(self._collect_garbage, snap.manifest)
            plan = await asyncio.to_thread(_plan, documents, roots, snap)
            to_embed = plan.added + plan.updated
            chunks = await asyncio.to_thread(_chunk_all, to_embed, chunker)
            # Longest first: each batch holds texts of similar length, so little padding is
            # computed (about +20 % chunks/s); the commit point makes the order irrelevant.
            pending = sorted(
                (c for d in to_embed for c in chunks[d.doc_id]), key=lambda c: -len(c.text)
            )
            by_id = {d.doc_id: d for d in to_embed}
            for start in range(0, len(pending), batch_size):
                batch = pending[start : start + batch_size]
                vectors = await self._embedder.embed_documents([c.text for c in batch])
                await asyncio.to_thread(self._store.upsert_chunks, batch, vectors, by_id)
                if on_progress is not None:
                    on_progress(start + len(batch), len(pending))
            removed = set(plan.removed)
            entries = {d: e for d, e in snap.manifest.entries.items() if d not in removed}
            for d in plan.unchanged:
                entries[d.doc_id] = ManifestEntry.of(d, snap.manifest.entries[d.doc_id].chunks)
            for d in to_embed:
                entries[d.doc_id] = ManifestEntry.of(d, len(chunks[d.doc_id]))
            manifest = Manifest(snap.generation + 1, self._embedder.name, entries)
            # Also after re-embedding chunks lost from an unchanged document: nothing in the
            # manifest changes then, but the snapshot must be reloaded to see them.
            if pending or entries != snap.manifest.entries or snap.manifest.model != manifest.model:
                await asyncio.to_thread(self._commit, manifest)
                deleted += await asyncio.to_thread(self._collect_garbage, manifest)
        return IngestReport(
            added=tuple(d.doc_id for d in plan.added),
            updated=tuple(d.doc_id for d in plan.updated),
            removed=tuple(plan.removed),
            unchanged=tuple(d.doc_id for d in plan.unchanged),
            chunks_embedded=len(pending),
            chunks_deleted=deleted,
            seconds=time.perf_counter() - started,
        )

    def _commit(self, manifest: Manifest) -> None:
        self._store.write_manifest(manifest)  # the commit point
        self._stale = True
        self._refresh()

    def _collect_garbage(self, manifest: Manifest) -> int:
        keep = manifest.chunk_ids()
        orphans = [cid for cid in self._store.stored_ids() if cid not in keep]
        self._store.delete_chunks(orphans)
        return len(orphans)


def _under(origin: str, roots: Sequence[str]) -> bool:
    for root in roots:
        base = root.rstrip(os.sep)
        if origin in (root, base) or origin.startswith((base + os.sep, root + "#")):
            return True
    return False


def _plan(documents: Sequence[Document], roots: Iterable[Path | str], snap: Snapshot) -> _Plan:
    real_roots = [os.path.realpath(r) for r in roots]
    given: dict[str, Document] = {}
    plan = _Plan([], [], [], [])
    for document in documents:
        if (twin := given.get(document.doc_id)) is not None:
            raise RetrievalError(
                f"two postmortems have the id {document.doc_id!r} ({twin.source} and "
                f"{document.source}); ids must be unique across the ingested roots"
            )
        given[document.doc_id] = document
        entry = snap.manifest.entries.get(document.doc_id)
        if entry is None:
            plan.added.append(document)
        elif entry.content_hash != document.content_hash or document.doc_id in snap.incomplete:
            plan.updated.append(document)
        else:
            plan.unchanged.append(document)
    plan.removed.extend(
        doc_id
        for doc_id, entry in sorted(snap.manifest.entries.items())
        if doc_id not in given and _under(entry.origin, real_roots)
    )
    return plan


def _chunk_all(documents: Sequence[Document], chunker: Chunker) -> dict[str, list[Chunk]]:
    result: dict[str, list[Chunk]] = {}
    for document in documents:
        chunks = list(chunker(document))
        for position, chunk in enumerate(chunks):
            if (chunk.doc_id, chunk.content_hash, chunk.index) != (
                document.doc_id,
                document.content_hash,
                position,
            ):
                raise ValueError(
                    f"chunker returned {chunk.chunk_id} at position {position} for "
                    f"{document.doc_id} (hash {document.content_hash[:16]}): chunks must carry "
                    "their document's id and hash and be numbered 0, 1, 2, ..."
                )
        result[document.doc_id] = chunks
    return result
