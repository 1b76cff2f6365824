"""From what the tools found to ranked candidates and the evidence drafts they may cite.

:func:`rank_candidates` is the engine's rank stage without its I/O. It runs once after the
gather stage, and again when a second look at the lead candidates' own traces
(:mod:`bot.investigation.focused_traces`) replaces a thin trace finding: both runs read the
same findings, so the second differs from the first by those findings alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.investigation.call_signals import add_call_edges, callees, cite_clients_side
from bot.investigation.confirmed_origins import without_unconfirmed_origins
from bot.investigation.declared_calls import declared_calls, untraced_calls
from bot.investigation.late_callers import cite_callers_side, seen_by_callers
from bot.investigation.ranking import RankedService, rank
from bot.investigation.signals import collect
from tools.analysis.call_edges import CallEdgeChange
from tools.analysis.change_scores import SeriesChange
from tools.analysis.code_paths import CodePathChange
from tools.analysis.span_attribution import TraceAnalysis
from tools.call_edge_changes import without_past_edges
from tools.evidence import EvidenceDraft
from tools.log_patterns import LogFindings
from tools.metric_changes import without_past_episodes
from tools.records import Change
from tools.service_map import ServiceMap


@dataclass(frozen=True)
class Findings:
    """What the tools found (``None``: the tool failed or had no backend)."""

    metrics: list[SeriesChange] | None
    logs: LogFindings | None
    traces: TraceAnalysis | None
    changes: list[Change] | None
    code_paths: list[CodePathChange] | None
    calls: list[CallEdgeChange] | None


@dataclass(frozen=True)
class Ranking:
    ranked: list[RankedService]
    drafts: list[EvidenceDraft]  # what may be cited, after the filters below
    declared: dict[str, set[str]]  # who may call whom, from the service map only
    untraced: dict[str, set[str]]  # a traced caller's declared calls no measurement shows


def rank_candidates(
    found: Findings,
    drafts: list[EvidenceDraft],
    start: datetime,
    service_map: ServiceMap | None,
    limit: int,
    alert_service: str | None,
) -> Ranking:
    """Services ordered by how unusual their own signals are (``bot.investigation.ranking``),
    with the drafts left once earlier episodes and unconfirmed error origins are taken out."""
    at = start.timestamp()
    drafts = without_past_episodes(drafts, found.metrics, at)
    drafts = without_past_edges(drafts, found.calls, at)
    drafts = without_unconfirmed_origins(drafts, found.traces, found.logs)
    signals = collect(found.metrics, found.logs, found.traces, found.changes, at, found.code_paths)
    signals = add_call_edges(signals, found.calls, found.metrics, at)
    drafts = cite_callers_side(drafts, found.traces)
    drafts = cite_clients_side(drafts, found.calls, at)
    graph = callees(found.calls or [], at)
    declared = declared_calls(service_map, found.traces, found.calls)
    untraced = untraced_calls(service_map, found.traces, found.calls)
    seen_by = seen_by_callers(drafts, found.traces)
    ranked = rank(
        signals, found.traces, drafts, limit, graph, alert_service, declared, untraced, seen_by
    )
    return Ranking(ranked, drafts, declared, untraced)
