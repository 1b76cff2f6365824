"""Tool: deploys, config changes and flag flips close to the incident start."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from tools.deps import Deps
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import hhmm
from tools.records import Change
from tools.result import ToolResult, ToolStatus
from tools.run import guarded, unavailable

NAME = "recent_changes"
LOOKBACK = timedelta(minutes=60)
LOOKAHEAD = timedelta(minutes=5)


class RecentChangesInput(BaseModel):
    window: TimeWindow
    incident_start: datetime
    services: tuple[str, ...] = Field(default=(), description="limit to these; empty = all")


def proximity(change: Change, incident_start: datetime) -> float:
    """1.0 for a change right at the start, fading over ~15 minutes; 0 outside the range."""
    minutes = (incident_start - change.ts).total_seconds() / 60
    if minutes < -LOOKAHEAD.total_seconds() / 60 or minutes > LOOKBACK.total_seconds() / 60:
        return 0.0
    return 1.0 / (1.0 + max(minutes, 0.0) / 15.0)


async def recent_changes(deps: Deps, params: RecentChangesInput) -> ToolResult[list[Change]]:
    """Changes in the window, each scored by how close before the incident start it landed."""
    backend = deps.changes
    if backend is None:
        return unavailable(NAME, "changes", deps)
    changes_backend = backend

    async def body() -> ToolResult[list[Change]]:
        found = await changes_backend.changes(params.window, params.services)
        info = changes_backend.describe(params.window, params.services)
        evidence = []
        for change in found:
            score = proximity(change, params.incident_start)
            if score <= 0:
                continue
            minutes = (params.incident_start - change.ts).total_seconds() / 60
            when = f"{minutes:.0f} min before" if minutes >= 0 else f"{-minutes:.0f} min after"
            version = f" {change.version}" if change.version else ""
            by = f" by {change.author}" if change.author else ""
            evidence.append(
                EvidenceDraft(
                    key=f"change:{change.service}:{int(change.ts.timestamp())}",
                    source=Source.CHANGE,
                    title=f"{change.kind} of {change.service}{version} at {hhmm(change.ts)}",
                    summary=(
                        f"{change.kind.capitalize()} of {change.service}{version}{by} at "
                        f"{hhmm(change.ts)}, {when} the incident start: {change.description}"
                    ),
                    query=info.text,
                    link=change.link or info.link,
                    window=TimeWindow(start=change.ts, end=change.ts + timedelta(seconds=1)),
                    service=change.service,
                    score=score,
                )
            )
        return ToolResult(
            NAME, "changes", changes_backend.name, ToolStatus.OK, data=found, evidence=evidence
        )

    return await guarded(NAME, "changes", backend.name, deps, body)
