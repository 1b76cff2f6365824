"""A child process for the index tests: ``python -m tests.retrieval.ingest_child MODE DB ROOT``.

Before importing anything heavy it replaces Python's socket entry points with ones that
record the attempt and fail, so the tests can check that loading the model, opening Chroma,
embedding, ingesting and searching never touch the network (``HF_HUB_OFFLINE`` unset).

- ``full``: ingest corpus ``a``, search, print one JSON line (attempts, chunks, hits).
- ``pause``: ingest corpus ``b`` in batches of 2 chunks; after the second batch print
  ``PAUSED`` and sleep, to be killed by the test while the ingest is half done.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

ATTEMPTS: list[str] = []


def _blocked(name: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        ATTEMPTS.append(f"{name}{args[1:] if name.startswith('socket.') else args}")
        raise OSError(f"network access in a test child: {name}")

    return refuse


def guard_network() -> None:
    socket.socket.connect = _blocked("socket.connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = _blocked("socket.connect_ex")  # type: ignore[method-assign]
    socket.create_connection = _blocked("create_connection")
    socket.getaddrinfo = _blocked("getaddrinfo")


def main(mode: str, db: Path, root: Path) -> None:
    guard_network()
    import asyncio

    from retrieval.index import PostmortemIndex
    from tests.retrieval.index_support import chunker, corpus, settings, shared_embedder

    def pause(done: int, total: int) -> None:
        if done >= 4:
            print(f"PAUSED {done}/{total} attempts={len(ATTEMPTS)}", flush=True)
            time.sleep(600)

    async def run() -> None:
        index = await PostmortemIndex.open(settings(db), embedder=shared_embedder())
        try:
            if mode == "pause":
                docs = corpus(root, "b")
                await index.ingest(docs, [root], chunker, batch_size=2, on_progress=pause)
                print("FINISHED", flush=True)  # the test kills us before this
                return
            report = await index.ingest(corpus(root, "a"), [root], chunker)
            hits = await index.search("getaddrinfo five-second timeout", k=2)
            result = {
                "attempts": ATTEMPTS,
                "embedded": report.chunks_embedded,
                "hits": [h.document.doc_id for h in hits],
            }
            print(json.dumps(result), flush=True)
        finally:
            index.close()

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
