"""``rcabot ingest`` and ``rcabot search``: the past postmortems."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from bot import postmortems
from bot.cli_options import ConfigOption, JsonOption, settings_from, stdout
from tools.errors import RcabotError
from tools.evidence import clip
from tools.postmortems import Hit


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Postmortem files or directories.")],
    config: ConfigOption = None,
) -> None:
    """Index past postmortems (Markdown, text, HTML, incident JSON); re-running is incremental."""
    settings = settings_from(config)
    done = asyncio.run(postmortems.ingest(settings, paths))
    for warning in done.read.warnings:
        stdout.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    r = done.report
    stdout.print(
        f"{len(done.read.documents)} documents read; added {len(r.added)}, updated "
        f"{len(r.updated)}, removed {len(r.removed)}, unchanged {len(r.unchanged)}; "
        f"{r.chunks_embedded} chunks embedded in {r.seconds:.1f}s "
        f"→ {settings.retrieval.chroma_url or settings.retrieval.chroma_path}"
    )


def search(
    query: Annotated[str, typer.Argument(help="What happened, in words.")],
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many documents.")] = 5,
    service: Annotated[
        list[str] | None, typer.Option(help="Only postmortems naming this service.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only from this day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only up to this day (YYYY-MM-DD).")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense.")] = "hybrid",
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Search past postmortems (BM25 + embeddings, fused)."""
    if mode not in ("hybrid", "bm25", "dense"):
        raise RcabotError(f"--mode must be hybrid, bm25 or dense, not {mode!r}")
    hits = asyncio.run(
        postmortems.search(
            settings_from(config),
            query,
            k=k,
            services=service or (),
            since=_day(since, "--since"),
            until=_day(until, "--until"),
            mode=mode,  # type: ignore[arg-type]  # checked above
        )
    )
    if as_json:
        sys.stdout.write(json.dumps([_hit_json(h) for h in hits], indent=2) + "\n")
        return
    if not hits:
        stdout.print("no matching postmortem")
    for rank, hit in enumerate(hits, start=1):
        doc = hit.document
        when = doc.date.isoformat() if doc.date else "undated"
        stdout.print(
            f"[bold]{rank}. {escape(doc.title)}[/bold] ({when}) — {hit.chunk.section.value} "
            f"[dim]score {hit.score:.4f}, bm25 #{hit.bm25_rank}, dense #{hit.dense_rank}[/dim]"
        )
        stdout.print(f"   {escape(clip(' '.join(hit.chunk.body.split()), 240))}")
        if doc.url:
            stdout.print(f"   {escape(doc.url)}", soft_wrap=True)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise RcabotError(f"{option}: expected YYYY-MM-DD, got {value!r}") from exc


def _hit_json(hit: Hit) -> dict[str, object]:
    doc = hit.document
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "date": doc.date.isoformat() if doc.date else None,
        "services": list(doc.services),
        "root_cause_category": doc.root_cause_category,
        "url": doc.url,
        "section": hit.chunk.section.value,
        "heading": hit.chunk.heading,
        "excerpt": hit.chunk.body,
        "score": hit.score,
        "bm25_rank": hit.bm25_rank,
        "dense_rank": hit.dense_rank,
    }
