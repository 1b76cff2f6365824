"""Tool: which services' golden signals changed, scored against a baseline window.

The baseline is the samples before ``baseline_end`` or, given a ``reference`` window (a healthy
period: a bundle's ``reference/``, an explicit window, the same window a day earlier), that
window's samples from the same backend: what "normal" looked like, even when the minutes before
the incident were already faulty. A series the reference lacks keeps the samples before, and the
result says which services those were.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from tools.analysis.call_edges import EDGE_SIGNALS, is_edge_series
from tools.analysis.change_rank import score_all
from tools.analysis.change_scores import MIN_BASELINE, Z_THRESHOLD, SeriesChange
from tools.analysis.metric_kinds import SignalGroup, classify
from tools.backends import MetricsBackend, fetch_series
from tools.concurrency import gather_all
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import fmt_value, hhmm, moved, pct_change
from tools.records import MetricSeries
from tools.reference import fallback_warning, window_text
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "metric_changes"
MAX_EVIDENCE = 24  # one tool call: enough to cite two changes of most services that moved
PER_SERVICE = 2
OWN_BEHAVIOUR = frozenset(
    {
        SignalGroup.LATENCY,
        SignalGroup.ERRORS,
        SignalGroup.CPU,
        SignalGroup.MEMORY,
        SignalGroup.POOL,
        SignalGroup.NETWORK,
    }
)


def evidence_key(change: SeriesChange) -> str:
    return f"metrics:{change.service}:{change.metric}"


def evidence_group(draft: EvidenceDraft) -> SignalGroup | None:
    """The signal group of the series a metric item of this tool shows (its key names the
    metric, which may hold colons itself: a recording rule's); ``None`` for any other item."""
    parts = draft.key.split(":", 2)
    if len(parts) < 3 or parts[0] != "metrics":
        return None
    return classify(parts[2])[0]


def past_episodes(changes: list[SeriesChange] | None, at: float) -> set[str]:
    """The evidence keys of the series whose every change was over before ``at`` (the incident
    start; :meth:`SeriesChange.over_before`): an earlier episode in the window."""
    live = {evidence_key(c) for c in changes or [] if not c.over_before(at)}
    return {evidence_key(c) for c in changes or []} - live


def without_past_episodes(
    drafts: list[EvidenceDraft], changes: list[SeriesChange] | None, at: float
) -> list[EvidenceDraft]:
    """``drafts`` less the metric items of :func:`past_episodes`: an earlier episode in the
    window is not evidence about the incident."""
    past = past_episodes(changes, at)
    return [d for d in drafts if d.key not in past]


def _unscored(count: int, baseline_end: datetime, reference: TimeWindow | None) -> str:
    where = " nor in the reference" if reference is not None else ""
    return (
        f"none of the {count} metric series has {MIN_BASELINE} samples before "
        f"{hhmm(baseline_end)}, where the baseline ends{where}: none was compared with normal"
    )


def _evidence(change: SeriesChange, backend: MetricsBackend, window: TimeWindow) -> EvidenceDraft:
    info = backend.describe(change.metric, window, change.service)
    before = fmt_value(change.metric, change.baseline_median)
    after = fmt_value(change.metric, change.level)
    onset = f", sustained from {hhmm(change.onset)}" if change.onset else ""
    value, size = moved(change.direction, change.baseline_median, change.level, change.peak)
    normal = "the reference period's median" if change.against_reference else "a baseline median"
    summary = (
        f"{change.service} {change.metric} went {change.direction} from {normal} "
        f"of {before} to {after} ({pct_change(change.baseline_median, change.level)}"
        f"), peaking at {fmt_value(change.metric, change.peak)} at {hhmm(change.peak_at)}"
        f"{onset}; robust z = {change.score:.1f}."
    )
    if change.went_away:
        summary += (
            f" Its {'memory' if change.group is SignalGroup.CPU else 'CPU'} fell as far: "
            "the process is gone (crashed, crash-looping or killed), not idle."
        )
    step = max(1, len(change.points) // 12)
    sparkline = ", ".join(
        f"{hhmm(t)[:5]} {fmt_value(change.metric, v)}" for t, v in change.points[::step]
    )
    return EvidenceDraft(
        key=evidence_key(change),
        source=Source.METRICS,
        title=f"{change.service}: {change.metric} {change.direction} {size} "
        f"({before} → {fmt_value(change.metric, value)})",
        summary=summary,
        query=info.text,
        link=info.link,
        window=window,
        service=change.service,
        score=change.score,
        excerpt=clip(sparkline),
    )


def _spread(changes: list[SeriesChange], limit: int) -> list[SeriesChange]:
    """The most important changes, at most :data:`PER_SERVICE` of each service, a different
    signal of it first: one service's ten latency quantiles would otherwise leave nothing to
    cite for the others, and its CPU in cores and as a share of its limit are one fact, where
    its CPU and its latency are two. The service's own behaviour (latency, errors, CPU, memory,
    a pool) before the rest (traffic, system calls, network bytes, its calls' and its host's
    figures): its latency and CPU say what went wrong, its traffic and system calls mostly how
    much work came. In the order given."""
    taken: dict[str, int] = {}
    signals: set[tuple[str, SignalGroup]] = set()
    chosen: set[int] = set()
    for distinct, named in ((True, True), (True, False), (False, False)):
        for i, change in enumerate(changes):
            key = (change.service, change.group)
            if len(chosen) == limit:
                break
            if i in chosen or taken.get(change.service, 0) >= PER_SERVICE:
                continue
            if (distinct and key in signals) or (named and change.group not in OWN_BEHAVIOUR):
                continue
            taken[change.service] = taken.get(change.service, 0) + 1
            signals.add(key)
            chosen.add(i)
    return [change for i, change in enumerate(changes) if i in chosen]


@tool(source="metrics")
async def metric_changes(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="whole window to fetch")],
    baseline_end: Annotated[datetime, Field(description="samples before this are the baseline")],
    services: Annotated[
        tuple[str, ...], Field(description="limit to these services; empty = all")
    ] = (),
    signals: Annotated[tuple[str, ...], Field(description="limit to these; empty = all")] = (),
    reference: Annotated[
        TimeWindow | None,
        Field(description="a healthy period whose samples are the baseline instead"),
    ] = None,
    incident_start: Annotated[
        datetime | None,
        Field(
            description="changes over before this (earlier episodes) are not cited, and a "
            "baseline that held one is replaced by the samples between its end and this"
        ),
    ] = None,
) -> ToolResult[list[SeriesChange]]:
    """Score every service's metrics (latency, errors, traffic, saturation) for a change
    against the baseline before ``baseline_end`` (or the ``reference`` period's samples);
    evidence for the significant changes, but for those over before ``incident_start``: an
    earlier episode in the window would take the citations of what changed in the incident.
    With ``incident_start``, a series whose baseline held such an episode is scored against
    the samples between the baseline's end and the start (``change_scores.after_an_episode``)."""
    metrics = configured(deps.metrics)
    # calls between services are their edge's, not the client's own: call_edge_changes
    names = list(signals) or [s for s in await metrics.signals() if s not in EDGE_SIGNALS]

    async def fetch(period: TimeWindow | None) -> list[MetricSeries]:
        found = await fetch_series(metrics, names, period, deps.metrics_step)
        return [
            s for s in found if (not services or s.service in services) and not is_edge_series(s)
        ]

    series, normal = await gather_all(fetch(window), fetch(reference))
    start = incident_start.timestamp() if incident_start else None
    changes = score_all(series, baseline_end.astimezone(UTC).timestamp(), normal, start)
    over = past_episodes(changes, start) if start is not None else set()
    significant = [c for c in changes if c.score >= Z_THRESHOLD and evidence_key(c) not in over]
    evidence = [_evidence(c, metrics, window) for c in _spread(significant, MAX_EVIDENCE)]
    warnings = [] if series else [f"no metric samples in {window_text(window)}"]
    if series and not changes:  # read, yet compared with nothing: say so, not "no change"
        warnings.append(_unscored(len(series), baseline_end, reference))
    if reference is not None:
        scored = {c.service for c in changes}
        compared = {c.service for c in changes if c.against_reference}
        warnings += fallback_warning("metric samples", reference, scored - compared, len(scored))
    return ToolResult(
        NAME,
        "metrics",
        metrics.name,
        ToolStatus.OK,
        data=changes,
        evidence=evidence,
        warnings=warnings,
    )
