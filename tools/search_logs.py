"""Tool: search logs by service, level, words or trace id (for follow-up questions)."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field

from tools.backends import LogPage, LogQuery
from tools.deps import Deps
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import hhmm
from tools.records import LogLevel
from tools.result import ToolResult, ToolStatus
from tools.run import guarded, unavailable

NAME = "search_logs"
MAX_LINES = 50


class SearchLogsInput(BaseModel):
    window: TimeWindow
    services: tuple[str, ...] = ()
    text: str | None = Field(default=None, max_length=500, description="words to match")
    trace_id: str | None = Field(default=None, max_length=64)
    min_level: LogLevel | None = None
    limit: int = Field(default=20, ge=1, le=MAX_LINES)


async def search_logs(deps: Deps, params: SearchLogsInput) -> ToolResult[LogPage]:
    """Matching log lines (at most ``limit``), oldest first, with the total count."""
    backend = deps.logs
    if backend is None:
        return unavailable(NAME, "logs", deps)
    logs = backend

    async def body() -> ToolResult[LogPage]:
        query = LogQuery(
            window=params.window,
            services=params.services,
            text=params.text,
            trace_id=params.trace_id,
            min_level=params.min_level,
            limit=params.limit,
        )
        page = await logs.search(query)
        info = logs.describe(query)
        lines = "\n".join(
            f"{hhmm(r.ts)} {r.service} {r.level.label.upper()} {r.message}"
            for r in page.records[:5]
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
                    window=params.window,
                    service=params.services[0] if len(params.services) == 1 else None,
                    score=1.0 if page.total else 0.0,
                    excerpt=clip(lines),
                )
            ]
            if page.total
            else []
        )
        return ToolResult(NAME, "logs", logs.name, ToolStatus.OK, data=page, evidence=evidence)

    return await guarded(NAME, "logs", backend.name, deps, body)
