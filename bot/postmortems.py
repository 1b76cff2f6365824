"""What ``rcabot ingest`` and ``rcabot search`` do, and the postmortem source investigations use.

The index lives in Chroma (embedded at ``retrieval.chroma_path``, or a server at
``retrieval.chroma_url``). Investigations only *open* an index that exists: an empty
``chroma_path`` means nothing was ingested, which the report says, rather than a new empty
index appearing wherever rcabot happens to run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.config import Settings
from retrieval.chunking import chunk_document
from retrieval.documents import ReadResult, read_documents
from retrieval.index import IngestReport, PostmortemIndex, SearchMode
from retrieval.settings import RetrievalSettings
from tools.deps import Deps
from tools.errors import RetrievalError
from tools.postmortems import Hit

CHROMA_FILE = "chroma.sqlite3"  # what an embedded Chroma directory holds once written


@dataclass(frozen=True)
class Ingested:
    read: ReadResult
    report: IngestReport


def index_exists(settings: RetrievalSettings) -> bool:
    return settings.chroma_url is not None or (settings.chroma_path / CHROMA_FILE).is_file()


def _nothing_ingested(settings: RetrievalSettings) -> str:
    return f"no postmortems ingested in {settings.chroma_path} (run: rcabot ingest PATH)"


async def ingest(settings: Settings, paths: Sequence[Path]) -> Ingested:
    """Read postmortems under ``paths`` and bring the index in line with them."""
    if not paths:
        raise RetrievalError("nothing to ingest: name files or directories of postmortems")
    read = await asyncio.to_thread(read_documents, paths, url_base=settings.retrieval.url_base)
    if not read.roots:
        raise RetrievalError("none of the paths exists: " + ", ".join(str(p) for p in paths))
    index = await PostmortemIndex.open(settings.retrieval)
    try:
        report = await index.ingest(read.documents, read.roots, chunk_document)
    finally:
        index.close()
    return Ingested(read, report)


async def search(
    settings: Settings,
    query: str,
    *,
    k: int = 5,
    services: Sequence[str] = (),
    since: date | None = None,
    until: date | None = None,
    mode: SearchMode = "hybrid",
) -> list[Hit]:
    if not index_exists(settings.retrieval):
        raise RetrievalError(_nothing_ingested(settings.retrieval))
    index = await PostmortemIndex.open(settings.retrieval)
    try:
        return await index.search(
            query, k=k, services=services, since=since, until=until, mode=mode
        )
    finally:
        index.close()


@asynccontextmanager
async def postmortem_source(
    settings: Settings, deps: Deps, shared: PostmortemIndex | None = None
) -> AsyncIterator[Deps]:
    """``deps`` with the postmortem index attached while the block runs (closed after).

    ``shared`` is an index the caller keeps open (the Slack bot opens one per process): it is
    attached and left open. No index, or one that cannot be opened, is recorded in
    ``deps.unavailable`` and the investigation goes on without past incidents.
    """
    if shared is not None:
        deps.postmortems = shared
        try:
            yield deps
        finally:
            deps.postmortems = None
        return
    retrieval = settings.retrieval
    if not index_exists(retrieval):
        deps.unavailable["postmortems"] = _nothing_ingested(retrieval)
        yield deps
        return
    try:
        index = await PostmortemIndex.open(retrieval)
    except RetrievalError as exc:
        deps.unavailable["postmortems"] = str(exc)
        yield deps
        return
    deps.postmortems = index
    try:
        yield deps
    finally:
        deps.postmortems = None
        index.close()
