"""Deterministic candidate ranking: the services whose own behaviour departed most from normal,
with what is explained by a dependency discounted, each with a fault hypothesis and evidence.

The method (docs/ranking.md says why, with the figures):

1. **Compare with normal, per modality.** Each tool reports a change only when it is
   significant relative to normal (a reference period, else the minutes before the start), as
   its size in doublings (``bot.investigation.signals``). Chronic errors, noisy series and thin
   baselines therefore add nothing, however loud they are.
2. **Combine modalities, each at most 1.** A signal becomes 0..1 (``1 - exp(-doublings/1.5)``);
   a modality counts with its strongest signal; the modalities (metrics, logs, traces, code
   paths) add up with equal weight. A service unusual in three kinds of data ranks above one
   with a single loud series, and no one noisy modality can dominate.
3. **Symptoms travel upstream.** In a call graph a fault in a callee shows in its callers'
   latency and errors. A service whose own spans look healthy while something it calls is at
   least half as anomalous (in the traces' calls, or the service graph in the metrics; where
   neither measured its calls, a declared service map, and then its own log lines must be
   quiet too) is marked as propagating and scored at :data:`PROPAGATION_FACTOR`,
   unless its own CPU, memory or a pool saturated (waiting on a callee uses none of them).
   A traced service whose only own trace signal is its spans' time, and which the map says
   calls a service its spans never show it calling (an untraced call: its time is inside the
   caller's spans), is discounted so too when that callee, or below it, is half as anomalous.
   A service no request was seen to reach (:func:`request_path`: not in any traced request
   nor in the service graph, and not the alert's) is off the path whose requests suffered,
   and is scored so too: its CPU or memory may have changed, but no request waited on it.
   Where two candidates score the same, the one with fewer services below it goes first.
   A service whose every new error line was written in requests where a callee below had
   already failed or changed its code path, or had waited most of the request on a call
   slower than any before (a timeout), or (with no new error line of its own) whose spans
   failed more often only with errors that originate below them, is *reacting*: its errors
   (error lines, error origins, code-path changes) are its callee's doing and count nothing.
4. **A recent change** (deploy, config, flag) shortly before the start adds up to 1 to a service
   that is anomalous itself; a change alone ranks nothing.
5. **Fault hypothesis** (``fault_type``): causes before symptoms. Saturation (CPU, memory, a
   pool), a slow or lossy link and a missing dependency explain latency and errors, so they are
   named when significant (CPU and memory only near their limits, where known; a lost call is
   one that timed out unanswered); else errors (an exception when the code failed, an error
   return when it answered with one) or latency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.investigation.report import FaultType
from bot.investigation.signals import ServiceSignals, squash
from tools.analysis.metric_kinds import SignalGroup
from tools.analysis.span_attribution import TraceAnalysis
from tools.evidence import EvidenceDraft
from tools.metric_changes import evidence_group

PROPAGATION_FACTOR = 0.6
CHANGE_WEIGHT = 1.0  # a change near the start counts as much as one more modality, at most
MIN_SCORE = 0.05
MIN_CAUSE = 0.3  # a cause-type signal (0..1) this strong names the fault: about 0.5 doublings
MIN_SYMPTOM = 0.2
QUIET = 0.3  # a modality this unusual or less (about a quarter doubling) is the service's own
# CPU used / its limit: from half on, a request waits for the CPU about as long as it runs on
# it (a single-server queue at 50 % utilisation), so the CPU can have doubled its latency;
# memory used / its limit: from half on, one more doubling is an OOM kill, and a collected heap
# half full of live data is collected about twice as often as an empty one
SATURATED = 0.5
# most of a service's error origins calls to it that timed out unanswered: its link lost them
LOST_SHARE = 0.5
# the service's own resources, each the fault it names when it saturates (and the metrics
# that show that fault itself, cited before louder symptoms of it)
RESOURCES: dict[FaultType, SignalGroup] = {
    FaultType.CPU: SignalGroup.CPU,
    FaultType.MEMORY: SignalGroup.MEMORY,
    FaultType.RESOURCE_EXHAUSTION: SignalGroup.POOL,
}
# the series group each cause names: cited first for that hypothesis, and a service's own
# causes (not a slow or failing callee's symptom)
CAUSE_GROUPS = {**RESOURCES, FaultType.NETWORK_DELAY: SignalGroup.NETWORK}


def total(s: ServiceSignals) -> float:
    """The service's score: its anomaly, a nearby change, the propagation discount."""
    anomaly = s.anomaly()
    change = s.normalised()["change"] * CHANGE_WEIGHT if anomaly > 0.5 else 0.0
    score = anomaly + change
    return score * PROPAGATION_FACTOR if s.propagated else score


@dataclass(frozen=True)
class RankedService:
    service: str
    score: float
    fault_type: FaultType
    signals: dict[str, float]
    evidence_keys: list[str]
    propagated: bool


def _downstream(
    traces: TraceAnalysis | None, graph: Mapping[str, set[str]], service: str
) -> set[str]:
    """Every service below ``service``: its callees in the traces and in the service graph
    of the metrics, theirs, and so on."""
    seen: set[str] = set()
    frontier = [service]
    while frontier:
        caller = frontier.pop()
        below = set(traces.callees(caller)) if traces is not None else set()
        for callee in below | graph.get(caller, set()):
            if callee not in seen and callee != service:
                seen.add(callee)
                frontier.append(callee)
    return seen


def request_path(
    traces: TraceAnalysis | None, graph: Mapping[str, set[str]], alert_service: str | None
) -> frozenset[str] | None:
    """The services requests were seen to reach, in the incident or normally: those with spans
    in the traces, every caller and callee of a traced call (a callee that recorded no span of
    its own, a database, is named by its callers' client spans), both ends of each call in the
    service graph, and the alert's service (where the requests' symptom shows). ``None`` when
    neither traces nor a service graph say anything: then no service is known to be off it."""
    seen = set(graph) | {callee for callees in graph.values() for callee in callees}
    if traces is not None:
        seen |= set(traces.services)
        seen |= {name for edge in traces.edges for name in (edge.caller, edge.callee)}
    if not seen:
        return None
    return frozenset(seen | ({alert_service} if alert_service else set()))


def _waits_untraced(
    s: ServiceSignals,
    name: str,
    unseen: set[str],
    traces: TraceAnalysis | None,
    calls: Mapping[str, set[str]],
    base: Mapping[str, float],
) -> bool:
    """Its own time grew, and nothing else of its own: that time may be its wait on calls the
    traces do not show it making (a declared callee, ``unseen``), whose time is inside its
    spans; so when something at or below such a callee is at least half as anomalous, its
    own time is that callee's symptom."""
    if not unseen or _own_resources_rose(s) or s.own_trace_signal_besides_time() >= QUIET:
        return False
    below = set(unseen)
    for callee in unseen:
        below |= _downstream(traces, calls, callee)
    below.discard(name)
    return max((base.get(d, 0.0) for d in below), default=0.0) >= 0.5 * base[name]


def _near_limit(level: float | None) -> bool:
    """Used at least :data:`SATURATED` of its limit, or the limit is not known."""
    return level is None or level >= SATURATED


def _resources(s: ServiceSignals) -> dict[FaultType, float]:
    """How much more the service used its own CPU, memory and pools (0..1 each), as causes:
    each counts only when it came near its limit (:data:`SATURATED`), where that is known. A
    process using three times its usual CPU at 15 % of its limit is doing more work, not
    waiting for the CPU; one holding four times its usual memory at a fifth of its limit holds
    more (a burst of requests, a cache), and is neither near an OOM kill nor collecting
    garbage against a full heap. Below the limit a leak is still only growth; a pool a fifth in
    use, or a volume busy a fifth of the time, makes no request wait for it."""
    return {
        fault: squash(s.metric_groups.get(group, 0.0))
        if _near_limit(s.utilisation.get(group))
        else 0.0
        for fault, group in RESOURCES.items()
    }


def _own_resources_rose(s: ServiceSignals) -> bool:
    """Its own resources (CPU, memory, a pool) significantly more used, or its own interface
    dropping packets: a cause, not a symptom a slow or failing callee passes up (waiting on a
    callee uses none of them and loses no packet of its own), however far from its limit."""
    return max(squash(s.metric_groups.get(g, 0.0)) for g in CAUSE_GROUPS.values()) >= MIN_CAUSE


def fault_type(s: ServiceSignals) -> FaultType:
    """The most specific hypothesis the service's own signals support: causes before symptoms."""
    norm = s.normalised()
    # a change of its own right before comes first: a deploy that crash-loops is the deploy
    if norm["change"] > 0.5 and s.anomaly() > 1.0:
        return FaultType.BAD_DEPLOY
    # traffic that fell to near nothing with errors in the traces is a dependency down, unless
    # its own spans answered the calls its callers stopped after (they stopped calling it)
    fell = s.traffic_down >= 10 and norm["trace_errors"] > 0.5 and not s.answered_failures
    if s.outage or s.gone or fell:
        return FaultType.DEPENDENCY_OUTAGE
    groups = s.metric_groups
    # a slow link adds time outside the callee's spans and leaves its own as they were; when its
    # own time grew too, it is slow itself, and the time in front of its spans is its queue.
    # Time on calls it was late on to everyone (``late_caller``) is its own slowness, not a link,
    # and so is time in front of the spans of a server at its CPU limit that used more: requests
    # wait for its CPU before its spans start.
    # Errors from calls to it that timed out with no answer, while it answered the rest, are
    # calls lost on the way (``calls_timed_out``), however the median call time moved.
    # A service with no spans of its own (a database) has all of a call's time outside them:
    # its own latency series, where it exports one, says whether it is slow itself.
    late = squash(s.late_caller)
    link = norm["trace_network"] if s.late_caller < s.raw.get("trace_network", 0.0) else 0.0
    lost = norm["trace_errors"] if s.calls_timed_out > LOST_SHARE else 0.0
    resources = _resources(s)
    queued = SignalGroup.CPU in s.utilisation and resources[FaultType.CPU] >= MIN_CAUSE
    own_time = norm["trace_latency"]
    if s.untraced:
        own_time = max(own_time, squash(groups.get(SignalGroup.LATENCY, 0.0)))
    slow_link = max(link, lost) if own_time < MIN_CAUSE and not queued else 0.0
    # packets its own interface dropped, resent or failed are measured, not inferred from time:
    # they name the network whatever its own spans did (a resent packet slows them too)
    dropped = squash(groups.get(SignalGroup.NETWORK, 0.0))
    causes = {**resources, FaultType.NETWORK_DELAY: max(slow_link, dropped)}
    cause, strength = max(causes.items(), key=lambda kv: kv[1])
    # an exception skips statements, saturation does not: an own code path cut short by more
    # than the resources rose is the fault, and the extra work after it the small rise
    cut = squash(s.own_cut_short)
    if strength >= MIN_CAUSE and not cut > strength:
        return cause
    # lines that all say its work was slow (a slow-query log) are a symptom of time, not errors
    lines = max(norm["logs"], norm["code_paths"])
    slow_lines = lines if s.only_slow_lines else 0.0
    errors = max(
        norm["trace_errors"],
        lines - slow_lines,
        squash(groups.get(SignalGroup.ERRORS, 0.0)),
    )
    latency = max(
        norm["trace_latency"], late, squash(groups.get(SignalGroup.LATENCY, 0.0)), slow_lines
    )
    # slowness does not skip a statement, an exception (or an early return) does: a code path
    # of its own cut short names the failure however much slower it also got
    if errors >= MIN_SYMPTOM and (errors >= latency or cut >= MIN_SYMPTOM):
        # what the service's new error lines say decides; without any, a code path cut short
        # (an operation that stopped writing its usual lines) is an exception's mark
        if s.exception_words:
            return FaultType.EXCEPTION
        if s.error_words:
            return FaultType.ERROR_RETURN
        if s.cut_short:
            return FaultType.EXCEPTION
        # no new line of its own says it: what most of its error lines in the incident say
        thrown, other = s.error_lines
        if thrown or other:
            return FaultType.EXCEPTION if thrown > other else FaultType.ERROR_RETURN
        # nor any line at all: its callers' requests ended right after calls its own spans
        # answered, and not as failed (a handler that throws, or one that sets an error
        # status, marks its span so): the answer it gave ended them, a wrong or error return
        if s.answered_failures:
            return FaultType.ERROR_RETURN
        return FaultType.ERRORS
    if latency >= MIN_SYMPTOM:
        return FaultType.LATENCY
    return FaultType.UNKNOWN


SOURCE_PRIORITY: dict[FaultType, tuple[str, ...]] = {
    FaultType.BAD_DEPLOY: ("change", "traces", "logs", "metrics"),
    FaultType.EXCEPTION: ("logs", "traces", "metrics", "change"),
    FaultType.CPU: ("metrics", "traces", "logs", "change"),
    FaultType.MEMORY: ("metrics", "logs", "traces", "change"),
    FaultType.RESOURCE_EXHAUSTION: ("metrics", "logs", "traces", "change"),
    FaultType.NETWORK_DELAY: ("traces", "metrics", "logs", "change"),
}
DEFAULT_PRIORITY = ("traces", "logs", "metrics", "change")


def order_evidence(items: list[EvidenceDraft], fault: FaultType) -> list[str]:
    """Evidence keys for a candidate: the best item of each source first, then by score; for a
    resource fault (CPU, memory, a pool) the series of that resource first: its latency up ×38
    may be the louder change, but the hypothesis is its CPU, and that is what to cite."""
    named = CAUSE_GROUPS.get(fault)
    ranked = sorted(
        items, key=lambda e: (named is None or evidence_group(e) is not named, -e.score)
    )
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
    graph: Mapping[str, set[str]] | None = None,
    alert_service: str | None = None,
    declared: Mapping[str, set[str]] | None = None,
    untraced: Mapping[str, set[str]] | None = None,
    seen_by: Mapping[str, list[EvidenceDraft]] | None = None,
) -> list[RankedService]:
    """Services ordered by combined score, each with its fault type and evidence keys.
    ``graph``: who calls whom from the metrics' service graph (client → servers), beside the
    traces' calls; ``alert_service``: the service the alert is about (on the requests' path);
    ``declared``: who may call whom from a service map, for callers whose calls neither the
    traces nor the service graph measured (``bot.investigation.declared_calls``);
    ``untraced``: a traced caller's declared callees that no measurement shows it calling, whose
    time is inside its own spans (``declared_calls.untraced_calls``); ``seen_by``: other
    services' items a service may cite beside its own (its callers' timing of the calls into it,
    ``late_callers.seen_by_callers``)."""
    graph, declared, untraced = graph or {}, declared or {}, untraced or {}
    calls = {c: set(graph.get(c, set())) | declared.get(c, set()) for c in {*graph, *declared}}
    base = {name: total(s) for name, s in signals.items()}
    # a map that leaves a service out does not take it off the path: catalogues go stale
    path = request_path(traces, graph, alert_service)
    depth: dict[str, int] = {}  # services below each: fewer first among equal scores
    for name, s in signals.items():
        below = _downstream(traces, calls, name)
        depth[name] = len(below)
        strongest_below = max((base.get(d, 0.0) for d in below), default=0.0)
        # healthy own spans need own spans; without traces, its own calls measured as it made
        # them, or (calls only declared) its own log lines as quiet as its spans would be
        seen = (traces is not None and traces.spans_in_incident(name)) or name in graph
        if name in declared and not seen:
            seen = s.modalities()["logs"] < QUIET
        own = s.own_trace_signal() < QUIET and not _own_resources_rose(s)
        waits = strongest_below >= 0.5 * base[name] and own and bool(below) and seen
        # or its own time is its wait on calls its spans do not show
        unseen = untraced.get(name, set())
        s.propagated = waits or _waits_untraced(s, name, unseen, traces, calls, base)
    by_service: dict[str, list[EvidenceDraft]] = {}
    for item in evidence:
        if item.service:
            by_service.setdefault(item.service, []).append(item)
    ranked = []
    for name, s in signals.items():
        score = total(s)
        # no request waited on it: the same discount, once (a declared caller may be both)
        if path is not None and name not in path and not s.propagated:
            score *= PROPAGATION_FACTOR
        if score < MIN_SCORE and not s.reacting:  # a symptom stays listed, as one
            continue
        fault = fault_type(s)
        items = by_service.get(name, [])
        items = items + list((seen_by or {}).get(name, [])) if items else []
        keys = order_evidence(items, fault)
        if not keys:
            continue  # nothing to cite: not a candidate we can explain
        ranked.append(
            RankedService(
                name,
                round(score, 3),
                fault,
                {k: round(v, 3) for k, v in s.normalised().items() if v},
                keys,
                s.propagated or s.reacting,
            )
        )
    # symptoms travel upstream: of two equal scores, the one nearer the bottom of the calls
    ranked.sort(key=lambda r: (-r.score, depth[r.service], r.service))
    return ranked[:limit]
