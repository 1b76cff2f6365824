"""Per-period statistics of traces: errors, time, calls, and which calls go together.

Part of :mod:`tools.analysis.span_attribution`, which compares the periods (before the start,
the incident, a reference) and says why each figure is what it is. Two more rules live here, as
they read only these counts: :func:`call_taken_instead` (per edge: :func:`other_arms`),
:func:`less_healthy`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tools.analysis.client_spans import callee_of, children_by_parent, covered_ms
from tools.analysis.critical_path import critical_self_ms
from tools.analysis.failures_below import (
    calls_failed_below,
    failing_below,
    originates,
    origins_below,
    unanswered_callee,
)
from tools.analysis.surprise import share_above
from tools.records import Span

MIN_SAMPLES = 5


@dataclass
class PeriodStats:
    traces: int = 0
    origin_traces: Counter[str] = field(default_factory=Counter)
    failing_traces: Counter[str] = field(default_factory=Counter)  # a span of its own failed
    self_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    gap_ms: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    # one value per trace the service / edge appears in: its critical-path time in that trace
    critical_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    critical_gap_ms: dict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    # per edge, each call's time outside the callee's span where the callee recorded one: the
    # links (a call into a callee with no span of its own is its whole time, not a link's)
    link_ms: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    call_errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    # calls to a service (from any caller) that its own span answered: how long each took; and
    # per trace whose errors originate in calls to it that got no answer, the longest such call
    answered_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unanswered_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    edge_origins: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    example_error: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    service_traces: Counter[str] = field(default_factory=Counter)  # traces it has spans in
    edge_traces: Counter[tuple[str, str]] = field(default_factory=Counter)  # ... it is called in
    # traces in which a call below the service failed (``calls_failed_below``); of them, those
    # in which it made the call of the edge
    calls_failed_traces: Counter[str] = field(default_factory=Counter)
    edge_calls_failed_traces: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (caller, callee, other callee), the callees in name order: traces with both calls
    call_pairs: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # (caller, callee): traces in which the last call the caller made (by start) went to callee
    last_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (service, who called it: :func:`called_by`): traces through it; (caller, callee, who called
    # the caller): those of them with the call
    through_by_caller: Counter[tuple[str, str]] = field(default_factory=Counter)
    with_by_caller: Counter[tuple[str, str, str]] = field(default_factory=Counter)


def add_trace(stats: PeriodStats, spans: list[Span]) -> None:
    """Count one trace's spans into its period's statistics."""
    stats.traces += 1
    children = children_by_parent(spans)
    origins_in_trace: set[str] = set()
    critical = critical_self_ms(spans)
    service_critical: dict[str, float] = defaultdict(float)
    edge_critical: dict[tuple[str, str], float] = defaultdict(float)
    failed_below = failing_below(spans)
    unanswered: dict[str, float] = {}
    last_call: dict[str, tuple[float, str]] = {}  # caller → (start, callee) of its latest
    for span, critical_ms in zip(spans, critical, strict=True):
        kids = children.get(span.span_id, [])
        if originates(span, failed_below):
            callee = unanswered_callee(span, kids)
            if callee:
                unanswered[callee] = max(unanswered.get(callee, 0.0), span.duration_ms)
            origin = callee or span.service
            if origin not in origins_in_trace:
                origins_in_trace.add(origin)
                stats.example_error.setdefault(
                    origin,
                    (
                        span.trace_id,
                        span.operation,
                        span.error_message or str(span.attrs.get("http.status_code") or ""),
                    ),
                )
        self_ms = max(0.0, span.duration_ms - covered_ms(span, kids))
        if span.kind == "client":
            callee = callee_of(span, kids)
            if callee and callee != span.service:
                edge = (span.service, callee)
                stats.calls[edge] += 1
                if span.service not in last_call or span.start > last_call[span.service][0]:
                    last_call[span.service] = (span.start, callee)
                stats.gap_ms[edge].append(self_ms)
                if kids:
                    stats.link_ms[edge].append(self_ms)
                    stats.answered_ms[callee].append(span.duration_ms)
                edge_critical[edge] += critical_ms
                if span.error:
                    stats.call_errors[edge] += 1
                    stats.edge_origins[edge].update(origins_below(span, children, failed_below))
                continue
        stats.self_ms[span.service].append(self_ms)
        service_critical[span.service] += critical_ms
    stats.origin_traces.update(origins_in_trace)
    stats.last_calls.update((caller, callee) for caller, (_, callee) in last_call.items())
    for callee, waited_ms in unanswered.items():
        stats.unanswered_ms[callee].append(waited_ms)
    stats.failing_traces.update({span.service for span in spans if span.error})
    stats.service_traces.update({span.service for span in spans})
    stats.edge_traces.update(edge_critical.keys())
    calls_failed = calls_failed_below(spans)
    stats.calls_failed_traces.update(calls_failed)
    stats.edge_calls_failed_traces.update(e for e in edge_critical if e[0] in calls_failed)
    callees: dict[str, list[str]] = defaultdict(list)
    for caller, callee in sorted(edge_critical):
        callees[caller].append(callee)
    called_from = called_by(spans)
    stats.through_by_caller.update(called_from.items())
    stats.with_by_caller.update((a, b, called_from.get(a, "")) for a, b in edge_critical)
    for caller, called in callees.items():
        stats.call_pairs.update(
            (caller, one, other) for i, one in enumerate(called) for other in called[i + 1 :]
        )
    for service, ms in service_critical.items():
        stats.critical_ms[service].append(ms)
    for edge, ms in edge_critical.items():
        stats.critical_gap_ms[edge].append(ms)


def called_by(spans: list[Span]) -> dict[str, str]:
    """Per service in the trace, who called it: the services of the spans its own spans hang
    under (its callers' client spans, or their server spans), names joined in order; "" for the
    service the request entered first."""
    by_id = {span.span_id: span for span in spans}
    callers: dict[str, set[str]] = defaultdict(set)
    for span in spans:
        parent = by_id.get(span.parent_id) if span.parent_id else None
        if parent is None:
            callers[span.service].add("")
        elif parent.service != span.service:
            callers[span.service].add(parent.service)
        else:
            callers.setdefault(span.service, set())
    return {service: "+".join(sorted(names)) for service, names in callers.items()}


def call_taken_instead(
    normal: PeriodStats, incident: PeriodStats, caller: str, callee: str
) -> str | None:
    """The callee ``caller`` called instead of ``callee`` in the traces that stopped calling it
    (in a smaller share of its traces than normal; else ``None``),
    when that is the other arm of a choice it made all along: a call never made in the same
    trace as this one in the ``normal`` period, made in most of its traces without it, and in
    as many of the incident's traces without it: the input mix changed, not the code (a
    checkout that calls a card or a voucher service, by what the customer pays with). As for a
    line or internal call (``code_path_events._common_arm``), the arm must be one the caller
    took as a rule (in at least :data:`MIN_SAMPLES` traces), however rare, and not the failure
    path (calls that mostly failed). ts-seat-service asks ts-order-service or
    ts-order-other-service for a train's sold tickets by train type (28 and 7 of 35 reference
    traces on 2023-01-29, never both; 31 and 40 of 71 at 10:04): the rarer arm taking more of
    the requests is other input. Returns that callee, if any."""
    normal_through = normal.service_traces[caller]
    incident_through = incident.service_traces[caller]
    normal_with = normal.edge_traces[(caller, callee)]
    incident_with = incident.edge_traces[(caller, callee)]
    normal_without = normal_through - normal_with
    incident_without = incident_through - incident_with
    if normal_without <= 0 or incident_without <= 0:
        return None
    if incident_with * normal_through >= normal_with * incident_through:
        return None  # not in fewer of the caller's traces: nothing stopped
    for (source, other), traces in sorted(normal.edge_traces.items()):
        first, second = sorted((callee, other))
        pair = (caller, first, second)
        if source != caller or other == callee or normal.call_pairs[pair] > 0:
            continue
        common = traces >= MIN_SAMPLES
        failing = normal.call_errors[(caller, other)] > normal.calls[(caller, other)] / 2
        if not common or failing:
            continue
        instead_normal = traces / normal_without
        instead_incident = (
            incident.edge_traces[(caller, other)] - incident.call_pairs[pair]
        ) / incident_without
        if instead_normal > 0.5 and instead_incident >= instead_normal:
            return other
    return None


def less_healthy(normal: PeriodStats, before: PeriodStats) -> set[str]:
    """Services whose errors originate significantly more often in the reference period than
    in the minutes before the incident: for them the reference is not normal behaviour (it
    caught another incident), and the minutes before are their baseline instead."""
    return {
        service
        for service, hits in normal.origin_traces.items()
        if share_above(hits, normal.traces, before.origin_traces[service], before.traces)
        and before.traces >= MIN_SAMPLES
    }


def other_arms(
    edges: list[tuple[str, str]],
    bases: dict[tuple[str, str], PeriodStats],
    incident: PeriodStats,
) -> dict[tuple[str, str], str]:
    """Per edge whose calls stopped as the other arm of a choice (``call_taken_instead``):
    the call made instead; and per edge made instead, the call it replaced."""
    found: dict[tuple[str, str], str] = {}
    for caller, callee in edges:
        instead = call_taken_instead(bases[(caller, callee)], incident, caller, callee)
        if instead is not None:
            found[(caller, callee)] = instead
            found.setdefault((caller, instead), callee)
    return found
