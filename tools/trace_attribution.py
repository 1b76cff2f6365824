"""Tool: where errors originate and where time went, from traces before and after the start.

A service's latency evidence is its self time **on the critical path** (the time requests
waited on the service itself): plain self time also counts work that ran beside a slower
sibling or an async handler beside its own client span, and would blame a caller that was only
waiting. Edge evidence keeps all network time of the calls (a delayed link is a finding even
where a slower parallel call hides it) and says how much of it was on the critical path.

Calls a caller stopped (or started) making, against normal, are one evidence item per caller
and direction, naming the callees (``EdgeFinding.call_surprise``); a call that moved to the other
arm of a choice the caller always made (``EdgeFinding.other_arm``) is neither, as the input
changed and not the code. The ranking scores a stopped call as the caller's code path cut short
(``bot/investigation/signals.py``; ``docs/ranking.md`` section 1).

Given a ``reference`` window (a healthy period), a sample of its traces from the same backend
is the baseline of every service and edge it has, instead of the traces before the start: the
minutes before an incident are a thin sample of normal, and sometimes already faulty.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from tools.analysis.ended_after import ended_after_score, ended_share, stopped_after
from tools.analysis.span_attribution import (
    EdgeFinding,
    ServiceTraceFinding,
    TraceAnalysis,
    analyze_traces,
)
from tools.analysis.surprise import p_value_text
from tools.backends import TraceQuery, TracesBackend, no_traces, unique_traces
from tools.concurrency import gather_all
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import fmt_ms
from tools.reference import fallback_warning, no_baseline_warning, unhealthy_warning
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "trace_attribution"
MIN_SCORE = 1.0
MAX_CALLEES_NAMED = 3
MAX_EVIDENCE = 12


@tool(source="traces")
async def trace_attribution(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="whole window to sample traces from")],
    incident_start: Annotated[
        datetime, Field(description="traces starting before this are the baseline")
    ],
    service: Annotated[str | None, Field(description="only traces through this service")] = None,
    reference: Annotated[
        TimeWindow | None,
        Field(description="a healthy period whose traces are the baseline instead"),
    ] = None,
) -> ToolResult[TraceAnalysis]:
    """Sample traces before and after the incident start (and in the ``reference`` period,
    the baseline where it has the service); attribute errors to the service where they
    originate, critical-path self time to services and network time to caller → callee
    edges."""
    traces = configured(deps.traces)
    before, after = window.split(incident_start)
    half = max(1, deps.limits.trace_sample // 2)
    queries = [
        TraceQuery(window=w, service=service, limit=half) for w in (before, after) if w is not None
    ]
    if after is not None:  # make sure failing requests are in the sample
        queries.append(TraceQuery(window=after, service=service, errors_only=True, limit=half))
    normal_query = TraceQuery(window=reference, service=service, limit=half) if reference else None
    pages, normal_page = await gather_all(
        gather_all(*(traces.find_traces(q) for q in queries)),
        traces.find_traces(normal_query) if normal_query else no_traces(),
    )
    unique = unique_traces(spans for page in pages for spans in page)
    normal = unique_traces(normal_page)
    analysis = analyze_traces(
        unique.values(), incident_start.astimezone(UTC).timestamp(), normal.values()
    )
    found_in = after or window
    evidence = [
        *_service_evidence(analysis, traces, found_in),
        *(_ended_after(c, e, traces, found_in) for c, e in stopped_after(analysis.edges).items()),
        *_edge_evidence(analysis, traces, found_in),
        *_confirmable_origins(analysis, traces, found_in),  # the first to go past the cap
    ]
    warnings = [] if unique else ["no traces in the window"]
    # the services compared with the minutes before the start, not with a reference
    uncompared = {f.service for f in analysis.services.values() if not f.reference}
    if unique and not analysis.baseline_traces and analysis.incident_traces:
        warnings += no_baseline_warning("traces", incident_start, len(uncompared))
    if reference is not None and unique:
        missing = uncompared - set(analysis.unhealthy_reference)  # said below, with why
        warnings += fallback_warning("traces", reference, missing, len(analysis.services))
        warnings += unhealthy_warning("traces", reference, analysis.unhealthy_reference)
    return ToolResult(
        NAME,
        "traces",
        traces.name,
        ToolStatus.OK,
        data=analysis,
        evidence=evidence[:MAX_EVIDENCE],
        warnings=warnings,
    )


def _service_evidence(
    analysis: TraceAnalysis, traces: TracesBackend, window: TimeWindow
) -> list[EvidenceDraft]:
    out = []
    ranked = sorted(
        analysis.services.values(), key=lambda f: -max(f.error_score, f.critical_latency_score)
    )
    for finding in ranked:
        if finding.error_score >= MIN_SCORE:
            out.append(_origin(finding, analysis, traces, window))
        if finding.critical_latency_score >= MIN_SCORE:
            out.append(_latency(finding, traces, window))
    return out


def _confirmable_origins(
    analysis: TraceAnalysis, traces: TracesBackend, window: TimeWindow
) -> list[EvidenceDraft]:
    """Error origins significant at 5 % only: a finding where the service's own ERROR lines
    rose significantly (the engine keeps them for those services alone)."""
    return [
        _origin(finding, analysis, traces, window, confirmable=True)
        for finding in sorted(analysis.services.values(), key=lambda f: -f.confirmable_error_score)
        if finding.error_score == 0 and finding.confirmable_error_score >= MIN_SCORE
    ]


def _latency(
    finding: ServiceTraceFinding, traces: TracesBackend, window: TimeWindow
) -> EvidenceDraft:
    info = traces.describe(TraceQuery(window=window, service=finding.service))
    name = finding.service
    return EvidenceDraft(
        key=f"traces:latency:{name}",
        source=Source.TRACES,
        title=f"{name}: own time on the critical path {fmt_ms(finding.baseline_critical_ms)} → "
        f"{fmt_ms(finding.incident_critical_ms)} per trace",
        summary=(
            f"Per trace, the median time requests waited on {name} itself (its spans' self "
            f"time on the critical path, not in child calls) grew from "
            f"{fmt_ms(finding.baseline_critical_ms)} to {fmt_ms(finding.incident_critical_ms)}. "
            f"The median self time of each of its spans, on the critical path or not, went "
            f"from {fmt_ms(finding.baseline_self_ms)} to {fmt_ms(finding.incident_self_ms)}"
            f"{' (baseline: the reference period)' if finding.reference else ''}."
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=name,
        score=finding.critical_latency_score,
    )


def _origin(
    finding: ServiceTraceFinding,
    analysis: TraceAnalysis,
    traces: TracesBackend,
    window: TimeWindow,
    confirmable: bool = False,
) -> EvidenceDraft:
    info = traces.describe(TraceQuery(window=window, service=finding.service, errors_only=True))
    example = ""
    if finding.example_trace:
        link = traces.trace_link(finding.example_trace) or ""
        example = (
            f"example trace {finding.example_trace} ({finding.example_operation}: "
            f"{finding.example_error or 'error'}) {link}"
        ).strip()
    bar = (
        " Significant at 5 % only, not at 0.1 %: it counts where the service's own ERROR "
        "lines rose significantly too."
        if confirmable
        else ""
    )
    return EvidenceDraft(
        key=origin_key(finding.service),
        source=Source.TRACES,
        title=f"{finding.service}: errors originate here in "
        f"{finding.incident_origin_rate:.0%} of traces",
        summary=(
            f"In {finding.incident_origin_traces} of {analysis.incident_traces} sampled traces "
            f"since the incident start ({finding.incident_origin_rate:.0%}) the deepest "
            f"error span is in {finding.service}, against "
            f"{finding.baseline_origin_rate:.1%} of {_baseline(finding.reference, analysis)}."
            f"{_timeouts_said(finding)}{bar}"
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=finding.service,
        score=finding.confirmable_error_score if confirmable else finding.error_score,
        excerpt=example,
    )


def _timeouts_said(finding: ServiceTraceFinding) -> str:
    """What the timed-out calls among a service's errors say, if any (``timed_out_share``)."""
    if not finding.incident_timed_out_traces:
        return ""
    return (
        f" In {finding.incident_timed_out_traces} of those traces a call to {finding.service} got"
        " no answer, having waited longer than any answered call to it had taken (a timeout:"
        " lost on the way or back, or a hung instance), not an error it answered with."
    )


def _edge_evidence(
    analysis: TraceAnalysis, traces: TracesBackend, window: TimeWindow
) -> list[EvidenceDraft]:
    out = []
    for edge in sorted(analysis.edges, key=lambda e: -e.gap_score):
        if edge.gap_score < MIN_SCORE:
            break
        spans = analysis.spans_in_incident(edge.callee)
        out.append(_gap(edge, traces, window, spans=spans))
    # the same test and bar as a code path's event (p <= 0.001, normal share's uncertainty in)
    moved = [e for e in analysis.edges if e.call_moved]
    # one item per caller and direction: one exception stops several calls at once
    grouped: dict[tuple[str, bool], list[EdgeFinding]] = {}
    for edge in sorted(moved, key=lambda e: (-e.call_surprise, e.caller, e.callee)):
        grouped.setdefault((edge.caller, edge.call_stopped), []).append(edge)
    out += [_calls(edges, stopped, traces, window) for (_, stopped), edges in grouped.items()]
    return out


def _ended_after(
    callee: str, edges: list[EdgeFinding], traces: TracesBackend, window: TimeWindow
) -> EvidenceDraft:
    """Callers whose requests now end right after their call to ``callee``, having stopped
    calls they make when healthy (``tools.analysis.ended_after``)."""
    info = traces.describe(TraceQuery(window=window, service=callee))
    when = "in the reference period" if edges[0].reference else "before"
    counts = "; ".join(
        f"{e.caller} {e.baseline_last}/{e.baseline_through} traces {when} → "
        f"{e.incident_last}/{e.incident_through}"
        for e in edges[:MAX_CALLEES_NAMED]
    )
    lead = edges[0]
    return EvidenceDraft(
        key=f"traces:ended-after:{callee}",
        source=Source.TRACES,
        title=f"requests of {len(edges)} callers end right after calling {callee} ({counts})",
        summary=(
            f"{lead.caller}'s requests ended with its call to {callee} in "
            f"{ended_share(lead, incident=False):.0%} of the {lead.baseline_through} sampled "
            f"traces through it {when}, and in {ended_share(lead, incident=True):.0%} of "
            f"{lead.incident_through} since the incident start "
            f"({p_value_text(ended_after_score(lead))}); {len(edges)} callers stopped calls "
            f"they make when healthy, right after calling {callee}: it answered them with a "
            f"failure, though no span of it failed."
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=callee,
        score=ended_after_score(lead),
    )


def _baseline(reference: bool, analysis: TraceAnalysis) -> str:
    if reference:
        return f"{analysis.reference_traces} in the reference period"
    return f"{analysis.baseline_traces} before"


def _calls(
    edges: list[EdgeFinding], stopped: bool, traces: TracesBackend, window: TimeWindow
) -> EvidenceDraft:
    """One caller's calls that ``stopped`` (or started) being made, the most surprising first."""
    lead = edges[0]
    info = traces.describe(TraceQuery(window=window, service=lead.caller))
    normal, now = lead.call_share(incident=False), lead.call_share(incident=True)
    verb = "stopped" if stopped else "started"
    when = "in the reference period" if lead.reference else "before"
    callees = ", ".join(e.callee for e in edges[:MAX_CALLEES_NAMED])
    callees += (
        f" and {len(edges) - MAX_CALLEES_NAMED} more" if len(edges) > MAX_CALLEES_NAMED else ""
    )
    counts = (
        f"{lead.baseline_with}/{lead.baseline_through} traces through {lead.caller} {when} → "
        f"{lead.incident_with}/{lead.incident_through}"
    )
    why = (
        "an exception or an early return before the call, or a fallback"
        if verb == "stopped"
        else "a new dependency, a retry or a fallback path"
    )
    others = (
        f" {len(edges) - 1} other call{'s' if len(edges) > 2 else ''} {verb} too."
        if len(edges) > 1
        else ""
    )
    return EvidenceDraft(
        key=f"traces:calls:{lead.caller}:{verb}",
        source=Source.TRACES,
        title=f"{lead.caller} {verb} calling {callees} ({counts})",
        summary=(
            f"{lead.caller} called {lead.callee} in {normal:.0%} of the "
            f"{lead.baseline_through} sampled traces that went through it {when}, and in "
            f"{now:.0%} of {lead.incident_through} since the incident start "
            f"({p_value_text(lead.call_surprise)}): the requests take another path in "
            f"{lead.caller} ({why}).{others}"
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=lead.caller,
        score=lead.call_surprise,
    )


def origin_key(service: str) -> str:
    """The evidence key of the errors originating in ``service``."""
    return f"traces:origin:{service}"


def gap_key(caller: str, callee: str) -> str:
    """The evidence key of the time on calls from ``caller`` to ``callee`` outside the callee's
    spans (the engine cites it for the caller when that time is the caller's own)."""
    return f"traces:gap:{caller}->{callee}"


def _gap(
    edge: EdgeFinding, traces: TracesBackend, window: TimeWindow, *, spans: bool
) -> EvidenceDraft:
    """The time of ``edge``'s calls outside the callee's own spans; ``spans``: whether the
    callee recorded spans of its own (a database does not: all of a call is outside them)."""
    info = traces.describe(TraceQuery(window=window, service=edge.caller))
    when = "in the reference period" if edge.reference else "before"
    against = when
    if edge.pooled == "incident":  # no call of any link before: its peers at the same time
        against = "over the links into every other service at the same time (no call before"
        against += " the start or in a reference to compare with)"
    elif edge.pooled:  # this link had too few calls to be its own baseline
        period = "in the reference period" if edge.pooled == "reference" else "before"
        against = f"over the links into every other service {period}"
        against += " (this one carried too few calls of its own)"
    critical = (
        f"a median {fmt_ms(edge.incident_critical_gap_ms)} of that time was on the critical path"
    )
    if edge.baseline_critical_gap_ms is not None:
        critical += f", against {fmt_ms(edge.baseline_critical_gap_ms)} {when}"
    figures = f"{fmt_ms(edge.baseline_gap_ms)} → {fmt_ms(edge.incident_gap_ms)}"
    if spans:
        title = f"{edge.caller} → {edge.callee}: time outside {edge.callee}'s spans {figures}"
        where = f"outside {edge.callee}'s own server span (network or queueing)"
    else:
        title = (
            f"{edge.caller} → {edge.callee}: call time {figures} ({edge.callee} records no spans)"
        )
        where = f"in calls ({edge.callee} records no spans: its own time and the network's)"
    return EvidenceDraft(
        key=gap_key(edge.caller, edge.callee),
        source=Source.TRACES,
        title=title,
        summary=(
            f"Calls from {edge.caller} to {edge.callee} spend a median "
            f"{fmt_ms(edge.incident_gap_ms)} {where}, against "
            f"{fmt_ms(edge.baseline_gap_ms)} {against}. Per trace, {critical}."
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=edge.callee,
        score=edge.gap_score,
    )
