"""Tool: past postmortems that resemble the incident, cited by document and section.

"This resembles PM-2025-038: root cause X, fixed by Y" is often the most useful sentence in an
incident channel. The search itself (BM25 + embeddings, fused) lives in ``retrieval/``; this tool
turns its hits into evidence: the postmortem's title and date, the section that matched, an
excerpt of it, and a link to the document (the wiki page when ``retrieval.url_base`` is set).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from tools.deps import Deps
from tools.evidence import EvidenceDraft, Source, clip
from tools.postmortems import Hit
from tools.result import ToolResult, ToolStatus
from tools.run import guarded, unavailable

NAME = "similar_postmortems"
SOURCE = "postmortems"
BACKEND = "retrieval"
MAX_QUERY_CHARS = 10_000


class SimilarPostmortemsInput(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        pattern=r"\S",
        description="what happened: symptoms, suspected cause, services, error messages",
    )
    services: tuple[str, ...] = Field(default=(), description="only postmortems naming these")
    since: date | None = Field(default=None, description="only postmortems from this day on")
    until: date | None = Field(default=None, description="only postmortems up to this day")
    k: int = Field(default=3, ge=1, le=10, description="how many documents")


def describe(params: SimilarPostmortemsInput) -> str:
    """The search as a person would re-run it: ``rcabot search "..." --service ...``."""
    text = " ".join(params.query.split())
    parts = [f'rcabot search "{clip(text, 300)}" -k {params.k}']
    parts += [f"--service {s}" for s in params.services]
    if params.since:
        parts.append(f"--since {params.since.isoformat()}")
    if params.until:
        parts.append(f"--until {params.until.isoformat()}")
    return " ".join(parts)


def hit_evidence(hit: Hit, query: str) -> EvidenceDraft:
    doc, chunk = hit.document, hit.chunk
    when = f" ({doc.date.isoformat()})" if doc.date else ""
    section = chunk.heading or chunk.section.value.replace("_", " ")
    cause = f"; root cause category: {doc.root_cause_category}" if doc.root_cause_category else ""
    services = f"; services: {', '.join(doc.services)}" if doc.services else ""
    body = chunk.body or chunk.text
    return EvidenceDraft(
        key=f"postmortem:{doc.doc_id}",
        source=Source.POSTMORTEM,
        title=f"past incident “{clip(doc.title, 100)}”{when}",
        summary=(
            f"The postmortem “{clip(doc.title, 160)}”{when} matches this incident; its "
            f"“{section}” section says: “{clip(' '.join(body.split()), 240)}”{cause}{services}."
        ),
        query=query,
        link=doc.url,
        service=doc.services[0] if len(doc.services) == 1 else None,
        score=round(hit.score, 4),
        excerpt=clip(body),
    )


async def similar_postmortems(deps: Deps, params: SimilarPostmortemsInput) -> ToolResult[list[Hit]]:
    """Find past postmortems resembling the incident (hybrid BM25 + embedding search over the
    ingested postmortems), each cited with its matching section and a link."""
    index = deps.postmortems
    if index is None:
        return unavailable(NAME, SOURCE, deps)
    search = index

    async def body() -> ToolResult[list[Hit]]:
        hits = await search.search(
            params.query,
            k=params.k,
            services=params.services,
            since=params.since,
            until=params.until,
        )
        query = describe(params)
        warnings = [] if hits else ["no ingested postmortem matches"]
        return ToolResult(
            NAME,
            SOURCE,
            BACKEND,
            ToolStatus.OK,
            data=hits,
            evidence=[hit_evidence(h, query) for h in hits],
            warnings=warnings,
        )

    return await guarded(NAME, SOURCE, BACKEND, deps, body)
