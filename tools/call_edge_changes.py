"""Tool: which calls between services changed, from the service graph in the metrics.

Reads the call-edge series the metrics backend has (``tools.analysis.call_edges``: the
OpenTelemetry/Tempo service graph, a mesh's client and server figures, or a bundle's series
labelled ``server``), scores each edge against normal (the ``reference`` period, else the
samples before ``baseline_end``) and cites, for the server of each edge, the time on its calls
that it did not spend itself and the calls that failed. A backend without such series gives no
edges and no warning: most have none, and the other tools do not need them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from tools.analysis.call_edges import (
    CLIENT_TIME,
    EDGE_SIGNALS,
    FAILED,
    SERVER_TIME,
    CallEdgeChange,
    edge_changes,
    is_edge_series,
)
from tools.analysis.change_scores import SeriesChange
from tools.backends import MetricsBackend, fetch_series
from tools.concurrency import gather_all
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import fmt_value, hhmm, moved
from tools.records import MetricSeries
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "call_edge_changes"


def link_key(edge: CallEdgeChange) -> str:
    return f"calls:{edge.client}->{edge.server}:link"


def failed_key(edge: CallEdgeChange) -> str:
    return f"calls:{edge.client}->{edge.server}:failed"


def _told(change: SeriesChange) -> tuple[str, str, str]:
    """Normal, now and the size of ``change`` in words."""
    value, size = moved(change.direction, change.baseline_median, change.level, change.peak)
    before = fmt_value(change.metric, change.baseline_median)
    return before, fmt_value(change.metric, value), size


def _item(
    key: str,
    edge: CallEdgeChange,
    change: SeriesChange,
    what: str,
    why: str,
    queried: tuple[str, ...],
    backend: MetricsBackend,
    window: TimeWindow,
) -> EvidenceDraft:
    """An item for ``change`` of ``edge``, cited for its server; ``queried``: the signals
    it was computed from (the link time: the client's less the server's)."""
    before, after, size = _told(change)
    normal = "the reference period" if change.against_reference else "the baseline"
    onset = f", from {hhmm(change.onset)}" if change.onset else ""
    infos = [backend.describe(signal, window, edge.client) for signal in queried]
    return EvidenceDraft(
        key=key,
        source=Source.METRICS,
        title=f"{edge.client} → {edge.server}: {what} up {size} ({before} → {after})",
        summary=(
            f"Calls from {edge.client} to {edge.server}: {what} went up from {before} in "
            f"{normal} to {after}{onset}; robust z = {change.score:.1f}. {why}"
        ),
        query=" minus ".join(info.text for info in infos) + f" (server={edge.server})",
        link=infos[0].link,
        window=window,
        service=edge.server,
        score=change.score,
    )


# what each kind of change of an edge is called, why it is the server's, and its queries
_TOLD: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "link": (
        "time outside the server",
        "{server}'s own time on them did not grow as much: the time went on the way there and "
        "back (the network or a queue), not inside it.",
        (CLIENT_TIME, SERVER_TIME),
    ),
    "failed": (
        "failed calls",
        "Counted where the calls were made: failures of the server, or of the link to it when "
        "it answered as well as before.",
        (FAILED,),
    ),
}


def _cited(edge: CallEdgeChange, at: float) -> list[tuple[str, str, SeriesChange]]:
    """(kind, key, change) of each change ``edge`` is cited for at ``at``: its link time when
    that rose and the server's own time did not as much, its failed calls when they rose."""
    cited = []
    if edge.link is not None and edge.link_rose(at):
        cited.append(("link", link_key(edge), edge.link))
    if edge.failed is not None and edge.rose(edge.failed, at):
        cited.append(("failed", failed_key(edge), edge.failed))
    return cited


def evidence(
    edges: list[CallEdgeChange], at: float, backend: MetricsBackend, window: TimeWindow
) -> list[EvidenceDraft]:
    """Items for the edges whose link time or failures rose significantly by ``at``, each
    the server's to answer for (the ranking decides whether it is its own or passed up)."""
    items = []
    for edge in edges:
        for kind, key, change in _cited(edge, at):
            what, why, queried = _TOLD[kind]
            why = why.format(server=edge.server)
            items.append(_item(key, edge, change, what, why, queried, backend, window))
    return items


def without_past_edges(
    drafts: list[EvidenceDraft], edges: list[CallEdgeChange] | None, at: float
) -> list[EvidenceDraft]:
    """``drafts`` less the items of edges not cited at ``at`` (the incident start, placed
    after the tool scored them, :func:`evidence`): an earlier episode on a call is not
    evidence about the incident, as a metric's is not (``metric_changes.without_past_episodes``)."""
    edges = edges or []
    live = {key for edge in edges for _, key, _ in _cited(edge, at)}
    past = {key for edge in edges for key in (link_key(edge), failed_key(edge))} - live
    return [d for d in drafts if d.key not in past]


@tool(source="metrics")
async def call_edge_changes(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="whole window to fetch")],
    baseline_end: Annotated[datetime, Field(description="samples before this are the baseline")],
    reference: Annotated[
        TimeWindow | None,
        Field(description="a healthy period whose samples are the baseline instead"),
    ] = None,
) -> ToolResult[list[CallEdgeChange]]:
    """Score every call between two services (time outside the server, failed calls) against
    the baseline before ``baseline_end`` (or the ``reference`` period); evidence for the calls
    that changed significantly. Needs service-graph series in the metrics."""
    metrics = configured(deps.metrics)
    names = [s for s in await metrics.signals() if s in EDGE_SIGNALS]

    async def fetch(period: TimeWindow | None) -> list[MetricSeries]:
        found = await fetch_series(metrics, names, period, deps.metrics_step)
        return [s for s in found if is_edge_series(s)]

    series, normal = await gather_all(fetch(window), fetch(reference))
    at = baseline_end.astimezone(UTC).timestamp()
    edges = edge_changes(series, at, normal)
    return ToolResult(
        NAME,
        "metrics",
        metrics.name,
        ToolStatus.OK,
        data=edges,
        evidence=evidence(edges, at, metrics, window),
    )
