"""Hand-made postmortems, a simple chunker and the shared embedder for the index tests.

Documents are built directly from ``tools.postmortems`` (not read from files), so the index
tests do not depend on ingestion. The ``b`` version of the corpus changes two documents,
drops one and adds two long ones: what the incremental and kill-midway tests ingest second.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import date
from pathlib import Path

from retrieval.embeddings import Embedder
from retrieval.settings import RetrievalSettings
from tools.postmortems import Chunk, Document, Section, SectionName

S = SectionName


@functools.cache
def shared_embedder() -> Embedder:
    """One embedder per test process (the model itself is cached per process anyway)."""
    return Embedder()


def settings(path: Path) -> RetrievalSettings:
    return RetrievalSettings(chroma_path=path)


def make_document(
    root: Path,
    name: str,
    title: str,
    *,
    services: tuple[str, ...],
    when: date | None,
    cause: str | None,
    sections: dict[SectionName, str],
) -> Document:
    parts = tuple(
        Section(n, n.value.replace("_", " ").capitalize(), t) for n, t in sections.items()
    )
    digest = hashlib.sha256(repr((title, services, when, cause, parts)).encode()).hexdigest()
    return Document(
        doc_id=name,
        title=title,
        source=str(root / name),
        url=f"https://wiki.example/pm/{name}",
        date=when,
        services=services,
        root_cause_category=cause,
        sections=parts,
        content_hash=digest,
    )


def chunker(document: Document) -> list[Chunk]:
    """One chunk per paragraph of each section, prefixed with the title like the real one."""
    chunks: list[Chunk] = []
    for section in document.sections:
        for paragraph in section.text.split("\n\n"):
            if paragraph.strip():
                chunks.append(
                    Chunk(
                        document.doc_id,
                        document.content_hash,
                        len(chunks),
                        section.name,
                        section.heading,
                        f"{document.title} — {section.heading}\n{paragraph.strip()}",
                    )
                )
    return chunks


def corpus(root: Path, version: str = "a") -> list[Document]:
    docs = {
        "dns.md": make_document(
            root,
            "dns.md",
            "Catalog pages stall for five seconds on DNS lookups",
            services=("catalog", "coredns"),
            when=date(2025, 1, 21),
            cause="dns",
            sections={
                S.SUMMARY: "One catalog request in forty took just over five seconds.",
                S.ROOT_CAUSE: (
                    "CoreDNS was scaled down to two replicas; UDP queries were dropped and "
                    "getaddrinfo retried after the resolver's five-second timeout.\n\n"
                    "ndots:5 multiplied every lookup into four queries."
                ),
            },
        ),
        "payments-pool.md": make_document(
            root,
            "payments-pool.md",
            "Checkout errors from an exhausted payments connection pool",
            services=("payments", "checkout"),
            when=date(2025, 6, 2),
            cause="capacity",
            sections={
                S.SUMMARY: "Checkout returned HTTP 500 for twelve minutes.",
                S.ROOT_CAUSE: (
                    "HikariPool-1 - Connection is not available, request timed out after "
                    "30000ms: a slow query held every database connection of the pool."
                ),
                S.MITIGATION: "We raised the pool size and killed the long-running query.",
            },
        ),
        "cert.md": make_document(
            root,
            "cert.md",
            "Card payments fail after the PSP certificate expired",
            services=("payments", "psp-gateway"),
            when=date(2025, 2, 10),
            cause="certificate",
            sections={
                S.SUMMARY: "All card payments failed with TLS handshake errors.",
                S.ROOT_CAUSE: (
                    "The client certificate for the payment service provider expired; "
                    "renewal was manual and the reminder went to a deleted mailbox."
                ),
            },
        ),
        "disk.md": make_document(
            root,
            "disk.md",
            "Inventory database stops accepting writes when its disk fills up",
            services=("inventory", "inventory-db"),
            when=date(2025, 4, 1),
            cause="capacity",
            sections={
                S.SUMMARY: "Stock reservations failed for forty minutes.",
                S.ROOT_CAUSE: "Write-ahead log files filled the volume: no space left on device.",
            },
        ),
        "memleak.md": make_document(
            root,
            "memleak.md",
            "Recommendations pods OOMKilled every few hours",
            services=("recommendations",),
            when=date(2025, 5, 12),
            cause="memory",
            sections={
                S.SUMMARY: "Recommendation widgets were empty after each restart.",
                S.ROOT_CAUSE: "An unbounded in-process cache leaked memory until the OOM killer.",
            },
        ),
        "notes/undated.md": make_document(
            root,
            "notes/undated.md",
            "Cart latency from a noisy neighbour",
            services=("cart",),
            when=None,
            cause=None,
            sections={
                S.SUMMARY: "Cart p99 latency doubled while a batch job shared the node.",
                S.ROOT_CAUSE: "CPU steal from a co-located batch job on the same node.",
            },
        ),
    }
    if version == "b":
        docs["dns.md"] = make_document(
            root,
            "dns.md",
            "Catalog pages stall for five seconds on DNS lookups",
            services=("catalog", "coredns"),
            when=date(2025, 1, 21),
            cause="dns",
            sections={
                S.SUMMARY: "One catalog request in forty took just over five seconds.",
                S.ROOT_CAUSE: "CoreDNS ran out of capacity after a scale-down (rewritten).",
            },
        )
        docs["disk.md"] = make_document(
            root,
            "disk.md",
            "Inventory database read-only after the disk filled up",
            services=("inventory", "inventory-db"),
            when=date(2025, 4, 1),
            cause="capacity",
            sections={S.SUMMARY: "Stock reservations failed; the volume is now auto-grown."},
        )
        del docs["memleak.md"]
        for name, topic in (("kafka.md", "consumer lag"), ("mtu.md", "MTU mismatch")):
            paragraphs = "\n\n".join(
                f"Step {i}: while investigating the {topic} we checked dashboard {i}."
                for i in range(12)
            )
            docs[name] = make_document(
                root,
                name,
                f"Orders delayed by {topic}",
                services=("orders",),
                when=date(2025, 7, 1),
                cause="network" if name == "mtu.md" else "capacity",
                sections={S.SUMMARY: f"Orders were delayed by {topic}.", S.TIMELINE: paragraphs},
            )
    return list(docs.values())
