"""The deterministic ranking (issue 11): fault hypotheses that name causes before symptoms,
the propagation discount, a change that only adds to an anomaly, and evidence per fault.

Signals are given directly (in doublings, as ``bot.investigation.signals.collect`` makes them):
about 3 doublings is a clear change (0.86 once squashed), 0.1 is noise (0.06).
"""

from __future__ import annotations

import pytest

from bot.investigation.ranking import (
    PROPAGATION_FACTOR,
    RankedService,
    fault_type,
    order_evidence,
    rank,
    total,
)
from bot.investigation.report import FaultType
from bot.investigation.signals import ServiceSignals, collect, squash
from tools.analysis.metric_kinds import SignalGroup
from tools.analysis.span_attribution import EdgeFinding, ServiceTraceFinding, TraceAnalysis
from tools.evidence import EvidenceDraft, Source

CLEAR = 3.0  # doublings: an 8-fold change
FAINT = 0.1


def signals(
    service: str = "api",
    groups: dict[SignalGroup, float] | None = None,
    **raw: float,
) -> ServiceSignals:
    """A service's signals; each metric group also counts as its ``metrics`` signal."""
    metric_groups = groups or {}
    if metric_groups:
        raw["metrics"] = max(raw.get("metrics", 0.0), *metric_groups.values())
    return ServiceSignals(service, raw=raw, metric_groups=dict(metric_groups))


def draft(key: str, source: Source, score: float, service: str = "api") -> EvidenceDraft:
    return EvidenceDraft(
        key=key, source=source, title=key, summary=key, query=key, service=service, score=score
    )


def healthy(service: str) -> ServiceTraceFinding:
    """A service's own spans in the incident: no errors originate in it, its time unchanged."""
    return ServiceTraceFinding(
        service=service,
        baseline_origin_rate=0.0,
        incident_origin_rate=0.0,
        incident_origin_traces=0,
        example_trace=None,
        example_operation=None,
        example_error=None,
        baseline_self_ms=10.0,
        incident_self_ms=10.0,
        baseline_critical_ms=10.0,
        incident_critical_ms=10.0,
        baseline_traces=100,
        incident_traces=100,
    )


def calls(*edges: tuple[str, str], untraced: tuple[str, ...] = ()) -> TraceAnalysis:
    """The call graph ``edges``; every service in it recorded its own spans but ``untraced``."""
    services = {name for edge in edges for name in edge} - set(untraced)
    return TraceAnalysis(
        100,
        100,
        {name: healthy(name) for name in services},
        [EdgeFinding(caller, callee, 100, 0, 1.0, 1.0, ()) for caller, callee in edges],
    )


# --- fault_type: causes before symptoms ------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "fault"),
    [
        (SignalGroup.CPU, FaultType.CPU),
        (SignalGroup.MEMORY, FaultType.MEMORY),
        (SignalGroup.POOL, FaultType.RESOURCE_EXHAUSTION),
    ],
)
def test_saturation_is_named_before_the_latency_it_causes(
    group: SignalGroup, fault: FaultType
) -> None:
    s = signals(groups={group: 1.5, SignalGroup.LATENCY: CLEAR}, trace_latency=CLEAR)
    assert fault_type(s) is fault


@pytest.mark.parametrize("group", [SignalGroup.CPU, SignalGroup.MEMORY, SignalGroup.POOL])
def test_saturation_too_small_to_matter_leaves_the_symptom(group: SignalGroup) -> None:
    s = signals(groups={group: FAINT, SignalGroup.LATENCY: CLEAR}, trace_latency=CLEAR)
    assert fault_type(s) is FaultType.LATENCY


@pytest.mark.parametrize(("utilisation", "fault"), [(0.15, FaultType.LATENCY), (0.9, None)])
def test_cpu_far_from_its_limit_is_more_work_not_the_cause(
    utilisation: float, fault: FaultType | None
) -> None:
    """OnlineBoutique's adservice (2022-08-23 16:22, an exception) used 2.4 times its CPU, at
    15 % of its limit, and answered 20 times slower: no request waited for that CPU. Near the
    limit it is the cause; with the limit unknown, a large rise still is."""
    s = signals(groups={SignalGroup.CPU: 1.5, SignalGroup.LATENCY: CLEAR}, trace_latency=CLEAR)
    s.utilisation[SignalGroup.CPU] = utilisation
    assert fault_type(s) is (fault or FaultType.CPU)
    del s.utilisation[SignalGroup.CPU]
    assert fault_type(s) is FaultType.CPU


@pytest.mark.parametrize(("utilisation", "fault"), [(0.21, FaultType.CPU), (0.7, None)])
def test_memory_far_from_its_limit_is_more_held_not_the_cause(
    utilisation: float, fault: FaultType | None
) -> None:
    """OnlineBoutique's frontend (2022-08-22 03:53, CPU contention) held four times its memory,
    at a fifth of its limit, while its CPU went from a quarter of its limit to all of it: the
    memory rose more in doublings, the CPU was the one at its limit. Near its limit memory is
    the cause; with the limit unknown, a large rise still is."""
    s = signals(groups={SignalGroup.MEMORY: 2.4, SignalGroup.CPU: 1.6, SignalGroup.LATENCY: 2.0})
    s.utilisation[SignalGroup.CPU] = 1.0
    s.utilisation[SignalGroup.MEMORY] = utilisation
    assert fault_type(s) is (fault or FaultType.MEMORY)
    del s.utilisation[SignalGroup.MEMORY]
    assert fault_type(s) is FaultType.MEMORY


@pytest.mark.parametrize(("utilisation", "fault"), [(0.3, FaultType.LATENCY), (0.95, None)])
def test_a_pool_or_volume_far_from_its_limit_is_not_exhausted(
    utilisation: float, fault: FaultType | None
) -> None:
    """A pool twice as used at 30 % makes no request wait for a connection (the demo's catalog,
    waiting on its slow database: its pool 25 % → 30 %); at 95 % it may; with the level
    unknown, a large rise still counts."""
    s = signals(groups={SignalGroup.POOL: 1.5, SignalGroup.LATENCY: CLEAR}, trace_latency=CLEAR)
    s.utilisation[SignalGroup.POOL] = utilisation
    assert fault_type(s) is (fault or FaultType.RESOURCE_EXHAUSTION)
    del s.utilisation[SignalGroup.POOL]
    assert fault_type(s) is FaultType.RESOURCE_EXHAUSTION


def test_a_caller_far_from_its_cpu_limit_still_used_more_of_its_own() -> None:
    """More CPU, however far from the limit, is no waiting on a callee: not discounted."""
    web = signals("web", groups={SignalGroup.CPU: CLEAR})
    web.utilisation[SignalGroup.CPU] = 0.1
    api = signals("api", trace_errors=CLEAR, logs=CLEAR, metrics=CLEAR)
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert not _by_service(ranked)["web"].propagated


def test_the_strongest_cause_is_named() -> None:
    s = signals(groups={SignalGroup.CPU: 1.0, SignalGroup.POOL: CLEAR})
    assert fault_type(s) is FaultType.RESOURCE_EXHAUSTION


def test_an_own_code_path_cut_short_by_more_than_the_resources_rose_is_the_fault() -> None:
    """An exception skips a statement, saturation does not: the small rise in CPU is the extra
    work after it. A rise larger than the cut, or a cut a failing call explains, keeps CPU."""
    s = signals(groups={SignalGroup.CPU: 1.0}, code_paths=3.0)
    s.cut_short, s.own_cut_short = True, 3.0
    assert fault_type(s) is FaultType.EXCEPTION
    s.metric_groups[SignalGroup.CPU] = 5.0
    assert fault_type(s) is FaultType.CPU
    s.metric_groups[SignalGroup.CPU], s.own_cut_short = 1.0, 0.0  # the callee's doing
    s.own_code_path = 3.0  # an own new WARN line elsewhere is not a statement skipped
    assert fault_type(s) is FaultType.CPU


def test_an_own_code_path_cut_short_is_the_failure_however_much_slower_it_got() -> None:
    """Slowness does not skip a statement; an exception does, and the time its handling takes
    can be the louder change (OnlineBoutique 2022-08-22 07:53: adservice's GetAds stopped
    calling getAds in 77 of 102 spans, its p90 ×20). A stop a failing call below explains
    is no code of its own skipped: the time decides, as before."""
    s = signals(groups={SignalGroup.LATENCY: 6.0}, code_paths=1.0)
    s.cut_short, s.own_cut_short = True, 1.0
    assert fault_type(s) is FaultType.EXCEPTION
    s.own_cut_short = 0.0  # the callee's doing
    assert fault_type(s) is FaultType.LATENCY


def test_time_on_the_calls_to_a_service_is_network_delay() -> None:
    s = signals(trace_network=CLEAR, trace_latency=FAINT, trace_errors=1.0)
    assert fault_type(s) is FaultType.NETWORK_DELAY


def test_packets_its_own_interface_dropped_are_a_network_fault() -> None:
    """Drops, resends and interface errors are measured on the instance, not inferred from
    time outside its spans: they name the network even where a resent packet slowed its own
    spans too; a CPU that rose more is still the stronger cause."""
    s = signals(groups={SignalGroup.NETWORK: CLEAR, SignalGroup.LATENCY: CLEAR})
    s.raw["trace_latency"] = CLEAR
    assert fault_type(s) is FaultType.NETWORK_DELAY
    s.metric_groups[SignalGroup.NETWORK] = FAINT  # a few drops: not the cause
    assert fault_type(s) is FaultType.LATENCY
    s.metric_groups |= {SignalGroup.NETWORK: 1.0, SignalGroup.CPU: CLEAR}
    assert fault_type(s) is FaultType.CPU


def test_a_caller_dropping_packets_itself_is_not_discounted() -> None:
    """Waiting on a callee loses no packet of the caller's own interface."""
    web = signals("web", groups={SignalGroup.NETWORK: CLEAR})
    api = signals("api", trace_errors=CLEAR, logs=CLEAR, metrics=CLEAR)
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert not _by_service(ranked)["web"].propagated
    web.metric_groups[SignalGroup.NETWORK] = FAINT
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert _by_service(ranked)["web"].propagated


def test_a_service_without_spans_whose_own_latency_grew_is_slow_itself() -> None:
    """A database records no spans: its callers' calls to it grew, all outside spans of its
    own. The latency it measured itself grew as much: it is slow, not its link. A traced
    service keeps its spans as its own time (a delayed pod's outgoing calls raise its
    server-side latency series too)."""
    s = signals(trace_network=CLEAR, groups={SignalGroup.LATENCY: CLEAR})
    assert fault_type(s) is FaultType.NETWORK_DELAY
    s.untraced = True
    assert fault_type(s) is FaultType.LATENCY
    s.metric_groups[SignalGroup.POOL] = CLEAR  # its disk at its limit says why
    assert fault_type(s) is FaultType.RESOURCE_EXHAUSTION
    s = signals(trace_network=CLEAR, groups={SignalGroup.LATENCY: FAINT})
    s.untraced = True  # its own latency as it was: the time is on the way to it
    assert fault_type(s) is FaultType.NETWORK_DELAY


def test_a_callee_whose_own_time_grew_too_is_slow_itself_not_its_link() -> None:
    """A slow link leaves the callee's own spans as they were. OnlineBoutique's recommender,
    starved of CPU (2022-08-23 15:21), took longer in its own spans and answered late: the time
    in front of its spans is its queue, and the hypothesis is its CPU, or its latency when no
    resource says why (however much larger the time outside its spans grew)."""
    s = signals(trace_network=CLEAR, trace_latency=CLEAR, groups={SignalGroup.CPU: 1.5})
    assert fault_type(s) is FaultType.CPU
    s = signals(trace_network=CLEAR * 3, trace_latency=CLEAR)
    assert fault_type(s) is FaultType.LATENCY


def test_time_in_front_of_a_service_at_its_cpu_limit_is_its_queue_not_a_link() -> None:
    """A server out of CPU leaves requests waiting before its spans start: OnlineBoutique's
    currencyservice, starved of CPU (2022-08-22 05:18, at its limit), kept its own span time
    while the time its callers' calls spent outside its spans grew 4.5-fold. With its CPU near
    the limit and risen, the time in front of its spans is its CPU queue; far from the limit,
    or with its CPU as it was, it is still the link's."""
    s = signals(trace_network=CLEAR, trace_latency=FAINT, groups={SignalGroup.CPU: 0.6})
    s.utilisation[SignalGroup.CPU] = 1.0
    assert fault_type(s) is FaultType.CPU
    s.utilisation[SignalGroup.CPU] = 0.2  # more work far from the limit: nothing waits for that CPU
    assert fault_type(s) is FaultType.NETWORK_DELAY
    s = signals(trace_network=CLEAR, trace_latency=FAINT, groups={SignalGroup.CPU: FAINT})
    s.utilisation[SignalGroup.CPU] = (
        0.9  # always busy, no busier: a delay in front of it is the link's
    )
    assert fault_type(s) is FaultType.NETWORK_DELAY


def test_a_caller_late_on_its_calls_to_everyone_is_slow_itself_not_a_link() -> None:
    """Time on calls credited to the caller because it was late on all of them (signals'
    ``caller_side``) is its own process being slow: OnlineBoutique's frontend starved of CPU
    (2022-08-22 03:53) is not a network delay. Time on calls into it that grew more is."""
    s = signals(trace_network=CLEAR, trace_latency=FAINT)
    s.late_caller = CLEAR
    assert fault_type(s) is FaultType.LATENCY
    s.raw["trace_network"] = CLEAR * 2  # its callers waited longer on calls into it
    assert fault_type(s) is FaultType.NETWORK_DELAY


def test_errors_that_are_calls_to_it_timing_out_unanswered_are_its_link() -> None:
    """A lossy link (the demo's network-loss): most calls to shipping that failed got no
    answer within the callers' timeout, while shipping answered the rest as fast as ever; the
    median call was not slower, so only the timeouts say it. Timeouts that are a minority of
    its errors, or a service slower in its own spans, keep the other hypotheses."""
    s = signals(trace_errors=CLEAR)
    s.calls_timed_out = 0.8
    assert fault_type(s) is FaultType.NETWORK_DELAY
    s.calls_timed_out = 0.3  # most of its errors are its own answers
    assert fault_type(s) is FaultType.ERRORS
    s = signals(trace_errors=CLEAR, trace_latency=CLEAR)
    s.calls_timed_out = 0.8  # its own spans slower too: it is slow itself, its errors named
    assert fault_type(s) is FaultType.ERRORS


def test_lines_that_only_say_the_work_was_slow_are_latency_not_errors() -> None:
    s = signals(logs=CLEAR, code_paths=CLEAR)
    s.slow_lines = True
    assert fault_type(s) is FaultType.LATENCY
    s.other_lines = True  # and a line that says something else
    assert fault_type(s) is FaultType.ERRORS


def test_errors_from_a_service_that_recorded_no_spans_are_an_outage() -> None:
    s = signals(trace_errors=CLEAR, groups={SignalGroup.CPU: CLEAR})
    s.outage = True
    assert fault_type(s) is FaultType.DEPENDENCY_OUTAGE


def test_a_service_whose_process_went_away_is_an_outage() -> None:
    s = signals(groups={SignalGroup.ERRORS: CLEAR})
    assert fault_type(s) is not FaultType.DEPENDENCY_OUTAGE
    s.gone = 5.0
    assert fault_type(s) is FaultType.DEPENDENCY_OUTAGE
    s.raw["change"], s.raw["logs"] = 0.9, CLEAR  # its own deploy right before crash-loops
    assert fault_type(s) is FaultType.BAD_DEPLOY


def test_traffic_that_fell_with_errors_is_an_outage() -> None:
    s = signals(trace_errors=CLEAR)
    s.traffic_down = 12.0
    assert fault_type(s) is FaultType.DEPENDENCY_OUTAGE
    s.traffic_down = 4.0  # a dip, not a service gone
    assert fault_type(s) is not FaultType.DEPENDENCY_OUTAGE


def test_a_change_right_before_an_anomaly_is_a_bad_deploy() -> None:
    s = signals(change=0.9, logs=CLEAR, trace_errors=CLEAR, groups={SignalGroup.CPU: CLEAR})
    assert fault_type(s) is FaultType.BAD_DEPLOY


def test_a_change_beside_a_small_anomaly_is_not_named() -> None:
    s = signals(change=1.0, logs=1.0)
    assert s.anomaly() < 1.0
    assert fault_type(s) is FaultType.ERRORS


def test_a_change_long_before_is_not_named() -> None:
    s = signals(change=0.2, logs=CLEAR, trace_errors=CLEAR)
    assert fault_type(s) is FaultType.ERRORS


def test_errors_with_exception_words_are_an_exception() -> None:
    s = signals(logs=CLEAR)
    s.exception_words = True
    assert fault_type(s) is FaultType.EXCEPTION


def test_other_error_text_is_an_error_return() -> None:
    s = signals(logs=CLEAR, trace_errors=CLEAR)
    s.error_words = True
    assert fault_type(s) is FaultType.ERROR_RETURN


def test_a_code_path_cut_short_without_error_text_is_an_exception() -> None:
    s = signals(code_paths=CLEAR)
    s.cut_short = True
    assert fault_type(s) is FaultType.EXCEPTION


def test_the_error_text_decides_over_a_code_path_cut_short() -> None:
    s = signals(code_paths=CLEAR, logs=CLEAR)
    s.cut_short = True
    s.error_words = True
    assert fault_type(s) is FaultType.ERROR_RETURN


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ((0, 12), FaultType.ERROR_RETURN),
        ((9, 3), FaultType.EXCEPTION),
        ((3, 3), FaultType.ERROR_RETURN),  # no majority for a failure in code
    ],
)
def test_without_new_lines_of_its_own_what_most_of_its_error_lines_say_decides(
    lines: tuple[int, int], expected: FaultType
) -> None:
    s = signals(trace_errors=CLEAR)
    s.error_lines = lines
    assert fault_type(s) is expected


def test_new_lines_and_a_cut_short_path_decide_before_the_other_error_lines() -> None:
    s = signals(logs=CLEAR)
    s.error_words = True
    s.error_lines = (50, 1)
    assert fault_type(s) is FaultType.ERROR_RETURN
    cut = signals(code_paths=CLEAR)
    cut.cut_short = True
    cut.error_lines = (0, 50)
    assert fault_type(cut) is FaultType.EXCEPTION


@pytest.mark.parametrize(
    "s",
    [
        signals(trace_errors=CLEAR),
        signals(groups={SignalGroup.ERRORS: CLEAR}),
        signals(logs=CLEAR),
        signals(code_paths=CLEAR),  # a new WARN line: nothing says which kind of error
    ],
    ids=["traces", "metric", "logs", "code-path"],
)
def test_errors_of_unknown_kind_are_errors(s: ServiceSignals) -> None:
    assert fault_type(s) is FaultType.ERRORS


def test_latency_alone_is_latency() -> None:
    assert fault_type(signals(trace_latency=CLEAR)) is FaultType.LATENCY
    assert fault_type(signals(groups={SignalGroup.LATENCY: CLEAR})) is FaultType.LATENCY


def test_the_larger_symptom_is_named() -> None:
    assert fault_type(signals(trace_latency=CLEAR, logs=1.0)) is FaultType.LATENCY
    assert fault_type(signals(trace_latency=1.0, logs=CLEAR)) is FaultType.ERRORS


def test_faint_signals_are_unknown() -> None:
    assert fault_type(signals(logs=FAINT, trace_latency=FAINT)) is FaultType.UNKNOWN
    assert fault_type(signals(groups={SignalGroup.OTHER: CLEAR})) is FaultType.UNKNOWN


# --- rank -----------------------------------------------------------------------------------


def _evidence_for(*services: str) -> list[EvidenceDraft]:
    return [draft(f"logs:{s}", Source.LOGS, 2.0, s) for s in services]


def _by_service(ranked: list[RankedService]) -> dict[str, RankedService]:
    return {r.service: r for r in ranked}


def test_a_caller_that_stopped_calling_with_nothing_failing_below_is_the_fault() -> None:
    """An early return injected into a frontend: its requests answer without calling the
    catalog (100 % of the traces through it before, 10 % after); its own spans and the
    catalog look as before. The frontend is first, its path cut short: an exception."""
    graph = calls(("frontend", "catalog"))
    stopped = EdgeFinding(
        "frontend",
        "catalog",
        10,
        0,
        1.0,
        1.0,
        (),
        baseline_through=100,
        baseline_with=100,
        incident_through=100,
        incident_with=10,
    )
    traces = TraceAnalysis(100, 100, graph.services, [stopped])
    found = collect(None, None, traces, None, 0.0)
    evidence = [draft("traces:calls:frontend:stopped", Source.TRACES, 9.0, "frontend")]
    (first,) = rank(found, traces, evidence, 5)
    assert first.service == "frontend" and not first.propagated
    assert first.fault_type is FaultType.EXCEPTION


def test_a_caller_with_healthy_spans_over_an_anomalous_callee_is_discounted() -> None:
    web = signals("web", logs=CLEAR, groups={SignalGroup.ERRORS: CLEAR})
    undiscounted = total(signals("web", logs=CLEAR, groups={SignalGroup.ERRORS: CLEAR}))
    api = signals("api", trace_errors=CLEAR, logs=CLEAR)
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert [r.service for r in ranked] == ["api", "web"]
    found = _by_service(ranked)
    assert found["web"].propagated and not found["api"].propagated
    assert found["web"].score == pytest.approx(undiscounted * PROPAGATION_FACTOR, abs=1e-3)
    assert found["api"].score == pytest.approx(total(api), abs=1e-3)


@pytest.mark.parametrize("group", [SignalGroup.CPU, SignalGroup.MEMORY, SignalGroup.POOL])
def test_a_caller_whose_own_resources_rose_is_not_discounted(group: SignalGroup) -> None:
    """Waiting on a callee uses no CPU, memory or pool: using more is the caller's own."""
    web = signals("web", groups={group: CLEAR})
    api = signals("api", trace_errors=CLEAR, logs=CLEAR, metrics=CLEAR)
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert not _by_service(ranked)["web"].propagated
    faint = signals("web", groups={group: FAINT, SignalGroup.LATENCY: CLEAR})
    ranked = rank({"web": faint, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert _by_service(ranked)["web"].propagated


def test_the_discount_reaches_through_a_chain_of_calls() -> None:
    web = signals("web", logs=CLEAR, groups={SignalGroup.ERRORS: CLEAR})
    db = signals("db", trace_errors=CLEAR, code_paths=CLEAR)
    edges = calls(("web", "api"), ("api", "db"))
    ranked = rank({"web": web, "db": db}, edges, _evidence_for("web", "db"), 5)
    assert _by_service(ranked)["web"].propagated


def test_a_caller_reacting_to_a_callee_s_changed_code_path_ranks_below_it() -> None:
    """The callee stopped doing its work without failing (it only stopped writing a line); its
    caller threw, loudly, in every request it served that way. The caller is the symptom."""
    web = signals("web", logs=CLEAR, trace_errors=CLEAR, code_paths=CLEAR)
    web.explained_error_lines = 2  # both written in spans a changed callee explains
    price = signals("price", code_paths=CLEAR)
    assert total(web) < total(price)
    ranked = rank(
        {"web": web, "price": price}, calls(("web", "price")), _evidence_for("web", "price"), 5
    )
    assert [r.service for r in ranked] == ["price", "web"]
    found = _by_service(ranked)
    assert found["web"].propagated and not found["price"].propagated
    assert found["web"].fault_type is FaultType.ERRORS  # what it did, as before
    web.own_error_lines = 1  # one of its own: the errors are its own
    assert web.anomaly() == pytest.approx(3 * squash(CLEAR))


def test_a_caller_whose_own_spans_are_anomalous_is_not_discounted() -> None:
    web = signals("web", trace_latency=CLEAR, logs=CLEAR)
    api = signals("api", trace_errors=CLEAR, logs=CLEAR)
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert not _by_service(ranked)["web"].propagated


def test_a_callee_much_less_anomalous_than_its_caller_explains_nothing() -> None:
    web = signals("web", logs=CLEAR, code_paths=CLEAR, groups={SignalGroup.ERRORS: CLEAR})
    api = signals("api", logs=0.5)
    assert total(api) < 0.5 * total(web)
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert ranked[0].service == "web" and not ranked[0].propagated


def test_a_caller_without_own_spans_in_the_incident_is_not_discounted() -> None:
    """Healthy own spans need own spans: a caller that recorded none is not shown healthy."""
    web = signals("web", logs=CLEAR, groups={SignalGroup.ERRORS: CLEAR})
    api = signals("api", trace_errors=CLEAR, logs=CLEAR)
    edges = calls(("web", "api"), untraced=("web",))
    ranked = rank({"web": web, "api": api}, edges, _evidence_for("web", "api"), 5)
    assert not _by_service(ranked)["web"].propagated


def test_without_traces_nothing_is_discounted() -> None:
    web = signals("web", logs=CLEAR)
    api = signals("api", logs=CLEAR, code_paths=CLEAR)
    ranked = rank({"web": web, "api": api}, None, _evidence_for("web", "api"), 5)
    assert not any(r.propagated for r in ranked)


def test_a_change_alone_ranks_nothing() -> None:
    deployed = signals("api", change=1.0)
    assert rank({"api": deployed}, None, _evidence_for("api"), 5) == []


def test_a_change_adds_only_to_a_service_anomalous_itself() -> None:
    quiet = signals("api", change=1.0, logs=0.5)
    assert quiet.anomaly() < 0.5
    assert total(quiet) == pytest.approx(quiet.anomaly())
    loud = signals("api", change=1.0, logs=CLEAR)
    assert total(loud) == pytest.approx(loud.anomaly() + 1.0)


def test_a_nearby_change_lifts_a_service_above_an_equally_anomalous_one() -> None:
    found = {
        "api": signals("api", change=1.0, logs=CLEAR),
        "db": signals("db", logs=CLEAR),
    }
    ranked = rank(found, None, _evidence_for("api", "db"), 5)
    assert [r.service for r in ranked] == ["api", "db"]
    assert ranked[0].signals["change"] == 1.0


def test_a_candidate_without_evidence_to_cite_is_skipped() -> None:
    found = {"api": signals("api", logs=CLEAR), "db": signals("db", logs=CLEAR, code_paths=1)}
    ranked = rank(found, None, _evidence_for("api"), 5)
    assert [r.service for r in ranked] == ["api"]
    assert ranked[0].evidence_keys == ["logs:api"]


def test_the_ranking_is_by_score_and_cut_at_the_limit() -> None:
    found = {
        "a": signals("a", logs=1.0),
        "b": signals("b", logs=CLEAR, trace_errors=CLEAR),
        "c": signals("c", logs=CLEAR),
        "quiet": signals("quiet", logs=0.01),  # below MIN_SCORE
    }
    evidence = _evidence_for(*found)
    assert [r.service for r in rank(found, None, evidence, 5)] == ["b", "c", "a"]
    assert [r.service for r in rank(found, None, evidence, 2)] == ["b", "c"]


def test_a_ranked_service_carries_its_fault_and_nonzero_signals() -> None:
    api = signals("api", code_paths=CLEAR)
    api.cut_short = True
    (ranked,) = rank({"api": api}, None, _evidence_for("api"), 5)
    assert ranked.fault_type is FaultType.EXCEPTION
    assert set(ranked.signals) == {"code_paths"}


# --- order_evidence -------------------------------------------------------------------------

ITEMS = [
    draft("logs-weak", Source.LOGS, 1.0),
    draft("metrics", Source.METRICS, 9.0),
    draft("logs-strong", Source.LOGS, 5.0),
    draft("traces", Source.TRACES, 3.0),
    draft("change", Source.CHANGE, 0.5),
]


@pytest.mark.parametrize(
    ("fault", "first"),
    [
        (FaultType.BAD_DEPLOY, ["change", "traces", "logs-strong", "metrics"]),
        (FaultType.EXCEPTION, ["logs-strong", "traces", "metrics", "change"]),
        (FaultType.ERROR_RETURN, ["traces", "logs-strong", "metrics", "change"]),
        (FaultType.ERRORS, ["traces", "logs-strong", "metrics", "change"]),
        (FaultType.CPU, ["metrics", "traces", "logs-strong", "change"]),
        (FaultType.MEMORY, ["metrics", "logs-strong", "traces", "change"]),
        (FaultType.RESOURCE_EXHAUSTION, ["metrics", "logs-strong", "traces", "change"]),
        (FaultType.NETWORK_DELAY, ["traces", "metrics", "logs-strong", "change"]),
        (FaultType.LATENCY, ["traces", "logs-strong", "metrics", "change"]),
    ],
)
def test_the_best_item_of_each_source_comes_first_in_the_fault_s_order(
    fault: FaultType, first: list[str]
) -> None:
    assert order_evidence(ITEMS, fault) == [*first, "logs-weak"]


@pytest.mark.parametrize(
    ("fault", "named"),
    [
        (FaultType.CPU, "metrics:api:cpu_usage_ratio"),
        (FaultType.MEMORY, "metrics:api:memory_usage_bytes"),
        (FaultType.RESOURCE_EXHAUSTION, "metrics:api:db_pool_connections_in_use"),
    ],
)
def test_a_resource_fault_cites_that_resource_before_louder_symptoms(
    fault: FaultType, named: str
) -> None:
    items = [
        draft("metrics:api:latency_p90_seconds", Source.METRICS, 50.0),
        draft("metrics:api:cpu_usage_ratio", Source.METRICS, 3.4),
        draft("metrics:api:memory_usage_bytes", Source.METRICS, 3.0),
        draft("metrics:api:db_pool_connections_in_use", Source.METRICS, 2.0),
        draft("traces:latency:api", Source.TRACES, 1.3),
    ]
    keys = order_evidence(items, fault)
    assert keys[:2] == [named, "traces:latency:api"]
    assert keys[2] == "metrics:api:latency_p90_seconds"  # the rest by score
    # a symptom's own order is the score's
    assert order_evidence(items, FaultType.LATENCY)[:2] == [
        "traces:latency:api",
        "metrics:api:latency_p90_seconds",
    ]


def test_a_network_fault_cites_the_dropped_packets_among_the_metrics() -> None:
    items = [
        draft("metrics:api:latency_p90_seconds", Source.METRICS, 50.0),
        draft("metrics:api:network_receive_packets_dropped_per_second", Source.METRICS, 2.0),
        draft("traces:network:api", Source.TRACES, 1.3),
    ]
    assert order_evidence(items, FaultType.NETWORK_DELAY)[:2] == [
        "traces:network:api",
        "metrics:api:network_receive_packets_dropped_per_second",
    ]
    assert order_evidence(items, FaultType.LATENCY)[1] == "metrics:api:latency_p90_seconds"


def test_the_rest_follow_by_score_and_missing_sources_are_skipped() -> None:
    items = [
        draft("m1", Source.METRICS, 1.0),
        draft("m3", Source.METRICS, 3.0),
        draft("m2", Source.METRICS, 2.0),
    ]
    assert order_evidence(items, FaultType.EXCEPTION) == ["m3", "m2", "m1"]
    assert order_evidence([], FaultType.CPU) == []


def test_a_caller_whose_own_code_path_changed_is_not_discounted() -> None:
    """New error lines in its own spans, with no failing call below them, are its own fault."""
    web = signals("web", code_paths=CLEAR)
    web.own_code_path = CLEAR
    api = signals("api", trace_errors=CLEAR, logs=CLEAR, metrics=CLEAR)
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert not _by_service(ranked)["web"].propagated


def test_a_caller_whose_code_path_changed_because_a_call_failed_is_discounted() -> None:
    web = signals("web", code_paths=CLEAR)  # its reaction to the callee: own_code_path stays 0
    api = signals("api", trace_errors=CLEAR, logs=CLEAR, metrics=CLEAR)
    ranked = rank({"web": web, "api": api}, calls(("web", "api")), _evidence_for("web", "api"), 5)
    assert _by_service(ranked)["web"].propagated
