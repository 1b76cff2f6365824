"""Tool: past postmortems that resemble the incident, cited by document and section.

"This resembles PM-2025-038: root cause X, fixed by Y" is often the most useful sentence in an
incident channel. The search itself (BM25 + embeddings, fused) lives in ``retrieval/``; this tool
turns its hits into evidence: the postmortem's title and date, the section that matched, an
excerpt of it, and a link to the document (the wiki page when ``retrieval.url_base`` is set).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from pydantic import Field

from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, clip
from tools.postmortems import Hit
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "similar_postmortems"
SOURCE = "postmortems"
BACKEND = "retrieval"
MAX_QUERY_CHARS = 10_000


def describe(
    query: str,
    k: int,
    services: tuple[str, ...] = (),
    since: date | None = None,
    until: date | None = None,
) -> str:
    """The search as a person would re-run it: ``rcabot search "..." --service ...``."""
    text = " ".join(query.split())
    parts = [f'rcabot search "{clip(text, 300)}" -k {k}']
    parts += [f"--service {s}" for s in services]
    if since:
        parts.append(f"--since {since.isoformat()}")
    if until:
        parts.append(f"--until {until.isoformat()}")
    return " ".join(parts)


def hit_evidence(hit: Hit, query: str, redact: Callable[[str], str]) -> EvidenceDraft:
    """The evidence of one hit; document text is redacted (``redact``) before it is clipped, so
    no cut can leave part of a secret that redaction would no longer recognise."""
    doc, chunk = hit.document, hit.chunk
    title = redact(doc.title)
    when = f" ({doc.date.isoformat()})" if doc.date else ""
    section = chunk.heading or chunk.section.value.replace("_", " ")
    cause = f"; root cause category: {doc.root_cause_category}" if doc.root_cause_category else ""
    services = f"; services: {', '.join(doc.services)}" if doc.services else ""
    body = redact(chunk.body or chunk.text)
    return EvidenceDraft(
        key=f"postmortem:{doc.doc_id}",
        source=Source.POSTMORTEM,
        title=f"past incident “{clip(title, 100)}”{when}",
        summary=(
            f"The postmortem “{clip(title, 160)}”{when} matches this incident; its "
            f"“{section}” section says: “{clip(' '.join(body.split()), 240)}”{cause}{services}."
        ),
        query=query,
        link=doc.url,
        service=doc.services[0] if len(doc.services) == 1 else None,
        score=round(hit.score, 4),
        excerpt=body,
    )


@tool(source="postmortems")
async def similar_postmortems(
    deps: Deps,
    query: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_QUERY_CHARS,
            pattern=r"\S",
            description="what happened: symptoms, suspected cause, services, error messages",
        ),
    ],
    services: Annotated[tuple[str, ...], Field(description="only postmortems naming these")] = (),
    since: Annotated[date | None, Field(description="only postmortems from this day on")] = None,
    until: Annotated[date | None, Field(description="only postmortems up to this day")] = None,
    k: Annotated[int, Field(ge=1, le=10, description="how many documents")] = 3,
) -> ToolResult[list[Hit]]:
    """Find past postmortems resembling the incident (hybrid BM25 + embedding search over the
    ingested postmortems), each cited with its matching section and a link."""
    index = configured(deps.postmortems)
    hits = await index.search(query, k=k, services=services, since=since, until=until)
    described = describe(deps.text.redact(query), k, services, since, until)
    warnings = [] if hits else ["no ingested postmortem matches"]
    return ToolResult(
        NAME,
        SOURCE,
        BACKEND,
        ToolStatus.OK,
        data=hits,
        evidence=[hit_evidence(h, described, deps.text.redact) for h in hits],
        warnings=warnings,
    )
