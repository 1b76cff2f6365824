"""Tool: which services' golden signals changed, scored against a baseline window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange, score_all
from tools.backends import MetricsBackend
from tools.deps import Deps
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import fmt_value, hhmm, pct_change
from tools.result import ToolResult, ToolStatus
from tools.run import guarded, unavailable

NAME = "metric_changes"
MAX_EVIDENCE = 12


class MetricChangesInput(BaseModel):
    window: TimeWindow = Field(description="whole window to fetch")
    baseline_end: datetime = Field(description="samples before this are the baseline")
    services: tuple[str, ...] = Field(default=(), description="limit to these; empty = all")
    signals: tuple[str, ...] = Field(default=(), description="limit to these; empty = all")


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


async def metric_changes(deps: Deps, params: MetricChangesInput) -> ToolResult[list[SeriesChange]]:
    """Score every service's metrics (latency, errors, traffic, saturation) for a change
    against the baseline before ``baseline_end``; evidence for the significant changes."""
    backend = deps.metrics
    if backend is None:
        return unavailable(NAME, "metrics", deps)
    metrics = backend

    async def body() -> ToolResult[list[SeriesChange]]:
        signals = list(params.signals) or await metrics.signals()
        step = deps.metrics_step
        fetched = await asyncio.gather(*(metrics.series(s, params.window, step) for s in signals))
        series = [
            s
            for group in fetched
            for s in group
            if not params.services or s.service in params.services
        ]
        changes = score_all(series, params.baseline_end.astimezone(UTC).timestamp())
        significant = [c for c in changes if c.score >= Z_THRESHOLD]
        evidence = [_evidence(c, metrics, params.window) for c in significant[:MAX_EVIDENCE]]
        warnings = (
            []
            if series
            else [
                f"no metric samples in {params.window.start.isoformat()}"
                f"..{params.window.end.isoformat()}"
            ]
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

    return await guarded(NAME, "metrics", backend.name, deps, body)
