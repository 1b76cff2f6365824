"""Tool: search logs by service, level, words or trace id (for follow-up questions)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from pydantic import Field

from tools.backends import LogPage, LogQuery
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import hhmm
from tools.records import LogLevel
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "search_logs"
MAX_LINES = 50


@tool(source="logs")
async def search_logs(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="time range to search")],
    services: Annotated[tuple[str, ...], Field(description="limit to these; empty = all")] = (),
    text: Annotated[str | None, Field(max_length=500, description="words to match")] = None,
    trace_id: Annotated[str | None, Field(max_length=64, description="lines of this trace")] = None,
    min_level: Annotated[LogLevel | None, Field(description="lines at or above")] = None,
    limit: Annotated[int, Field(ge=1, le=MAX_LINES, description="at most this many lines")] = 20,
) -> ToolResult[LogPage]:
    """Search log lines by service, level, words or trace id: the matching lines (at most
    ``limit``), oldest first, with the total count."""
    logs = configured(deps.logs)
    query = LogQuery(
        window=window,
        services=services,
        text=text,
        trace_id=trace_id,
        min_level=min_level,
        limit=limit,
    )
    page = await logs.search(query)
    info = logs.describe(query)
    lines = "\n".join(
        f"{hhmm(r.ts)} {r.service} {r.level.label.upper()} {r.message}" for r in page.records[:5]
    )
    digest = hashlib.sha1(info.text.encode(), usedforsecurity=False).hexdigest()[:8]
    evidence = (
        [
            EvidenceDraft(
                key=f"logs:search:{digest}",
                source=Source.LOGS,
                title=f"{page.total} log lines match {info.text}",
                summary=f"{page.total} log lines match the search in the window.",
                query=info.text,
                link=info.link,
                window=window,
                service=services[0] if len(services) == 1 else None,
                score=1.0 if page.total else 0.0,
                excerpt=lines,  # the gateway redacts, then clips
            )
        ]
        if page.total
        else []
    )
    return ToolResult(NAME, "logs", logs.name, ToolStatus.OK, data=page, evidence=evidence)
