"""Each service's own signals, in one unit, from every modality's comparison with normal.

Every tool compares the incident with normal behaviour (a reference period, else the minutes
before the start) and reports a change only when it is significant given how much of normal it
saw (``tools.analysis.surprise``). Here each change becomes one number per service and signal:
its size in *doublings* (log2 of incident over normal), so that a metric, a log template, a trace
share and a code path are comparable without weights fitted to a dataset:

- ``metrics``: the largest significant change of the service's own series (effect, see
  ``tools.analysis.change_scores``), times how distinctive that metric's change is (a change
  seen in every service says nothing about where the fault is, :func:`distinctiveness`).
  Traffic, the latency of the calls a service makes (its callees') and its host's figures are
  not its own behaviour and are left out, as is a rate of its work that fell (system calls,
  network bytes: less work arrived, :func:`less_work`);
- ``logs``: the error-rate rise of the service and the growth of its WARN+ templates; what
  its new ERROR lines say (exception words or other error text) names the kind of error, and,
  when none grew enough to be significant alone, what most of its ERROR lines in the incident
  say (``error_lines``);
- ``trace_errors``: the rise of the share of traces whose errors originate in it (at 5 %
  where its own ERROR lines rose significantly: :mod:`bot.investigation.confirmed_origins`),
  or of the traces of two callers that end right after calling it, their usual later calls
  stopped (``tools.analysis.ended_after``: it failed them with no failing span; they react);
  ``trace_latency``: its critical-path self time; ``trace_network``: time on calls to it that
  neither side spent (the network or a queue on that edge), or on all of its own calls when
  only its calls slowed (:func:`caller_side`);
- ``code_paths``: an operation that stopped writing a line it used to write (the code no
  longer gets there: an exception or an early return), or started writing a new WARN/ERROR
  line (``tools.analysis.code_paths``); a new INFO line is mostly other input taking another
  branch, and is not counted. A call to another service that the caller stopped making in the
  traces through it is its path cut short too (``EdgeFinding.call_stopped``); either is the
  caller's own unless a call below it had failed where it shows (a reaction);
- ``change``: a deploy/config change shortly before the start (0..1 proximity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.investigation.confirmed_origins import errors_rose, origin_score
from bot.investigation.effects import code_path_effect, ended_after_effect, stopped_call_effect
from bot.investigation.late_callers import caller_side
from bot.investigation.line_words import error_lines, says_exception, says_slow
from tools.analysis.change_rank import fell_to_a_quarter
from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange
from tools.analysis.code_paths import CodePathChange
from tools.analysis.ended_after import stopped_after
from tools.analysis.metric_kinds import SignalGroup, share_of_limit
from tools.analysis.span_attribution import TraceAnalysis
from tools.log_patterns import LogFindings
from tools.recent_changes import proximity
from tools.records import Change, LogLevel

# modality → its signals; a modality counts once, with its strongest signal
MODALITIES: dict[str, tuple[str, ...]] = {
    "metrics": ("metrics",),
    "logs": ("logs",),
    "traces": ("trace_errors", "trace_latency", "trace_network"),
    "code_paths": ("code_paths",),
}
# the signals a service's failing requests give it
REACTION = ("logs", "trace_errors", "code_paths")
SIGNALS = tuple(s for group in MODALITIES.values() for s in group)
# doublings at which a signal is at 63 % of its modality's share: about a 2.8-fold change
SCALE = 1.5
CHANGE_KINDS = frozenset({"deploy", "rollback", "config", "flag"})
# Not the service's own behaviour: calls it makes (its callees' latency) and its host's figures.
NOT_OWN = frozenset({SignalGroup.DOWNSTREAM, SignalGroup.NODE})
# A change is a reaction to a failed call below when most spans (or traces) showing it had one.
EXPLAINED = 0.5


def squash(value: float, scale: float = SCALE) -> float:
    """0..1: ``1 - exp(-value / scale)``; 0 for no change."""
    return 1.0 - math.exp(-max(value, 0.0) / scale)


@dataclass
class ServiceSignals:
    service: str
    raw: dict[str, float] = field(default_factory=dict)
    metric_groups: dict[SignalGroup, float] = field(default_factory=dict)
    # robust z of its traffic (or work) falling to under a quarter of normal (a drop towards
    # nothing, as a process gone: ``change_rank.GONE_DOUBLINGS``); 0 for a smaller fall
    traffic_down: float = 0.0
    outage: bool = False
    # callers' requests ended right after calling it, and its own spans answered those calls:
    # its errors are answers it gave, not calls it was not there for (no outage)
    answered_failures: bool = False
    gone: float = 0.0  # doublings its CPU and memory fell together: its process went away
    propagated: bool = False
    # what its new errors say: a failure in code (exception words), an error it answered with
    # (other error lines), or nothing, but an operation stopped writing its usual lines
    own_code_path: float = 0.0  # doublings of the code-path changes no failing call explains
    exception_words: bool = False
    error_words: bool = False
    cut_short: bool = False  # an operation stopped writing a usual line (explained or not)
    own_cut_short: float = 0.0  # doublings of those stops no failing call below explains
    # ERROR lines it wrote in the incident, significant or not: (with exception words, other)
    error_lines: tuple[int, int] = (0, 0)
    # its new WARN+ code-path lines (the marks of its failing spans): written where a changed
    # or failing callee below explains them, and written where nothing below does
    explained_error_lines: int = 0
    own_error_lines: int = 0
    # its spans failed more often, but the errors originate below it (span attribution)
    failures_passed_up: bool = False
    # its requests end right after a call to a service other callers' requests end after too
    # (``tools.analysis.ended_after``): its calls that stopped are that callee's failure
    stops_passed_up: bool = False
    # time on its calls, credited to it because it was late on its calls to everyone
    # (``caller_side``): its own process was slow, not a link
    late_caller: float = 0.0
    # its use of each resource with a limit (CPU, memory, the most used of its pools and
    # volumes) as a share of that limit in the incident (``utilisation``); absent: unknown
    utilisation: dict[SignalGroup, float] = field(default_factory=dict)
    # share of the traces whose errors originate in it in which a call to it timed out with
    # no answer (span attribution's ``timed_out_share``): lost on the way, not its code
    calls_timed_out: float = 0.0
    # its new or grown lines (log patterns, code-path lines, error bursts): whether one says
    # its work was slow (``says_slow``), and whether one says anything else
    slow_lines: bool = False
    other_lines: bool = False
    # it recorded no spans of its own in the incident while its callers' spans name it (a
    # datastore, a service without tracing): the latency it measured itself is its own time
    untraced: bool = False

    def bump(self, signal: str, value: float) -> None:
        self.raw[signal] = max(self.raw.get(signal, 0.0), value)

    def cut_short_by(self, effect: float, *, explained: bool) -> None:
        """An operation stopped writing a usual line, or making a usual call, by ``effect``
        doublings; ``explained``: a failed call below it may have stopped it."""
        self.bump("code_paths", effect)
        self.cut_short = self.other_lines = True
        if not explained:
            self.own_code_path = max(self.own_code_path, effect)
            self.own_cut_short = max(self.own_cut_short, effect)

    def wrote(self, text: str, level: LogLevel) -> None:
        """A new or grown line of its own (a log pattern's, a code path's): what it says, its
        work slow (``line_words.says_slow``), or, at ERROR, a failure in code or another
        error."""
        if says_slow(text):
            self.slow_lines = True
            return
        self.other_lines = True
        if level >= LogLevel.ERROR:
            if says_exception(text):
                self.exception_words = True
            else:
                self.error_words = True

    @property
    def only_slow_lines(self) -> bool:
        """Every new or grown line it wrote says its work was slow: its lines are a symptom
        of time (a slow-query log), not errors."""
        return self.slow_lines and not self.other_lines

    def normalised(self) -> dict[str, float]:
        """Each signal in 0..1; ``change`` is already a 0..1 proximity."""
        norm = {name: squash(self.raw.get(name, 0.0)) for name in SIGNALS}
        norm["change"] = min(self.raw.get("change", 0.0), 1.0)
        return norm

    @property
    def reacting(self) -> bool:
        """Every new error line it wrote was in requests a callee had already failed or
        changed its code path under, or (with no new error line of its own) its spans failed
        more often only with errors that originate below them: its errors are its reaction,
        not their origin."""
        if self.own_error_lines:
            return False
        return self.explained_error_lines > 0 or self.failures_passed_up or self.stops_passed_up

    def modalities(self) -> dict[str, float]:
        """Each modality's strongest signal, 0..1; a reacting service's errors (its error
        lines, error origins, code-path changes) are its callee's doing and count nothing."""
        norm = self.normalised()
        if self.reacting:
            for name in REACTION:
                norm[name] = 0.0
        return {m: max(norm[s] for s in signals) for m, signals in MODALITIES.items()}

    def anomaly(self) -> float:
        """How unusual the service's own behaviour is: the sum over modalities (each ≤ 1)."""
        return sum(self.modalities().values())

    def own_trace_signal(self) -> float:
        """How unusual its own spans are: their errors, time and calls, and the code paths
        they run (a span writing new error lines, or no longer its usual ones) where no call
        that failed below them explains the change."""
        return max(self.modalities()["traces"], squash(self.own_code_path))

    def own_trace_signal_besides_time(self) -> float:
        """:meth:`own_trace_signal` without its spans' own time: their errors, the time on
        calls to it, and its code paths."""
        norm = self.normalised()
        return max(norm["trace_errors"], norm["trace_network"], squash(self.own_code_path))


def less_work(change: SeriesChange) -> bool:
    """A rate of the work a service does (a ``_per_second`` series outside the golden signals:
    system calls, network bytes) that fell: less work arrived, as traffic that fell says, and
    not its own behaviour. OnlineBoutique 2022-08-22 05:09: checkoutservice's orders failed
    before paying, so paymentservice and emailservice were called no more; their system calls
    fell to 0 and emailservice ranked first. A rise is kept: more work for the same traffic
    (retries, a busy loop) is the service's own."""
    return (
        change.group is SignalGroup.OTHER
        and change.metric.endswith("_per_second")
        and change.direction == "down"
    )


def distinctiveness(changes: list[SeriesChange]) -> dict[str, float]:
    """How much "metric M changed in service S" says about *where* the fault is, per metric.

    A change seen in k of the N services that report the metric narrows the suspects to k: its
    information is log(N/k), normalised by log(N) to 0..1 (1: only one service moved; 0: all
    did, as when a shared symptom or an artefact of the collector moves every series at once).
    With fewer than 3 services reporting it, there is no crowd to compare with: 1.
    """
    reporting: dict[str, set[str]] = {}
    moved: dict[str, set[str]] = {}
    for c in changes:
        reporting.setdefault(c.metric, set()).add(c.service)
        if c.score >= Z_THRESHOLD:
            moved.setdefault(c.metric, set()).add(c.service)
    weights = {}
    for metric, services in reporting.items():
        n, k = len(services), max(len(moved.get(metric, ())), 1)
        weights[metric] = 1.0 if n < 3 else math.log(n / k) / math.log(n)
    return weights


def utilisation(metrics: list[SeriesChange]) -> dict[str, dict[SignalGroup, float]]:
    """Each service's use of its resources with a limit (CPU, memory, a pool or volume) as a
    share of that limit in the incident, per group, from its series that are such shares
    (``cpu_usage_ratio``, ``memory_usage_ratio``, ``db_pool_usage_ratio``: used / limit; not
    the host's ``node_*``; ``metric_kinds.share_of_limit``), changed or not: the level while
    a change lasted, else the incident's median; the highest of its series and instances. A
    service without such a series of a group (no limit set, not collected) lacks that group."""
    levels: dict[str, dict[SignalGroup, float]] = {}
    for change in metrics:
        if share_of_limit(change.metric):
            own = levels.setdefault(change.service, {})
            own[change.group] = max(own.get(change.group, 0.0), change.incident_median)
    return levels


def collect(
    metrics: list[SeriesChange] | None,
    logs: LogFindings | None,
    traces: TraceAnalysis | None,
    changes: list[Change] | None,
    incident_start_ts: float,
    code_paths: list[CodePathChange] | None = None,
) -> dict[str, ServiceSignals]:
    found: dict[str, ServiceSignals] = {}

    def of(service: str) -> ServiceSignals:
        return found.setdefault(service, ServiceSignals(service))

    weights = distinctiveness(metrics or [])
    for change in metrics or []:
        if change.score <= 0 or change.over_before(incident_start_ts):
            continue  # unchanged, or an earlier episode: back to normal before the incident
        s = of(change.service)
        if change.went_away:  # not its resources' saturation: its process is gone
            size = change.effect * weights[change.metric]
            s.gone = max(s.gone, size)
            s.bump("metrics", size)
            continue
        if change.group is SignalGroup.TRAFFIC or less_work(change):
            if change.direction == "down" and fell_to_a_quarter(change):
                s.traffic_down = max(s.traffic_down, change.score)
            continue  # traffic moves with the symptom everywhere; not a root-cause signal
        if change.group in NOT_OWN:
            continue
        size = change.effect * weights[change.metric]
        s.metric_groups[change.group] = max(s.metric_groups.get(change.group, 0.0), size)
        s.bump("metrics", size)
    for burst in logs.bursts if logs else []:
        if burst.score > 0:
            s = of(burst.service)
            s.bump("logs", burst.score)
            s.other_lines = True
    for pattern, _ in logs.patterns if logs else []:
        if pattern.growth <= 0:
            continue
        s = of(pattern.service)
        s.bump("logs", pattern.growth)
        s.wrote(f"{pattern.template} {pattern.example}", pattern.max_level)
    for path in code_paths or []:
        if path.other_input:
            continue  # a new INFO line is mostly new input taking another branch, not a fault
        s = of(path.service)
        explained = path.callee_failed >= EXPLAINED  # the span's reaction to a call below it
        if path.kind == "vanished":
            s.cut_short_by(code_path_effect(path), explained=explained)
            continue
        s.bump("code_paths", code_path_effect(path))
        if not explained:
            s.own_code_path = max(s.own_code_path, code_path_effect(path))
        if explained:
            s.explained_error_lines += 1
        else:
            s.own_error_lines += 1
        s.wrote(f"{path.template} {path.example}", path.level)
    if traces is not None:
        failed_callers = stopped_after(traces.edges)
        passed_up = {e.caller for callers in failed_callers.values() for e in callers}
        for edge in traces.edges:  # a call no longer made: the caller's code path, cut short
            if effect := stopped_call_effect(edge):
                explained = edge.stop_explained >= EXPLAINED or edge.caller in passed_up
                of(edge.caller).cut_short_by(effect, explained=explained)
        for callee, callers in failed_callers.items():  # it failed them, with no failing span
            failing = of(callee)
            failing.bump("trace_errors", max(ended_after_effect(e) for e in callers))
            failing.answered_failures = traces.spans_in_incident(callee)
            for edge in callers:
                of(edge.caller).stops_passed_up = True
        confirmed = errors_rose(logs)
        for finding in traces.services.values():
            s = of(finding.service)
            origins = origin_score(finding, confirmed)
            s.bump("trace_errors", origins)
            s.failures_passed_up = finding.failures_passed_up and origins == 0
            s.calls_timed_out = finding.timed_out_share
            # critical-path self time: time requests waited on the service itself. Plain self
            # time also counts spans nobody waited for (parallel calls, async handlers that
            # run beside their client span), which flags callers that were only waiting.
            s.bump("trace_latency", finding.critical_latency_score)
            if finding.error_score >= 1.0 and finding.incident_self_ms is None:
                s.outage = True  # errors attributed to it, yet it recorded no spans itself
        callers_side = caller_side(traces)
        for edge in traces.edges:
            slow = edge.caller if (edge.caller, edge.callee) in callers_side else edge.callee
            found_slow = of(slow)
            found_slow.bump("trace_network", edge.gap_score)
            if slow == edge.caller:
                found_slow.late_caller = max(found_slow.late_caller, edge.gap_score)
        for name in {edge.callee for edge in traces.edges}:
            if name in found and not traces.spans_in_incident(name):
                found[name].untraced = True
    for service, lines in error_lines(logs).items():
        if service in found:
            found[service].error_lines = lines
    for service, levels in utilisation(metrics or []).items():
        if service in found:
            found[service].utilisation = levels
    start = datetime.fromtimestamp(incident_start_ts, UTC)
    for item in changes or []:
        if item.kind in CHANGE_KINDS:
            of(item.service).bump("change", proximity(item, start))
    return found
