"""The manifest, the one record that says what the index contains, and chunk metadata.

The manifest maps each committed document id to its content hash, its chunk count and the
metadata a search hit shows. Chunk indexes run from 0 to count - 1 and chunk ids are derived
from (doc id, hash, index) by :attr:`tools.postmortems.Chunk.chunk_id`, so the manifest names
every committed chunk without listing them: whatever else is stored is garbage.

It is stored as JSON in a single Chroma record; replacing that record is the commit point
of an ingest (see :mod:`retrieval.index`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tools.postmortems import Chunk, Document, SectionName

MANIFEST_FORMAT = 1  # bump when the JSON changes incompatibly; older readers then refuse


class NewerManifest(ValueError):
    """The manifest was written by a newer rcabot (a higher format)."""


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """What the index knows about one committed document."""

    content_hash: str
    chunks: int  # chunk indexes are 0 .. chunks - 1, so the chunk ids follow from the entry
    title: str
    source: str
    origin: str  # real path of ``source``: tells which ingested root the document came from
    url: str | None
    date: date | None
    services: tuple[str, ...]
    root_cause_category: str | None

    @classmethod
    def of(cls, document: Document, chunks: int) -> ManifestEntry:
        return cls(
            content_hash=document.content_hash,
            chunks=chunks,
            title=document.title,
            source=document.source,
            origin=origin_of(document.source),
            url=document.url,
            date=document.date,
            services=document.services,
            root_cause_category=document.root_cause_category,
        )

    def document(self, doc_id: str) -> Document:
        """The document as far as the index knows it: metadata, no sections (see ``Hit``)."""
        return Document(
            doc_id=doc_id,
            title=self.title,
            source=self.source,
            url=self.url,
            date=self.date,
            services=self.services,
            root_cause_category=self.root_cause_category,
            sections=(),
            content_hash=self.content_hash,
        )

    def chunk_ids(self, doc_id: str) -> list[str]:
        return [
            Chunk(doc_id, self.content_hash, i, SectionName.OTHER, "", "").chunk_id
            for i in range(self.chunks)
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": self.content_hash,
            "chunks": self.chunks,
            "title": self.title,
            "source": self.source,
            "origin": self.origin,
            "url": self.url,
            "date": self.date.isoformat() if self.date else None,
            "services": list(self.services),
            "root_cause_category": self.root_cause_category,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ManifestEntry:
        return cls(
            content_hash=str(raw["hash"]),
            chunks=int(raw["chunks"]),
            title=str(raw["title"]),
            source=str(raw["source"]),
            origin=str(raw["origin"]),
            url=raw["url"],
            date=date.fromisoformat(raw["date"]) if raw["date"] else None,
            services=tuple(raw["services"]),
            root_cause_category=raw["root_cause_category"],
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    generation: int  # 0: nothing committed yet; +1 per commit
    model: str | None  # embedding model the chunks were embedded with
    entries: Mapping[str, ManifestEntry]

    def chunk_ids(self) -> set[str]:
        return {cid for doc_id, e in self.entries.items() for cid in e.chunk_ids(doc_id)}

    def to_json_text(self) -> str:
        body = {
            "format": MANIFEST_FORMAT,
            "generation": self.generation,
            "model": self.model,
            "documents": {k: e.to_json() for k, e in sorted(self.entries.items())},
        }
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json_text(cls, text: str) -> Manifest:
        """Parse; raises ValueError (or KeyError, TypeError) for a malformed record."""
        raw = json.loads(text)
        if int(raw["format"]) > MANIFEST_FORMAT:
            raise NewerManifest(f"manifest format {raw['format']}")
        entries = {k: ManifestEntry.from_json(v) for k, v in raw["documents"].items()}
        return cls(int(raw["generation"]), raw["model"], entries)


def chunk_metadata(chunk: Chunk, document: Document) -> dict[str, str | int | list[str]]:
    """Chroma metadata of a chunk: scalars and a string array; absent values are left out."""
    meta: dict[str, str | int | list[str]] = {
        "doc_id": chunk.doc_id,
        "content_hash": chunk.content_hash,
        "index": chunk.index,
        "section": chunk.section.value,
        "heading": chunk.heading,
        "title": document.title,
        "source": document.source,
        "services_text": ", ".join(document.services),
    }
    if document.services:  # Chroma rejects empty arrays
        meta["services"] = [s.lower() for s in document.services]
    if document.url:
        meta["url"] = document.url
    if document.date:
        meta["date"] = document.date.isoformat()
    if document.root_cause_category:
        meta["root_cause"] = document.root_cause_category
    return meta


def chunk_from_record(text: str, meta: Mapping[str, Any]) -> Chunk:
    try:
        section = SectionName(meta["section"])
    except ValueError:
        section = SectionName.OTHER
    return Chunk(
        doc_id=str(meta["doc_id"]),
        content_hash=str(meta["content_hash"]),
        index=int(meta["index"]),
        section=section,
        heading=str(meta.get("heading", "")),
        text=text,
    )


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]+:(?!\\)")


def origin_of(source: str) -> str:
    """Where a document came from, as ingest compares it with the roots it walks: a file's
    real path, or a non-file source (``slack:C1/1700.1``, a confirmed cause) as it is, so an
    ``rcabot ingest`` of some directory never removes it."""
    return source if _SCHEME.match(source) else os.path.realpath(source)
