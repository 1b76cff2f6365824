"""What a search reads: the committed manifest, its chunks, and a BM25 index over them.

A :class:`Snapshot` is immutable and built from Chroma in one go, so a search sees one
committed generation from start to end even while an ingest adds chunks or commits a new
manifest; the index swaps in a new snapshot after each commit. Chunks in Chroma that the
manifest does not name (an ingest in progress, or the leftovers of a killed one) are simply
not in the snapshot, which is what makes the manifest write the commit point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from retrieval.bm25 import Bm25Index
from retrieval.manifest import Manifest
from retrieval.store import ChromaStore
from tools.postmortems import Chunk, Document

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    manifest: Manifest
    chunks: Sequence[Chunk]  # the committed chunks, ordered by (doc_id, index): the "rows"
    ids: Sequence[str]  # chunk id per row
    row_of: dict[str, int]  # chunk id → row
    row_doc: IntArray  # document position (in doc_ids) per row
    doc_ids: Sequence[str]  # sorted
    documents: dict[str, Document]  # metadata only (no sections), to build hits
    doc_services: Sequence[frozenset[str]]  # lower-cased, per document position
    doc_dates: IntArray  # date.toordinal() per document position, 0 when undated
    incomplete: frozenset[str]  # committed documents with chunks missing from Chroma
    bm25: Bm25Index

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @classmethod
    def build(cls, manifest: Manifest, stored: Sequence[Chunk]) -> Snapshot:
        by_id = {c.chunk_id: c for c in stored}
        doc_ids = sorted(manifest.entries)
        chunks: list[Chunk] = []
        row_doc: list[int] = []
        incomplete: set[str] = set()
        for position, doc_id in enumerate(doc_ids):
            for cid in manifest.entries[doc_id].chunk_ids(doc_id):
                chunk = by_id.get(cid)
                if chunk is None:
                    incomplete.add(doc_id)
                    continue
                chunks.append(chunk)
                row_doc.append(position)
        entries = [manifest.entries[d] for d in doc_ids]
        ids = [c.chunk_id for c in chunks]
        return cls(
            manifest=manifest,
            chunks=chunks,
            ids=ids,
            row_of={cid: row for row, cid in enumerate(ids)},
            row_doc=np.asarray(row_doc, dtype=np.int64),
            doc_ids=doc_ids,
            documents={d: e.document(d) for d, e in zip(doc_ids, entries, strict=True)},
            doc_services=[frozenset(s.lower() for s in e.services) for e in entries],
            doc_dates=np.asarray(
                [e.date.toordinal() if e.date else 0 for e in entries], dtype=np.int64
            ),
            incomplete=frozenset(incomplete),
            bm25=Bm25Index([c.text for c in chunks]),
        )

    def mask(
        self, services: Sequence[str], since: date | None, until: date | None
    ) -> BoolArray | None:
        """Which rows pass the filters (None: no filter given).

        ``services``: the document lists any of them (case-insensitive). ``since``/``until``:
        inclusive bounds on the document's date; undated documents fail any date bound, since
        nothing says they are in the range, and pass when no bound is given.
        """
        if not services and since is None and until is None:
            return None
        ok = np.ones(len(self.doc_ids), dtype=np.bool_)
        if services:
            wanted = frozenset(s.lower() for s in services)
            ok &= np.fromiter(
                (bool(s & wanted) for s in self.doc_services), dtype=np.bool_, count=len(ok)
            )
        if since is not None or until is not None:
            ok &= self.doc_dates > 0
            if since is not None:
                ok &= self.doc_dates >= since.toordinal()
            if until is not None:
                ok &= self.doc_dates <= until.toordinal()
        mask: BoolArray = ok[self.row_doc]
        return mask


def load_snapshot(store: ChromaStore, attempts: int = 3) -> Snapshot:
    """Read the manifest and the chunks, retrying while another process's commit or garbage
    collection lands in between (server mode: reads are paged, so deletions shift pages).

    After the last attempt the snapshot is taken as it is; documents with missing chunks are
    listed in :attr:`Snapshot.incomplete` and re-embedded by the next ingest.
    """
    for _ in range(attempts):
        manifest = store.read_manifest()
        stored = store.read_chunks()
        have = {c.chunk_id for c in stored}
        stable = store.read_generation() == manifest.generation
        if stable and manifest.chunk_ids() <= have:
            break
    return Snapshot.build(manifest, stored)
