"""The metrics' baseline when the recording begins after the baseline's usual end.

The scope ends the metrics' baseline well before the alert (``ALERT_LOOKBACK``: symptoms
precede an alert by minutes), and the metrics are scored against the samples before that end.
Metrics that begin later (a bundle cut a few minutes before the fault, as the first fault of
each Nezha day is; a Prometheus started or wiped shortly before) hold no such samples: every
series goes unscored, and the investigation would rank without its metrics, saying nothing of
it. A CPU that rose from a quarter of its limit to all of it was then no evidence at all.

The incident start is placed without them too, by the logs' and traces' change points
(``bot.investigation.scope.incident_start``), else shortly before the alert. The minutes
before it are then the only normal the metrics have: they are scored again with the baseline
ending there, and the report says so, since those minutes may hold the fault's first ones.
"""

from __future__ import annotations

from datetime import datetime

from tools.analysis.call_edges import CallEdgeChange
from tools.analysis.change_scores import MIN_BASELINE, SeriesChange
from tools.call_edge_changes import call_edge_changes
from tools.concurrency import gather_all
from tools.evidence import TimeWindow
from tools.formatting import hhmm
from tools.gateway import ToolGateway
from tools.metric_changes import metric_changes
from tools.result import ToolResult

MetricsResults = tuple[ToolResult[list[SeriesChange]], ToolResult[list[CallEdgeChange]]]


async def scored_before_start(
    gateway: ToolGateway,
    window: TimeWindow,
    baseline_end: datetime,
    reference: TimeWindow | None,
    start: datetime,
    first: MetricsResults,
) -> tuple[MetricsResults, list[str]]:
    """``first`` (the metrics and call edges scored against the baseline before
    ``baseline_end``), or, when that scored no series at all and ``start`` is later, both
    scored again against the samples before ``start``, with a note saying so. The first
    answers stand when the second scores nothing either (no metrics at all), or fails (then
    the note says the metrics went uncompared, and why)."""
    metrics, calls = first
    if not metrics.ok or metrics.data or start <= baseline_end:
        return first, []
    again, again_calls = await gather_all(
        gateway.call(metric_changes, window=window, baseline_end=start, reference=reference),
        gateway.call(call_edge_changes, window=window, baseline_end=start, reference=reference),
    )
    unscored = (
        f"no metric series had {MIN_BASELINE} samples before {hhmm(baseline_end)}, "
        "where the baseline ends (the metrics begin later)"
    )
    if not again.ok:  # the backend failed in between: say the metrics went uncompared
        return first, [f"{unscored}, and scoring them again failed: {again.error}"]
    if not again.data:
        return first, []
    note = (
        f"{unscored}: they were compared with the samples before {hhmm(start)}, the "
        "incident's start, which may already hold its first minutes"
    )
    return (again, again_calls if again_calls.ok else calls), [note]
