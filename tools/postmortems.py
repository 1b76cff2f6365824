"""The postmortem contract: a :class:`Document`, its :class:`Chunk` s, a search :class:`Hit`.

Ingestion (``retrieval.documents``, ``retrieval.chunking``) turns files into documents and
chunks; the index (``retrieval.index``) stores chunks with our own embeddings in Chroma and
searches them (BM25 + dense, fused); the agent tool turns hits into evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class SectionName(StrEnum):
    """Canonical postmortem sections; headings are mapped onto these (``other`` otherwise)."""

    SUMMARY = "summary"
    IMPACT = "impact"
    TIMELINE = "timeline"
    DETECTION = "detection"
    ROOT_CAUSE = "root_cause"
    CONTRIBUTING_FACTORS = "contributing_factors"
    MITIGATION = "mitigation"
    ACTION_ITEMS = "action_items"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Section:
    name: SectionName
    heading: str  # the heading as written ("What went wrong"), "" for text before any heading
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """One postmortem, read from a file or a structured record."""

    doc_id: str  # stable across runs: path relative to the ingested root, or "<file>#<key>"
    title: str
    source: str  # where it was read: the file path (and record key for JSON collections)
    url: str | None  # link for people: url_base + relative path, or the record's own link
    date: date | None
    services: tuple[str, ...]
    root_cause_category: str | None
    sections: tuple[Section, ...]
    content_hash: str  # sha256 hex of the normalised content and metadata: changes ⇔ re-index


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of one section of one document, the unit that is embedded and searched."""

    doc_id: str
    content_hash: str  # the document's, so chunks of an old version are recognisable
    index: int  # position in the document, from 0
    section: SectionName
    heading: str
    text: str

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}@{self.content_hash[:16]}#{self.index}"

    @property
    def body(self) -> str:
        """The section text, without the context line that chunking puts first."""
        return self.text.partition("\n")[2]


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a document, represented by its best chunk."""

    document: Document
    chunk: Chunk
    score: float  # fused score (higher is better); comparable within one result list only
    bm25_rank: int | None  # 1-based rank of the chunk in each retriever, None if not retrieved
    dense_rank: int | None
    # cosine similarity of the document's nearest chunk to the query (None: dense not used):
    # unlike the ranks, it says how alike they are, not only which is most alike
    similarity: float | None = None
