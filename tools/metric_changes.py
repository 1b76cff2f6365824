"""Tool: which services' golden signals changed, scored against a baseline window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange, score_all
from tools.backends import MetricsBackend
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import fmt_value, hhmm, pct_change
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "metric_changes"
MAX_EVIDENCE = 12


def _evidence(change: SeriesChange, backend: MetricsBackend, window: TimeWindow) -> EvidenceDraft:
    info = backend.describe(change.metric, window, change.service)
    before = fmt_value(change.metric, change.baseline_median)
    after = fmt_value(change.metric, change.incident_median)
    onset = f", sustained from {hhmm(change.onset)}" if change.onset else ""
    summary = (
        f"{change.service} {change.metric} went {change.direction} from a baseline median "
        f"of {before} to {after} ({pct_change(change.baseline_median, change.incident_median)}"
        f"), peaking at {fmt_value(change.metric, change.peak)} at {hhmm(change.peak_at)}"
        f"{onset}; robust z = {change.score:.1f}."
    )
    step = max(1, len(change.points) // 12)
    sparkline = ", ".join(
        f"{hhmm(t)[:5]} {fmt_value(change.metric, v)}" for t, v in change.points[::step]
    )
    return EvidenceDraft(
        key=f"metrics:{change.service}:{change.metric}",
        source=Source.METRICS,
        title=f"{change.service}: {change.metric} {change.direction} "
        f"{pct_change(change.baseline_median, change.incident_median)}",
        summary=summary,
        query=info.text,
        link=info.link,
        window=window,
        service=change.service,
        score=change.score,
        excerpt=clip(sparkline),
    )


@tool(source="metrics")
async def metric_changes(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="whole window to fetch")],
    baseline_end: Annotated[datetime, Field(description="samples before this are the baseline")],
    services: Annotated[
        tuple[str, ...], Field(description="limit to these services; empty = all")
    ] = (),
    signals: Annotated[tuple[str, ...], Field(description="limit to these; empty = all")] = (),
) -> ToolResult[list[SeriesChange]]:
    """Score every service's metrics (latency, errors, traffic, saturation) for a change
    against the baseline before ``baseline_end``; evidence for the significant changes."""
    metrics = configured(deps.metrics)
    names = list(signals) or await metrics.signals()
    fetched = await asyncio.gather(*(metrics.series(s, window, deps.metrics_step) for s in names))
    series = [s for group in fetched for s in group if not services or s.service in services]
    changes = score_all(series, baseline_end.astimezone(UTC).timestamp())
    significant = [c for c in changes if c.score >= Z_THRESHOLD]
    evidence = [_evidence(c, metrics, window) for c in significant[:MAX_EVIDENCE]]
    warnings = (
        []
        if series
        else [f"no metric samples in {window.start.isoformat()}..{window.end.isoformat()}"]
    )
    return ToolResult(
        NAME,
        "metrics",
        metrics.name,
        ToolStatus.OK,
        data=changes,
        evidence=evidence,
        warnings=warnings,
    )
