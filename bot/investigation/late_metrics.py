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

Metrics that were scored are scored again knowing the start where it can change them
(:func:`scored_from_start`): the samples before the baseline's end are normal only if the
service was healthy then, and a baseline that held an earlier episode gives way to the
samples between its end and the start.
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
from tools.metric_changes import metric_changes, past_episodes
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
    scored again against the samples before ``start``, with a note saying so. When the second
    scores nothing either, its answers stand (their warning says no series had a baseline);
    when it fails, the first's do, and the note says why.

    Otherwise the metrics are scored again knowing ``start`` where that can change them
    (:func:`scored_from_start`): a change over before it (an earlier episode in the window: a
    previous fault, a deploy's warm-up) is not cited, and a baseline that held one gives way
    to the samples between its end and the start."""
    metrics, calls = first
    if not metrics.ok or start <= baseline_end:
        return first, []
    if metrics.data:
        return (
            await scored_from_start(gateway, window, baseline_end, reference, start, metrics),
            calls,
        ), []
    again, again_calls = await gather_all(
        gateway.call(
            metric_changes,
            window=window,
            baseline_end=start,
            reference=reference,
            incident_start=start,
        ),
        gateway.call(call_edge_changes, window=window, baseline_end=start, reference=reference),
    )
    if not again.ok:  # the backend failed in between: the first result says they went unscored
        return first, [
            f"scoring the metrics again against the samples before {hhmm(start)}, the "
            f"incident's start, failed: {again.error}"
        ]
    second = (again, again_calls if again_calls.ok else calls)
    if not again.data:  # nothing before the start either: its warning says so
        return second, []
    note = (
        f"no metric series had {MIN_BASELINE} samples before {hhmm(baseline_end)}, where the "
        f"baseline ends (the metrics begin later): they were compared with the samples before "
        f"{hhmm(start)}, the incident's start, which may already hold its first minutes"
    )
    return second, [note]


def unscored_metrics(metrics: ToolResult[list[SeriesChange]]) -> list[str]:
    """What to say, beside the sources that could not be read, of metrics that were read and
    yet compared with nothing (none had a baseline): not that nothing changed in them."""
    if not metrics.ok or metrics.data:
        return []
    return [
        "metrics were read, but no series could be scored against a baseline (the warnings say why)"
    ]


async def scored_from_start(
    gateway: ToolGateway,
    window: TimeWindow,
    baseline_end: datetime,
    reference: TimeWindow | None,
    start: datetime,
    metrics: ToolResult[list[SeriesChange]],
) -> ToolResult[list[SeriesChange]]:
    """``metrics``, or the same metrics scored again knowing the incident's ``start``
    (``metric_changes(incident_start=start)``; the first kept when that call fails), when the
    start can change what they say:

    - they cited a change over before ``start``. The metrics tool cites at most two changes
      of a service, its largest: a frontend whose CPU and latency rose in a fault over ten
      minutes earlier had both citations taken by those, and the errors it began to return at
      the start had none; once the earlier episode's items were dropped, it had no evidence
      and was no candidate. Cited again, changes over by then are passed over.
    - a series scored against the samples before ``baseline_end`` has at least
      ``MIN_BASELINE`` samples between that and ``start``: enough to tell whether its baseline
      held an earlier episode (``change_scores.after_an_episode``), and to be normal instead.
      A frontend whose CPU was at its limit for seven of the baseline's ten minutes (the
      previous fault) had its next fault's CPU at the limit scored as no change at all."""
    cited = {d.key for d in metrics.evidence}
    gap = (start - baseline_end).total_seconds()
    settled = any(
        c.step > 0 and MIN_BASELINE * c.step <= gap and not c.against_reference
        for c in metrics.data or []
    )
    if not settled and not cited & past_episodes(metrics.data, start.timestamp()):
        return metrics
    again = await gateway.call(
        metric_changes,
        window=window,
        baseline_end=baseline_end,
        reference=reference,
        incident_start=start,
    )
    return again if again.ok else metrics
