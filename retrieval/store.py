"""Chroma, as the postmortem index uses it: two collections, one lock, errors we can explain.

- ``rcabot_postmortem_chunks``: one record per chunk: our own embedding (Chroma's default
  embedding function is never created, it would download a model), the text, and the
  document's metadata (scalars, plus ``services`` as a string array, which Chroma 1.x
  supports) so a record is self-describing. Cosine space.
- ``rcabot_postmortem_manifest``: ONE record whose document is the JSON manifest ``doc_id →
  (content hash, chunk count, metadata)``. Writing it is the commit point of an ingest: a
  single-record upsert is atomic, locally and on a server, so readers see the old manifest or
  the new one, never a mix. Chunks not named by the manifest are invisible and garbage.

Embedded (``PersistentClient``) is the default; ``HttpClient`` when ``retrieval.chroma_url``
is set, for several bot replicas. Embedded Chroma is single-process: a second process on the
same directory sees new rows in SQLite but keeps searching its own stale copy of the vector
index, and Chroma 1.5 takes no lock. So we take one per process (``flock`` on ``rcabot.lock``
in the directory, released by the kernel if the process dies) and say who holds it; indexes
opened within one process share it.

Vendor errors become :class:`RetrievalError` naming the directory or URL and what to do.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

import httpx
import numpy as np
import numpy.typing as npt

from retrieval.manifest import (
    MANIFEST_FORMAT,
    Manifest,
    NewerManifest,
    chunk_from_record,
    chunk_metadata,
)
from retrieval.settings import RetrievalSettings
from tools.errors import RetrievalError
from tools.postmortems import Chunk, Document

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

CHUNKS = "rcabot_postmortem_chunks"
MANIFEST = "rcabot_postmortem_manifest"
MANIFEST_ID = "manifest"
LOCK_FILE = "rcabot.lock"
PAGE = 5_000  # records per get(): bounds memory and HTTP bodies in server mode


class StaleChunkIds(RetrievalError):
    """A search named chunks that were deleted after its snapshot was taken: refresh, retry."""


class _DirLock:
    """An exclusive ``flock`` on ``<dir>/rcabot.lock`` for this process, pid in the file.

    Every store of this process on the directory shares it (Chroma shares one client per
    directory within a process, so they stay consistent); the last one closed releases it.
    """

    _held: ClassVar[dict[str, tuple[IO[str], int]]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, directory: Path) -> None:
        self._key: str | None = os.path.realpath(directory)
        with self._guard:
            file, count = self._held.get(self._key) or (self._take(directory), 0)
            self._held[self._key] = (file, count + 1)

    @staticmethod
    def _take(directory: Path) -> IO[str]:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            file = (directory / LOCK_FILE).open("a+", encoding="utf-8")
        except OSError as exc:
            raise RetrievalError(
                f"cannot create the postmortem index in {directory}: {exc}"
            ) from exc
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip() or "unknown"
            file.close()
            raise RetrievalError(
                f"the postmortem index in {directory} is in use by another process "
                f"(pid {holder}): embedded Chroma serves one process at a time. Stop that "
                "process (the bot, or another ingest) and retry, or run a Chroma server and set "
                "retrieval.chroma_url (RCABOT_RETRIEVAL__CHROMA_URL) for shared use."
            ) from None
        file.seek(0)
        file.truncate()
        file.write(str(os.getpid()))
        file.flush()
        return file

    def release(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        with self._guard:
            file, count = self._held.pop(key)
            if count > 1:
                self._held[key] = (file, count - 1)
            else:
                file.close()  # closing the descriptor drops the flock


def _forget_failed_system(identifier: str) -> None:
    """Drop what a failed ``PersistentClient()`` left in Chroma's per-process cache.

    Chroma caches one "system" per directory and registers it *before* starting it; when
    starting fails (a damaged database) the broken system stays cached, and every later
    client for that path, even after the directory was deleted and recreated, gets it and
    fails with an AttributeError. Only an unreferenced entry is dropped.
    """
    from chromadb.api.shared_system_client import SharedSystemClient as Shared

    with Shared._refcount_lock:
        if Shared._identifier_to_refcount.get(identifier, 0) > 0:
            return
        system = Shared._identifier_to_system.pop(identifier, None)
    if system is not None:
        with contextlib.suppress(Exception):
            system.stop()


class ChromaStore:
    """The two collections, opened once; every method blocks (call from a worker thread)."""

    def __init__(self, settings: RetrievalSettings) -> None:
        self.server = settings.chroma_url is not None
        self.where = settings.chroma_url or str(settings.chroma_path)
        self._lock = None if self.server else _DirLock(settings.chroma_path)
        self._client: ClientAPI | None = None
        try:
            with self.guard("opening the index"):
                self._client = self._connect(settings)
                self._chunks = self._client.get_or_create_collection(
                    CHUNKS, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
                self._manifest = self._client.get_or_create_collection(
                    MANIFEST, embedding_function=None
                )
                self._probe()
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _connect(settings: RetrievalSettings) -> ClientAPI:
        import chromadb
        from chromadb.config import Settings

        chroma = Settings(anonymized_telemetry=False)
        if settings.chroma_url is None:
            try:
                return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma)
            except Exception:
                _forget_failed_system(str(settings.chroma_path))
                raise
        url = urlsplit(settings.chroma_url)
        ssl = url.scheme == "https"
        port = url.port or (443 if ssl else 80)
        return chromadb.HttpClient(host=url.hostname or "", port=port, ssl=ssl, settings=chroma)

    def _probe(self) -> None:
        """Touch the vector index: Chroma loads it lazily, and a damaged one should fail now."""
        sample = self._chunks.get(limit=1, include=["embeddings"])
        embeddings = sample["embeddings"]
        if embeddings is not None and len(embeddings) > 0:
            probe = np.asarray(embeddings[:1], dtype=np.float32)
            self._chunks.query(query_embeddings=probe, n_results=1, include=[])

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Map Chroma's and the transport's exceptions to a :class:`RetrievalError`."""
        from chromadb.errors import ChromaError

        try:
            yield
        except RetrievalError:
            raise
        except (ChromaError, OSError, httpx.HTTPError) as exc:
            raise RetrievalError(self._explain(what, exc)) from exc
        except ValueError as exc:  # HttpClient: "Could not connect to a Chroma server"
            if not self.server or "connect" not in str(exc).lower():
                raise
            raise RetrievalError(self._explain(what, exc)) from exc

    def _explain(self, what: str, exc: BaseException) -> str:
        if self.server:
            return (
                f"Chroma server {self.where}: {what} failed: {exc}. Check that the server is "
                "running and reachable (retrieval.chroma_url)."
            )
        return (
            f"postmortem index in {self.where}: {what} failed: {exc}. The directory looks "
            "damaged (or was written by another Chroma version): delete it and ingest the "
            "postmortems again."
        )

    # -- manifest ---------------------------------------------------------------------------

    def read_generation(self) -> int:
        with self.guard("reading the manifest"):
            got = self._manifest.get(ids=[MANIFEST_ID], include=["metadatas"])
        metas = got["metadatas"] or []
        generation = metas[0].get("generation") if metas and metas[0] else 0
        return generation if isinstance(generation, int) else 0

    def read_manifest(self) -> Manifest:
        with self.guard("reading the manifest"):
            got = self._manifest.get(ids=[MANIFEST_ID], include=["documents"])
        docs = got["documents"] or []
        if not docs:
            return Manifest(0, None, {})
        try:
            return Manifest.from_json_text(docs[0])
        except NewerManifest as exc:
            raise RetrievalError(
                f"the postmortem index in {self.where} was written by a newer rcabot ({exc}): "
                "upgrade rcabot, or ingest into a new directory"
            ) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise RetrievalError(self._explain("reading the manifest", exc)) from exc

    def write_manifest(self, manifest: Manifest) -> None:
        """Replace the manifest: the commit point of an ingest (one atomic record upsert)."""
        with self.guard("committing the manifest"):
            self._manifest.upsert(
                ids=[MANIFEST_ID],
                # Chroma requires an embedding; the record is only ever read by id.
                embeddings=np.zeros((1, 1), dtype=np.float32),
                documents=[manifest.to_json_text()],
                metadatas=[{"generation": manifest.generation, "format": MANIFEST_FORMAT}],
            )

    # -- chunks -----------------------------------------------------------------------------

    def count(self) -> int:
        with self.guard("counting chunks"):
            return self._chunks.count()

    def stored_ids(self) -> list[str]:
        ids: list[str] = []
        with self.guard("listing chunks"):
            while True:
                page = self._chunks.get(include=[], limit=PAGE, offset=len(ids))
                ids.extend(page["ids"])
                if len(page["ids"]) < PAGE:
                    return ids

    def read_chunks(self) -> list[Chunk]:
        """Every stored chunk, committed or not (the caller filters by the manifest)."""
        chunks: list[Chunk] = []
        offset = 0
        with self.guard("reading chunks"):
            while True:
                page = self._chunks.get(
                    include=["documents", "metadatas"], limit=PAGE, offset=offset
                )
                texts, metas = page["documents"] or [], page["metadatas"] or []
                chunks.extend(chunk_from_record(t, m) for t, m in zip(texts, metas, strict=True))
                offset += len(page["ids"])
                if len(page["ids"]) < PAGE:
                    return chunks

    def upsert_chunks(
        self,
        chunks: Sequence[Chunk],
        vectors: npt.NDArray[np.float32],
        documents: Mapping[str, Document],
    ) -> None:
        with self.guard("writing chunks"):
            self._chunks.upsert(
                ids=[c.chunk_id for c in chunks],
                embeddings=vectors,
                documents=[c.text for c in chunks],
                metadatas=[chunk_metadata(c, documents[c.doc_id]) for c in chunks],  # type: ignore[misc]
            )

    def delete_chunks(self, ids: Sequence[str]) -> None:
        step = PAGE
        with self.guard("deleting chunks"):
            for start in range(0, len(ids), step):
                self._chunks.delete(ids=list(ids[start : start + step]))

    def query(
        self, vector: npt.NDArray[np.float32], n: int, ids: Sequence[str] | None
    ) -> list[tuple[str, float]]:
        """The ``n`` chunks nearest to ``vector`` as (id, cosine similarity), nearest first;
        among ``ids`` if given (which must all exist: Chroma fails the query otherwise)."""
        from chromadb.errors import InternalError

        if n <= 0 or (ids is not None and not ids):
            return []
        with self.guard("searching"):
            try:
                got = self._chunks.query(
                    query_embeddings=vector.reshape(1, -1),
                    n_results=n,
                    ids=list(ids) if ids is not None else None,
                    include=["distances"],
                )
            except InternalError as exc:
                if ids is not None and "finding id" in str(exc):
                    raise StaleChunkIds(self._explain("searching", exc)) from exc
                raise
        distances = (got.get("distances") or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], distances, strict=True)]

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                # HttpClient.close() leaves the httpx sessions of the client and of its
                # internal admin client (a second "system") open: close them ourselves.
                for part in (client, getattr(client, "_admin_client", None)):
                    session = getattr(getattr(part, "_server", None), "_session", None)
                    if isinstance(session, httpx.Client):
                        session.close()
                client.close()  # type: ignore[attr-defined]
        if self._lock is not None:
            self._lock.release()
            self._lock = None
