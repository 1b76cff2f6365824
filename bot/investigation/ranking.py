"""Deterministic candidate ranking: every signal per service, combined and explained.

Each raw signal (robust z of a metric, log error-rate ratio, share of traces whose errors
originate in the service, growth of its self time on the critical path and of network time, a
change shortly before the start) is squashed to 0..1 with ``1 - exp(-x / scale)`` and weighted.
Traces weigh most because they separate where a fault *originates* from where it merely
*propagates*. A service whose own spans look healthy while something it calls is anomalous is
marked down: in a call graph, symptoms travel upstream.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.investigation.report import FaultType
from tools.analysis.change_scores import SeriesChange, SignalGroup
from tools.analysis.span_attribution import TraceAnalysis
from tools.evidence import EvidenceDraft
from tools.log_patterns import LogFindings
from tools.recent_changes import proximity
from tools.records import Change

# signal → (scale of the raw score, weight)
SIGNALS: dict[str, tuple[float, float]] = {
    "trace_errors": (3.0, 3.0),
    "trace_network": (1.5, 2.5),
    "trace_latency": (1.5, 2.0),
    "metrics": (10.0, 2.0),
    "logs": (3.0, 1.5),
    "change": (1.0, 1.5),  # raw value is already 0..1 (proximity to the start)
}
CHANGE_KINDS = frozenset({"deploy", "rollback", "config", "flag"})
PROPAGATION_FACTOR = 0.6
MIN_SCORE = 0.05


def squash(value: float, scale: float) -> float:
    return 1.0 - math.exp(-max(value, 0.0) / scale)


@dataclass
class ServiceSignals:
    service: str
    raw: dict[str, float] = field(default_factory=dict)
    metric_groups: dict[SignalGroup, float] = field(default_factory=dict)
    traffic_down: float = 0.0
    outage: bool = False
    propagated: bool = False

    def bump(self, signal: str, value: float) -> None:
        self.raw[signal] = max(self.raw.get(signal, 0.0), value)

    def normalised(self) -> dict[str, float]:
        """Each signal in 0..1; ``change`` is already a 0..1 proximity."""
        norm = {
            name: squash(self.raw.get(name, 0.0), scale) for name, (scale, _) in SIGNALS.items()
        }
        norm["change"] = min(self.raw.get("change", 0.0), 1.0)
        return norm

    def anomaly(self) -> float:
        """Weighted score of everything but the change signal."""
        norm = self.normalised()
        return sum(norm[n] * SIGNALS[n][1] for n in SIGNALS if n != "change")

    def total(self) -> float:
        norm = self.normalised()
        anomaly = self.anomaly()
        change = norm["change"] * SIGNALS["change"][1] if anomaly > 0.5 else 0.0
        score = anomaly + change
        return score * PROPAGATION_FACTOR if self.propagated else score

    def own_trace_signal(self) -> float:
        norm = self.normalised()
        return max(norm["trace_errors"], norm["trace_latency"], norm["trace_network"])


@dataclass(frozen=True)
class RankedService:
    service: str
    score: float
    fault_type: FaultType
    signals: dict[str, float]
    evidence_keys: list[str]
    propagated: bool


def collect(
    metrics: list[SeriesChange] | None,
    logs: LogFindings | None,
    traces: TraceAnalysis | None,
    changes: list[Change] | None,
    incident_start_ts: float,
) -> dict[str, ServiceSignals]:
    found: dict[str, ServiceSignals] = {}

    def of(service: str) -> ServiceSignals:
        return found.setdefault(service, ServiceSignals(service))

    for change in metrics or []:
        s = of(change.service)
        if change.group is SignalGroup.TRAFFIC:
            if change.direction == "down":
                s.traffic_down = max(s.traffic_down, change.score)
            continue  # traffic moves with the symptom everywhere; not a root-cause signal
        s.metric_groups[change.group] = max(s.metric_groups.get(change.group, 0.0), change.score)
        s.bump("metrics", change.score)
    for burst in logs.bursts if logs else []:
        of(burst.service).bump("logs", burst.score)
    for pattern, score in logs.patterns if logs else []:
        if pattern.is_new:
            of(pattern.service).bump("logs", min(score / 4.0, 6.0))
    if traces is not None:
        for finding in traces.services.values():
            s = of(finding.service)
            s.bump("trace_errors", finding.error_score)
            # critical-path self time: time requests waited on the service itself. Plain self
            # time also counts spans nobody waited for (parallel calls, async handlers that
            # run beside their client span), which flags callers that were only waiting.
            s.bump("trace_latency", finding.critical_latency_score)
            if finding.error_score >= 1.0 and finding.incident_self_ms is None:
                s.outage = True  # errors attributed to it, yet it recorded no spans itself
        for edge in traces.edges:
            of(edge.callee).bump("trace_network", edge.gap_score)
    start = datetime.fromtimestamp(incident_start_ts, UTC)
    for item in changes or []:
        if item.kind in CHANGE_KINDS:
            of(item.service).bump("change", proximity(item, start))
    return found


def _downstream(traces: TraceAnalysis | None, service: str) -> set[str]:
    if traces is None:
        return set()
    seen: set[str] = set()
    frontier = [service]
    while frontier:
        for callee in traces.callees(frontier.pop()):
            if callee not in seen and callee != service:
                seen.add(callee)
                frontier.append(callee)
    return seen


def fault_type(s: ServiceSignals) -> FaultType:
    norm = s.normalised()
    if s.outage or (s.traffic_down >= 10 and norm["trace_errors"] > 0.5):
        return FaultType.DEPENDENCY_OUTAGE
    if norm["change"] > 0.5 and s.anomaly() > 1.0:
        return FaultType.BAD_DEPLOY
    groups = s.metric_groups
    contributions = {
        FaultType.NETWORK_DELAY: norm["trace_network"] * SIGNALS["trace_network"][1],
        FaultType.ERRORS: max(
            norm["trace_errors"] * SIGNALS["trace_errors"][1],
            squash(groups.get(SignalGroup.ERRORS, 0), 10) * 2,
            norm["logs"] * SIGNALS["logs"][1],
        ),
        FaultType.CPU: squash(groups.get(SignalGroup.CPU, 0), 10) * 2.5,
        FaultType.MEMORY: squash(groups.get(SignalGroup.MEMORY, 0), 10) * 2.5,
        FaultType.LATENCY: max(
            norm["trace_latency"] * SIGNALS["trace_latency"][1],
            squash(groups.get(SignalGroup.LATENCY, 0), 10) * 2,
        ),
    }
    best, value = max(contributions.items(), key=lambda kv: kv[1])
    return best if value > 0.2 else FaultType.UNKNOWN


SOURCE_PRIORITY: dict[FaultType, tuple[str, ...]] = {
    FaultType.BAD_DEPLOY: ("change", "traces", "logs", "metrics"),
    FaultType.CPU: ("metrics", "traces", "logs", "change"),
    FaultType.MEMORY: ("metrics", "logs", "traces", "change"),
    FaultType.NETWORK_DELAY: ("traces", "metrics", "logs", "change"),
}
DEFAULT_PRIORITY = ("traces", "logs", "metrics", "change")


def order_evidence(items: list[EvidenceDraft], fault: FaultType) -> list[str]:
    """Evidence keys for a candidate: the best item of each source first, then by score."""
    ranked = sorted(items, key=lambda e: -e.score)
    first = []
    for source in SOURCE_PRIORITY.get(fault, DEFAULT_PRIORITY):
        best = next((e for e in ranked if e.source.value == source), None)
        if best is not None:
            first.append(best.key)
    return first + [e.key for e in ranked if e.key not in first]


def rank(
    signals: dict[str, ServiceSignals],
    traces: TraceAnalysis | None,
    evidence: Iterable[EvidenceDraft],
    limit: int,
) -> list[RankedService]:
    """Services ordered by combined score, each with its fault type and evidence keys."""
    base = {name: s.total() for name, s in signals.items()}
    for name, s in signals.items():
        below = _downstream(traces, name)
        strongest_below = max((base.get(d, 0.0) for d in below), default=0.0)
        if strongest_below >= 0.5 * base[name] and s.own_trace_signal() < 0.3 and below:
            s.propagated = True
    by_service: dict[str, list[EvidenceDraft]] = {}
    for item in evidence:
        if item.service:
            by_service.setdefault(item.service, []).append(item)
    ranked = []
    for name, s in signals.items():
        score = s.total()
        if score < MIN_SCORE:
            continue
        fault = fault_type(s)
        keys = order_evidence(by_service.get(name, []), fault)
        if not keys:
            continue  # nothing to cite: not a candidate we can explain
        ranked.append(
            RankedService(
                name,
                round(score, 3),
                fault,
                {k: round(v, 3) for k, v in s.normalised().items() if v},
                keys,
                s.propagated,
            )
        )
    ranked.sort(key=lambda r: (-r.score, r.service))
    return ranked[:limit]
