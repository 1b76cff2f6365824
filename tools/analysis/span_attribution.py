"""Trace attribution: where errors originate, where time is spent, and the call graph.

- **Error origin**: an error span with no failing span below it (anywhere in its subtree: the
  client and handler spans between a caller's failing server span and its callee's often
  carry no error status, and the caller failed because the callee did). A client span that
  failed with no child span (the callee never answered) is attributed to the callee named by
  ``peer.service`` / ``db.system``: a dependency that is down leaves no spans of its own.
  Such a call that waited longer than any answered call to the callee had taken in the
  baseline timed out (``ServiceTraceFinding.timed_out_share``): lost on the way or back, or a
  hung instance; one that failed at once was refused.
- **Self time**: a span's duration not covered by its children. A *client* span's self time is
  time on the network or in the callee's queue, attributed to the edge caller → callee (this is
  how delay injected on a callee's network shows up: the callers' time around the call grows
  while the callee's own spans do not).
- **Critical-path time** (:mod:`tools.analysis.critical_path`): the same split, counting only
  time the request waited on. Summed per trace: per service, the critical-path self time of its
  spans (0 in a trace where all of them ran beside a slower sibling); per edge, the critical
  part of its client spans' time outside the callee's server span.
- **Edges**: caller → callee with call and error counts, and for failing calls the services
  where those errors originated (the callee itself, or further down: propagated); and the share
  of the traces through the caller that make the call, so a call that stops or starts being
  made (``EdgeFinding.call_surprise``) shows, as a line that stops shows in code paths; with
  how many of the traces without it had a call below the caller fail (``stop_explained``), and
  whether another call took its place as the other arm of a choice the caller always made
  (``other_arm``, :func:`tools.analysis.trace_periods.call_taken_instead`).

An edge's time outside the callee's span counts as changed only when the incident's calls
are significantly slower there than the baseline's (:func:`tools.analysis.surprise.values_rose`,
p ≤ 0.001), as error shares must be significantly higher: this time is a few milliseconds, and
its median over a handful of calls moves by chance or with the callee's error handling (a
servlet's error page is rendered after its span closed), which read as network delay. An edge
with too few calls of its own is tested with all its callee's callers together, or against
every link's calls (:mod:`tools.analysis.link_time`).

The baseline is the traces before the split, or, given *reference* traces (a healthy period),
those for every service in at least ``MIN_SAMPLES`` of them and every edge called that often;
the rest keep the traces before the split, and so do the services whose errors originate
significantly more often in the reference than before (it caught another incident) and the
edges they call.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from tools.analysis import link_time
from tools.analysis.call_shares import call_change, normal_share, share_at_callers_mix
from tools.analysis.code_path_events import MIN_SCORE as MIN_CALL_SCORE
from tools.analysis.surprise import (
    SIGNIFICANCE,
    share_rose,
    smoothed_share,
    values_rose,
)
from tools.analysis.trace_periods import (
    MIN_SAMPLES,
    PeriodStats,
    add_trace,
    less_healthy,
    other_arms,
)
from tools.records import Span

# a service whose own ERROR lines rose significantly (another record, p <= 0.001): the share
# of traces whose errors originate in it needs only the conventional 5 % (a closed test's
# second step, as for an edge in tools.analysis.link_time)
CONFIRMED = 0.05


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if len(values) >= MIN_SAMPLES else None


def _timed_out(unanswered_ms: list[float], answered_ms: list[float]) -> int:
    """How many of the calls that got no answer waited longer than any answered call did
    (at least :data:`MIN_SAMPLES` of them): timeouts. A refused call fails fast."""
    if len(answered_ms) < MIN_SAMPLES:
        return 0
    slowest = max(answered_ms)
    return sum(1 for waited in unanswered_ms if waited > slowest)


def _growth(base: float | None, incident: float | None, smoothing_ms: float = 5.0) -> float:
    if base is None or incident is None:
        return 0.0
    return max(0.0, math.log2((incident + smoothing_ms) / (base + smoothing_ms)))


@dataclass(frozen=True, slots=True)
class ServiceTraceFinding:
    service: str
    baseline_origin_rate: float  # share of traces whose errors originate here
    incident_origin_rate: float
    incident_origin_traces: int
    example_trace: str | None
    example_operation: str | None
    example_error: str | None
    baseline_self_ms: float | None  # median self time of its own spans
    incident_self_ms: float | None
    # median per trace of its spans' self time on the critical path (time the request waited)
    baseline_critical_ms: float | None = None
    incident_critical_ms: float | None = None
    reference: bool = False  # the baseline figures are the reference period's
    baseline_traces: int = 0  # traces of the period the baseline figures come from
    incident_traces: int = 0
    # traces in which a span of its own failed (its errors, wherever they originate)
    baseline_failing_rate: float = 0.0
    incident_failing_traces: int = 0
    # incident traces whose errors originate in a call to it that got no answer, having waited
    # longer than any call to it took in the baseline (a timeout, not a refusal)
    incident_timed_out_traces: int = 0

    @property
    def error_score(self) -> float:
        """Doublings of the share of traces whose errors originate here, when that share is
        significantly above normal (:func:`tools.analysis.surprise.share_rose`): a service
        that fails as often as it did when healthy is not where the incident comes from."""
        return self.error_score_at(SIGNIFICANCE)

    @property
    def confirmable_error_score(self) -> float:
        """The same at the conventional 5 % (:data:`CONFIRMED`), for a service whose own ERROR
        lines rose significantly: its errors rose by that record, and the traces say where
        they originate; alone it is no finding."""
        return self.error_score_at(CONFIRMED)

    def error_score_at(self, significance: float) -> float:
        normal_hits = round(self.baseline_origin_rate * self.baseline_traces)
        if self.incident_origin_traces < 3 or not share_rose(
            self.incident_origin_traces,
            self.incident_traces,
            normal_hits,
            self.baseline_traces,
            significance,
        ):
            return 0.0
        normal = smoothed_share(normal_hits, self.baseline_traces)
        return max(0.0, math.log2((self.incident_origin_rate + 0.01) / (normal + 0.01)))

    @property
    def timed_out_share(self) -> float:
        """Share of the incident traces whose errors originate here in which a call to it got
        no answer and waited longer than any call to it took in the baseline: the call timed
        out on the way to it or back (lost packets, a hung instance), not in its code."""
        if not self.incident_origin_traces:
            return 0.0
        return min(1.0, self.incident_timed_out_traces / self.incident_origin_traces)

    @property
    def failures_passed_up(self) -> bool:
        """It failed significantly more often, but its own errors did not rise: what fails
        it originates below it (a callee's errors, calls that never got an answer)."""
        normal_hits = round(self.baseline_failing_rate * self.baseline_traces)
        return (
            self.incident_failing_traces >= 3
            and self.error_score == 0
            and share_rose(
                self.incident_failing_traces,
                self.incident_traces,
                normal_hits,
                self.baseline_traces,
            )
        )

    @property
    def latency_score(self) -> float:
        return _growth(self.baseline_self_ms, self.incident_self_ms)

    @property
    def critical_latency_score(self) -> float:
        return _growth(self.baseline_critical_ms, self.incident_critical_ms)


@dataclass(frozen=True, slots=True)
class EdgeFinding:
    caller: str
    callee: str
    incident_calls: int
    incident_errors: int
    baseline_gap_ms: float | None  # median client time not covered by the callee's span
    incident_gap_ms: float | None
    error_origins: tuple[tuple[str, int], ...]  # where the failing calls' errors originate
    # median per trace of that client time on the critical path (network / queue it waited on)
    baseline_critical_gap_ms: float | None = None
    incident_critical_gap_ms: float | None = None
    reference: bool = False  # the baseline figures are the reference period's
    # traces through the caller, and those of them in which it made this call: baseline, incident
    baseline_through: int = 0
    baseline_with: int = 0
    incident_through: int = 0
    incident_with: int = 0
    # incident traces through the caller without this call in which a call below it failed
    incident_without_failed: int = 0
    # traces through the caller whose last call it made went to this callee: baseline, incident
    baseline_last: int = 0
    incident_last: int = 0
    # the baseline's share of traces through the caller with the call, at the incident's mix
    # of who called the caller (``call_shares.share_at_callers_mix``); None: with / through
    baseline_mixed: float | None = None
    # the call stopped (or started) as the other arm of a choice the caller always made: the
    # call made instead (or the call it replaced); the input changed, not the code
    other_arm: str | None = None
    # time outside the callee's span per call significantly larger than the baseline's
    gap_rose: bool = False
    # "reference" or "before": the baseline is every link's calls in that period
    # (``link_time.slower_than_links``), this one made too few; "incident": neither period had
    # any, the baseline is the calls into other callees at the same time
    # (``link_time.other_links``); None: its own calls
    pooled: Literal["reference", "before", "incident"] | None = None

    @property
    def call_surprise(self) -> float:
        """How surprising the change of the share of traces through the caller that make
        this call is (``-log10`` of its beta-binomial tail, :func:`change_score`), when the share
        moved largely (:func:`~tools.analysis.code_path_events.moved_largely`) and the baseline
        saw the caller in :data:`MIN_SAMPLES` traces, against the baseline as it was and at the
        incident's mix of who called the caller (``baseline_mixed``;
        :func:`tools.analysis.call_shares.call_change`, the less surprising); else 0. A call
        that stops or starts: the caller took another path (an exception before the call, a
        fallback, a new dependency)."""
        return call_change(
            self.baseline_with,
            self.baseline_through,
            self.baseline_mixed,
            self.incident_with,
            self.incident_through,
        )

    @property
    def call_moved(self) -> bool:
        """The caller stopped or started making this call in a surprising share of the traces
        through it (``call_surprise`` at least :data:`~tools.analysis.code_path_events.MIN_SCORE`,
        the bar of a code path's event), and not as the other arm of a choice it always made
        (``other_arm``)."""
        return self.other_arm is None and self.call_surprise >= MIN_CALL_SCORE

    @property
    def call_stopped(self) -> bool:
        """The call moved (``call_moved``), to fewer of the traces through the caller."""
        fewer = self.call_share(incident=True) < self.call_share(incident=False)
        return fewer and self.call_moved

    @property
    def stop_explained(self) -> float:
        """Share of the incident traces through the caller without this call in which a call
        below the caller failed: the caller may have stopped because of it (a reaction), as a
        code-path change is explained by a failing callee (``CodePathChange.callee_failed``)."""
        without = self.incident_through - self.incident_with
        return self.incident_without_failed / without if without > 0 else 0.0

    def call_share(self, *, incident: bool) -> float:
        """Share of the traces through the caller that make this call; the baseline's is the
        nearer the incident's of as it was and at the incident's mix of callers."""
        now = self.incident_with / self.incident_through if self.incident_through else 0.0
        if incident:
            return now
        return normal_share(self.baseline_with, self.baseline_through, self.baseline_mixed, now)

    @property
    def gap_score(self) -> float:
        """Doublings of the median time per call outside the callee's span, when it rose
        significantly (``gap_rose``); else 0."""
        if not self.gap_rose:
            return 0.0
        return _growth(self.baseline_gap_ms, self.incident_gap_ms)

    @property
    def critical_gap_score(self) -> float:
        return _growth(self.baseline_critical_gap_ms, self.incident_critical_gap_ms)

    @property
    def fault_in_callee(self) -> bool:
        return bool(self.error_origins) and self.error_origins[0][0] == self.callee


@dataclass(frozen=True, slots=True)
class TraceAnalysis:
    baseline_traces: int
    incident_traces: int
    services: dict[str, ServiceTraceFinding]
    edges: list[EdgeFinding]
    reference_traces: int = 0  # traces of the reference period, when one was given
    # services the reference period is not normal for: more errors there than just before
    unhealthy_reference: tuple[str, ...] = ()

    def callees(self, service: str) -> set[str]:
        return {e.callee for e in self.edges if e.caller == service}

    def spans_in_incident(self, service: str) -> bool:
        """Whether ``service`` recorded spans of its own in the incident (a database named
        only in its callers' client spans did not)."""
        finding = self.services.get(service)
        return finding is not None and finding.incident_self_ms is not None


def _sampled(stats: PeriodStats) -> set[str]:
    """Services with their own spans in at least :data:`MIN_SAMPLES` traces of the period."""
    return {s for s, per_trace in stats.critical_ms.items() if len(per_trace) >= MIN_SAMPLES}


def analyze_traces(
    traces: Iterable[list[Span]], split: float, reference: Iterable[list[Span]] = ()
) -> TraceAnalysis:
    """Attribute errors and time in ``traces``, comparing before / from ``split``; where
    ``reference`` traces sample a service or edge well enough, they are its baseline instead."""
    before, incident, normal = PeriodStats(), PeriodStats(), PeriodStats()
    for spans in traces:
        if not spans:
            continue
        start = min(s.start for s in spans)
        add_trace(before if start < split else incident, spans)
    for spans in reference:
        if spans:
            add_trace(normal, spans)
    unhealthy = less_healthy(normal, before)
    in_reference = _sampled(normal) - unhealthy
    services = sorted(set(before.self_ms) | set(incident.self_ms) | set(incident.origin_traces))
    findings = {}
    for service in services:
        base = normal if service in in_reference else before
        example = incident.example_error.get(service)
        findings[service] = ServiceTraceFinding(
            service=service,
            baseline_origin_rate=base.origin_traces[service] / max(base.traces, 1),
            incident_origin_rate=incident.origin_traces[service] / max(incident.traces, 1),
            incident_origin_traces=incident.origin_traces[service],
            example_trace=example[0] if example else None,
            example_operation=example[1] if example else None,
            example_error=example[2] if example else None,
            baseline_self_ms=_median(base.self_ms.get(service, [])),
            incident_self_ms=_median(incident.self_ms.get(service, [])),
            baseline_critical_ms=_median(base.critical_ms.get(service, [])),
            incident_critical_ms=_median(incident.critical_ms.get(service, [])),
            reference=base is normal,
            baseline_traces=base.traces,
            incident_traces=incident.traces,
            baseline_failing_rate=base.failing_traces[service] / max(base.traces, 1),
            incident_failing_traces=incident.failing_traces[service],
            incident_timed_out_traces=_timed_out(
                incident.unanswered_ms.get(service, []), base.answered_ms.get(service, [])
            ),
        )
    edges = []
    every_edge = sorted(set(before.calls) | set(incident.calls) | set(normal.calls))
    bases = {
        edge: normal if normal.calls[edge] >= MIN_SAMPLES and edge[0] not in unhealthy else before
        for edge in every_edge
    }
    slower_into = link_time.callees_slower_into(
        {e: (bases[e].gap_ms.get(e, []), incident.gap_ms.get(e, [])) for e in every_edge}
    )
    arms = other_arms(every_edge, bases, incident)
    for edge in every_edge:
        base = bases[edge]
        origins = incident.edge_origins.get(edge, Counter())
        gaps, base_gaps = incident.gap_ms.get(edge, []), base.gap_ms.get(edge, [])
        significance = link_time.FAMILY_MEMBER if edge[1] in slower_into else SIGNIFICANCE
        rose = values_rose(gaps, base_gaps, significance)
        pooled: Literal["reference", "before", "incident"] | None = None
        if len(base_gaps) < MIN_SAMPLES:  # too few of its own: every other link's calls
            pooled, base_gaps = "reference", link_time.other_links(normal.link_ms, edge[1])
            if len(base_gaps) < link_time.MIN_LINK_CALLS:
                pooled, base_gaps = "before", link_time.other_links(before.link_ms, edge[1])
            if len(base_gaps) < link_time.MIN_LINK_CALLS:  # no normal at all: its peers now
                pooled, base_gaps = "incident", link_time.other_links(incident.link_ms, edge[1])
            rose = rose or link_time.slower_than_links(gaps, base_gaps)
        edges.append(
            EdgeFinding(
                caller=edge[0],
                callee=edge[1],
                incident_calls=incident.calls[edge],
                incident_errors=incident.call_errors[edge],
                baseline_gap_ms=_median(base_gaps),
                incident_gap_ms=_median(gaps),
                error_origins=tuple(origins.most_common()),
                baseline_critical_gap_ms=_median(base.critical_gap_ms.get(edge, [])),
                incident_critical_gap_ms=_median(incident.critical_gap_ms.get(edge, [])),
                reference=base is normal,
                baseline_through=base.service_traces[edge[0]],
                baseline_with=base.edge_traces[edge],
                incident_through=incident.service_traces[edge[0]],
                incident_with=incident.edge_traces[edge],
                incident_without_failed=incident.calls_failed_traces[edge[0]]
                - incident.edge_calls_failed_traces[edge],
                baseline_last=base.last_calls[edge],
                baseline_mixed=share_at_callers_mix(base, incident, *edge),
                incident_last=incident.last_calls[edge],
                gap_rose=rose,
                pooled=pooled,
                other_arm=arms.get(edge),
            )
        )
    return TraceAnalysis(
        before.traces, incident.traces, findings, edges, normal.traces, tuple(sorted(unhealthy))
    )
