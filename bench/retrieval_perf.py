"""Postmortem index speed at 10k chunks: ingest chunks/s and query latency p50/p90/p99, printed.

    python bench/retrieval_perf.py [ARCHIVE_OR_DIR] [--chunks N] [--queries N] [--k K]

Builds an index of ``--chunks`` (default 10,000) chunks in a temporary directory through the
production path (``read_documents`` → ``PostmortemIndex.ingest(..., chunk_document)``) and
times it: one ingest call, embedding included (the model is loaded before the clock starts),
reported as chunks/s with the share spent in the embedding model.

The corpus (``postmortems.tar.xz``: 1087 documents, about 6.4k chunks) is not big enough, so
it is topped up with **varied copies** of its documents, in corpus order, until the chunk
count is reached: a copy has the id ``replica/<doc_id>``, the title ``"<title> (replica)"``,
the same metadata (services, date, cause category: filters select copies like originals) and
each section's sentences in reverse order, so its chunks have other boundaries, other texts
and other vectors than the original's (near neighbours, as real postmortems of recurring
incidents are), rather than exact duplicates that Chroma's HNSW graph and BM25 would treat
unlike real data.

Queries: ``--queries`` (default 200) of the quality benchmark's known-item queries
(``bench/retrieval_eval.py``: alternately a "symptom" and a "summary" query, records in corpus
order), each asked with ``k=--k`` (default 5, the agent tool's) in each mode: ``hybrid`` (embed
the query + BM25 + dense + fusion, the production default), ``bm25`` and ``dense`` alone; then
hybrid with a service filter (the record's first service: narrow, a few documents) and a date
filter (``since=2019-01-01``: broad, about half the corpus). One warm-up query per series,
then each query once, timed around ``await index.search(...)`` (what the agent tool awaits).
The query embedding alone is timed too. The goals (issue): hybrid p50 ≤ 30 ms on this 2-core
machine, ingest ≥ 200 chunks/s.

Other processes on the machine slow both figures down: the cores they kept busy during the
ingest and during the queries are printed (``/proc/stat`` minus this process's CPU time).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.retrieval_eval import DEFAULT, build_queries, cpu_model, dataset, load_records  # noqa: E402
from retrieval.chunking import chunk_document  # noqa: E402
from retrieval.documents import read_documents  # noqa: E402
from retrieval.embeddings import Embedder, FloatArray  # noqa: E402
from retrieval.index import PostmortemIndex, SearchMode  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402
from tools.postmortems import Document, Section  # noqa: E402

SINCE = date(2019, 1, 1)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class TimedEmbedder(Embedder):
    """The production embedder, adding up the time spent encoding chunks."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0

    def encode_documents(self, texts: Sequence[str]) -> FloatArray:
        started = time.perf_counter()
        try:
            return super().encode_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started


def replica(doc: Document) -> Document:
    """A varied copy of ``doc``: new id and hash, each section's sentences reversed."""
    sections = tuple(
        Section(s.name, s.heading, " ".join(reversed(_SENTENCE.split(s.text.strip()))))
        for s in doc.sections
    )
    digest = hashlib.sha256(f"replica:{doc.content_hash}".encode()).hexdigest()
    return dataclasses.replace(
        doc,
        doc_id=f"replica/{doc.doc_id}",
        title=f"{doc.title} (replica)",
        sections=sections,
        content_hash=digest,
    )


def corpus_of(documents: Sequence[Document], target: int) -> tuple[list[Document], int, int]:
    """The documents plus as many replicas as it takes to reach ``target`` chunks."""
    out = list(documents)
    chunks = sum(len(chunk_document(d)) for d in out)
    copies = 0
    for doc in documents:
        if chunks >= target:
            break
        copy = replica(doc)
        out.append(copy)
        chunks += len(chunk_document(copy))
        copies += 1
    return out, chunks, copies


class Contention:
    """How many cores OTHER processes kept busy since :meth:`start` (Linux ``/proc/stat``)."""

    def __init__(self) -> None:
        self.start()

    @staticmethod
    def _now() -> tuple[float, float, float] | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        times = os.times()
        return time.monotonic(), busy, times.user + times.system

    def start(self) -> None:
        self._start = self._now()

    def cores(self) -> str:
        end = self._now()
        if self._start is None or end is None:
            return "unknown"
        wall, busy, own = (b - a for a, b in zip(self._start, end, strict=True))
        return f"{max(0.0, busy - own) / wall:.2f}" if wall > 0 else "unknown"


def cells(samples: Sequence[float]) -> str:
    """p50, p90, p99, max and mean of latencies in ms, as table cells."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    figures = (
        statistics.median(samples),
        cuts[89],
        cuts[98],
        max(samples),
        statistics.fmean(samples),
    )
    return "".join(f"{x:>7.1f}" for x in figures)


async def series(
    index: PostmortemIndex,
    queries: Sequence[tuple[str, tuple[str, ...]]],
    k: int,
    mode: SearchMode,
    *,
    by_service: bool = False,
    since: date | None = None,
) -> tuple[list[float], float]:
    """Latencies (ms) of each query in turn after one warm-up, and the mean hits returned."""
    text, services = queries[0]
    await index.search(
        text, k=k, mode=mode, services=services[:1] if by_service else (), since=since
    )
    samples, hits = [], 0
    for text, services in queries:
        wanted = services[:1] if by_service else ()
        started = time.perf_counter()
        found = await index.search(text, k=k, mode=mode, services=wanted, since=since)
        samples.append((time.perf_counter() - started) * 1000)
        hits += len(found)
    return samples, hits / len(queries)


async def measure(root: Path, index_dir: Path, target: int, count: int, k: int) -> None:
    read = read_documents([root])
    documents, chunk_count, copies = corpus_of(read.documents, target)
    sets = build_queries(load_records(root), read.documents)
    services = {d.doc_id: d.services for d in read.documents}
    pairs = list(zip(sets["symptom"], sets["summary"], strict=False))
    chosen = [q for pair in pairs for q in pair][:count]
    queries = [(q.text, services[q.doc_id]) for q in chosen]

    embedder = TimedEmbedder()
    async with await PostmortemIndex.open(
        RetrievalSettings(chroma_path=index_dir), embedder=embedder
    ) as index:
        await index.warm_up()
        cores = len(os.sched_getaffinity(0))
        print("command: " + shlex.join([Path(sys.executable).name, *sys.argv]))
        print(
            f"machine: {cpu_model()}, {cores} cores available; Python "
            f"{platform.python_version()}; load average before: "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        print(
            "versions: "
            + ", ".join(
                f"{p} {version(p)}" for p in ("torch", "sentence-transformers", "chromadb", "bm25s")
            )
            + f"; model {embedder.name} ({embedder.dtype}), embedded Chroma"
        )
        words = statistics.fmean(
            len(c.text.split())
            for d in documents[:: max(1, len(documents) // 500)]
            for c in chunk_document(d)
        )
        print(
            f"corpus: {len(read.documents)} documents + {copies} varied copies = "
            f"{len(documents)} documents, {chunk_count} chunks (about {words:.0f} words each)"
        )

        contention = Contention()
        report = await index.ingest(documents, read.roots, chunk_document)
        others_ingest = contention.cores()
        stats = await index.stats()
        rate = report.chunks_embedded / report.seconds
        print(
            f"\ningest (one call: chunk, embed, write to Chroma, commit, reload): "
            f"{report.chunks_embedded} chunks in {report.seconds:.1f} s = {rate:.0f} chunks/s "
            f"[goal ≥ 200: {'met' if rate >= 200 else 'NOT met'}]"
        )
        print(
            f"   of which the embedding model {embedder.seconds:.1f} s "
            f"({report.chunks_embedded / embedder.seconds:.0f} chunks/s alone), "
            f"the rest {report.seconds - embedder.seconds:.1f} s; index: {stats.documents} "
            f"documents, {stats.chunks} chunks; other processes kept {others_ingest} of "
            f"{cores} cores busy meanwhile"
        )

        print(
            f"\nqueries: {len(queries)} (symptom and summary queries alternately, "
            f"{statistics.median(len(t.split()) for t, _ in queries):.0f} words median), "
            f"k={k}, one warm-up each series; latency in ms"
        )
        print(f"{'series':<44}{'p50':>7}{'p90':>7}{'p99':>7}{'max':>7}{'mean':>7}{'hits':>6}")
        contention.start()
        await embedder.embed_query(queries[0][0])  # warm-up
        embed = []
        for text, _ in queries:
            started = time.perf_counter()
            await embedder.embed_query(text)
            embed.append((time.perf_counter() - started) * 1000)
        print(f"{'query embedding alone':<44}" + cells(embed))
        runs: list[tuple[str, SearchMode, bool, date | None]] = [
            ("hybrid", "hybrid", False, None),
            ("bm25", "bm25", False, None),
            ("dense", "dense", False, None),
            ("hybrid, services=[the record's first]", "hybrid", True, None),
            (f"hybrid, since={SINCE.isoformat()}", "hybrid", False, SINCE),
            (f"dense, since={SINCE.isoformat()}", "dense", False, SINCE),
        ]
        p50: dict[str, float] = {}
        for label, mode, by_service, since in runs:
            samples, hits = await series(
                index, queries, k, mode, by_service=by_service, since=since
            )
            p50[label] = statistics.median(samples)
            print(f"{label:<44}" + cells(samples) + f"{hits:>6.1f}")
        hybrid_p50 = p50["hybrid"]
        print(
            f"\nhybrid p50 {hybrid_p50:.1f} ms [goal ≤ 30 ms: "
            f"{'met' if hybrid_p50 <= 30 else 'NOT met'}]; other processes kept "
            f"{contention.cores()} of {cores} cores busy during the queries"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="archive or folder")
    parser.add_argument("--chunks", type=int, default=10_000, help="index size to build")
    parser.add_argument("--queries", type=int, default=200, help="queries per series")
    parser.add_argument("--k", type=int, default=5, help="hits asked per search")
    args = parser.parse_args()
    started = time.perf_counter()
    with dataset(args.path) as root, tempfile.TemporaryDirectory(prefix="rcabot-perf-") as tmp:
        asyncio.run(measure(root, Path(tmp), args.chunks, args.queries, args.k))
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
