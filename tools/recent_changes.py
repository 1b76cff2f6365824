"""Tool: deploys, config changes and flag flips close to the incident start."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import hhmm
from tools.records import Change
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "recent_changes"
LOOKBACK = timedelta(minutes=60)
LOOKAHEAD = timedelta(minutes=5)


def proximity(change: Change, incident_start: datetime) -> float:
    """1.0 for a change right at the start, fading over ~15 minutes; 0 outside the range."""
    minutes = (incident_start - change.ts).total_seconds() / 60
    if minutes < -LOOKAHEAD.total_seconds() / 60 or minutes > LOOKBACK.total_seconds() / 60:
        return 0.0
    return 1.0 / (1.0 + max(minutes, 0.0) / 15.0)


@tool(source="changes")
async def recent_changes(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="whole window to read")],
    incident_start: Annotated[datetime, Field(description="when the incident started")],
    services: Annotated[tuple[str, ...], Field(description="limit to these; empty = all")] = (),
) -> ToolResult[list[Change]]:
    """Changes (deploys, config changes, flag flips) in the window, each scored by how close
    before the incident start it landed."""
    changes_backend = configured(deps.changes)
    found = await changes_backend.changes(window, services)
    info = changes_backend.describe(window, services)
    evidence = []
    for change in found:
        score = proximity(change, incident_start)
        if score <= 0:
            continue
        minutes = (incident_start - change.ts).total_seconds() / 60
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
