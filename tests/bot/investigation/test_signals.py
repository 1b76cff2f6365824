"""Each service's own signals from every modality's comparison with normal (issue 11).

Inputs are the tools' real dataclasses, built by hand: what each modality reported, and what
``collect`` makes of it per service (in doublings, before the 0..1 squash of the ranking).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.investigation.effects import code_path_effect
from bot.investigation.signals import (
    MODALITIES,
    ServiceSignals,
    collect,
    distinctiveness,
    squash,
)
from tools.analysis.change_scores import SeriesChange
from tools.analysis.code_paths import CodePathChange, Kind
from tools.analysis.log_templates import LogPattern, ServiceErrorBurst
from tools.analysis.metric_kinds import SignalGroup, classify
from tools.analysis.span_attribution import EdgeFinding, ServiceTraceFinding, TraceAnalysis
from tools.log_patterns import LogFindings
from tools.recent_changes import proximity
from tools.records import Change, LogLevel

START = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)
SERVICES = ("web", "api", "db", "cache")


def series_change(
    service: str, metric: str, *, effect: float = 2.0, score: float = 12.0, direction: str = "up"
) -> SeriesChange:
    """A metric change as ``metric_changes`` reports it; ``score`` 0 is a series that did not
    move (the services that report the metric without a change)."""
    level = (0.1 if direction == "down" else 4.0) if score else 1.0
    return SeriesChange(
        service=service,
        metric=metric,
        group=classify(metric)[0],
        direction=direction,
        score=score,
        baseline_median=1.0,
        incident_median=level,
        level=level,
        peak=4.0,
        peak_at=START.timestamp(),
        onset=START.timestamp() if score else None,
        points=(),
        effect=effect if score else 0.0,
    )


def reporting(metric: str, moved: set[str], effect: float = 2.0) -> list[SeriesChange]:
    """``metric`` of every service in :data:`SERVICES`; those in ``moved`` changed."""
    return [
        series_change(s, metric, effect=effect, score=12.0 if s in moved else 0.0) for s in SERVICES
    ]


def pattern(service: str, template: str, level: LogLevel, growth: float) -> LogPattern:
    return LogPattern(
        template=template,
        service=service,
        max_level=level,
        baseline_count=1,
        incident_count=80,
        example=template.replace("<*>", "42"),
        growth=growth,
    )


def logs(*patterns: LogPattern, bursts: tuple[ServiceErrorBurst, ...] = ()) -> LogFindings:
    return LogFindings(
        bursts=list(bursts),
        patterns=[(p, p.growth * 6) for p in patterns],
        sampled=500,
        total_warn=90,
    )


def code_path(
    kind: Kind,
    level: LogLevel,
    template: str,
    *,
    service: str = "route",
    normal: tuple[int, int] = (29, 40),
    incident: tuple[int, int] = (0, 35),
) -> CodePathChange:
    return CodePathChange(
        service=service,
        operation="queryByIds",
        template=template,
        source=None,
        level=level,
        kind=kind,
        normal_spans=normal[1],
        normal_with=normal[0],
        incident_spans=incident[1],
        incident_with=incident[0],
        score=30.0,
        example=template.replace("<*>", "42"),
        trace_ids=("ab" * 16,),
    )


def collect_paths(*paths: CodePathChange) -> dict[str, ServiceSignals]:
    return collect(None, None, None, None, START.timestamp(), list(paths))


# --- distinctiveness -----------------------------------------------------------------------


def test_a_metric_only_one_of_many_services_moved_in_is_fully_distinctive() -> None:
    assert distinctiveness(reporting("cpu_usage", {"db"})) == {"cpu_usage": 1.0}


def test_a_metric_every_service_moved_in_says_nothing_about_where() -> None:
    assert distinctiveness(reporting("cpu_usage", set(SERVICES))) == {"cpu_usage": 0.0}


def test_distinctiveness_is_the_information_of_narrowing_n_services_to_k() -> None:
    weights = distinctiveness(reporting("cpu_usage", {"db", "api"}))
    assert weights["cpu_usage"] == pytest.approx(math.log(4 / 2) / math.log(4))


def test_with_fewer_than_three_services_reporting_there_is_no_crowd_to_compare() -> None:
    both = [series_change("web", "cpu_usage"), series_change("api", "cpu_usage")]
    assert distinctiveness(both) == {"cpu_usage": 1.0}


def test_distinctiveness_is_per_metric() -> None:
    changes = reporting("cpu_usage", set(SERVICES)) + reporting("error_ratio", {"api"})
    assert distinctiveness(changes) == {"cpu_usage": 0.0, "error_ratio": 1.0}


# --- metrics --------------------------------------------------------------------------------


def test_a_metric_counts_its_effect_times_its_distinctiveness() -> None:
    changes = reporting("cpu_usage", {"db", "api"}, effect=3.0)
    found = collect(changes, None, None, None, START.timestamp())
    weight = distinctiveness(changes)["cpu_usage"]
    assert 0 < weight < 1
    assert found["db"].raw["metrics"] == pytest.approx(3.0 * weight)
    assert found["db"].metric_groups == {SignalGroup.CPU: pytest.approx(3.0 * weight)}
    assert "web" not in found  # a series that did not move adds no service


def test_a_change_every_service_shows_adds_nothing() -> None:
    found = collect(reporting("cpu_usage", set(SERVICES)), None, None, None, START.timestamp())
    assert all(s.anomaly() == 0 for s in found.values())


def test_a_service_s_strongest_metric_and_each_group_s_strongest_are_kept() -> None:
    changes = [
        series_change("api", "error_ratio", effect=1.0),
        series_change("api", "error_count", effect=4.0),
        series_change("api", "latency_p99_seconds", effect=2.0),
    ]
    api = collect(changes, None, None, None, START.timestamp())["api"]
    assert api.raw["metrics"] == 4.0
    assert api.metric_groups == {SignalGroup.ERRORS: 4.0, SignalGroup.LATENCY: 2.0}


@pytest.mark.parametrize(
    "metric", ["requests_per_second", "client_latency_p99_seconds", "node_cpu_usage"]
)
def test_traffic_callees_latency_and_the_host_are_not_the_service_s_own(metric: str) -> None:
    assert classify(metric)[0] in {SignalGroup.TRAFFIC, SignalGroup.DOWNSTREAM, SignalGroup.NODE}
    found = collect([series_change("api", metric, effect=5.0)], None, None, None, 0.0)
    api = found.get("api", ServiceSignals("api"))
    assert "metrics" not in api.raw and api.metric_groups == {}
    assert api.anomaly() == 0


def test_traffic_that_fell_is_kept_apart_as_a_hint_of_an_outage() -> None:
    fell = series_change("api", "requests_per_second", score=15.0, direction="down")
    api = collect([fell], None, None, None, START.timestamp())["api"]
    assert api.traffic_down == 15.0 and "metrics" not in api.raw


def test_only_a_fall_to_under_a_quarter_hints_at_an_outage() -> None:
    """A fall's z says how sure it is, not how far: ts-contacts-service's system calls fell
    37 % at z 12.8 against a reference of three samples, and had read as its outage."""
    fell = replace(
        series_change("api", "syscall_writes_per_second", score=12.8, direction="down"),
        baseline_median=5.5,
        incident_median=3.5,
        level=3.5,
    )
    api = collect([fell], None, None, None, START.timestamp())["api"]
    assert api.traffic_down == 0 and api.anomaly() == 0  # less work, and no outage either
    gone = replace(fell, incident_median=5.5 / 4 - 0.01)
    assert collect([gone], None, None, None, START.timestamp())["api"].traffic_down == 12.8


@pytest.mark.parametrize(
    "metric", ["syscall_writes_per_second", "network_transmit_bytes_per_second"]
)
def test_a_rate_of_work_that_fell_is_less_work_arriving_not_the_service_s_own(
    metric: str,
) -> None:
    """OnlineBoutique 05:09: the orders failed before paying, so the payment and email
    services were called no more and their system calls fell to 0."""
    fell = series_change("email", metric, effect=5.0, score=15.0, direction="down")
    email = collect([fell], None, None, None, START.timestamp())["email"]
    assert email.traffic_down == 15.0 and email.anomaly() == 0
    rose = series_change("email", metric, effect=5.0, score=15.0)  # more work: its own
    email = collect([rose], None, None, None, START.timestamp())["email"]
    assert email.raw["metrics"] == 5.0 and email.traffic_down == 0


def test_a_process_that_went_away_is_its_own_anomaly_not_saturation() -> None:
    """Its CPU and memory fell to almost nothing: counted in its metrics, as no resource."""
    falls = [
        replace(series_change("db", m, effect=5.0, direction="down"), went_away=True)
        for m in ("cpu_usage_ratio", "memory_usage_bytes")
    ]
    db = collect(falls, None, None, None, START.timestamp())["db"]
    assert db.gone == 5.0 and db.raw["metrics"] == 5.0
    assert db.metric_groups == {}  # not CPU or memory pressure


def test_cpu_utilisation_is_the_level_of_its_cpu_share_of_the_limit() -> None:
    """From ``cpu_usage_ratio`` (used / limit), moved or not, the busiest instance; not from
    cores (no limit in them) nor from the host's share; unknown without such a series."""
    metrics = [
        replace(series_change("api", "cpu_usage_ratio"), incident_median=0.15),  # one pod
        replace(series_change("api", "cpu_usage_ratio"), incident_median=0.9),  # another
        replace(series_change("web", "cpu_usage_ratio", score=0.0), incident_median=0.2),
        replace(series_change("web", "cpu_usage_cores"), incident_median=3.0),
        replace(series_change("web", "node_cpu_usage_ratio"), incident_median=0.99),
        series_change("db", "cpu_usage_cores"),
        series_change("web", "latency_p99_seconds"),
    ]
    found = collect(metrics, None, None, None, START.timestamp())
    assert found["api"].utilisation.get(SignalGroup.CPU) == 0.9
    assert found["web"].utilisation.get(SignalGroup.CPU) == 0.2
    assert found["db"].utilisation.get(SignalGroup.CPU) is None


def test_memory_utilisation_is_the_level_of_its_memory_share_of_the_limit() -> None:
    metrics = [
        replace(series_change("api", "memory_usage_ratio"), incident_median=0.21),
        replace(series_change("api", "memory_usage_bytes"), incident_median=8e7),
        replace(series_change("web", "node_memory_usage_ratio"), incident_median=0.99),
        series_change("web", "latency_p99_seconds"),
    ]
    found = collect(metrics, None, None, None, START.timestamp())
    assert found["api"].utilisation.get(SignalGroup.MEMORY) == 0.21
    assert found["api"].utilisation.get(SignalGroup.CPU) is None
    assert found["web"].utilisation.get(SignalGroup.MEMORY) is None


def test_pool_utilisation_is_the_most_used_of_its_pools_and_volumes() -> None:
    metrics = [
        replace(series_change("db", "disk_io_utilisation_ratio"), incident_median=0.98),
        replace(series_change("db", "db_pool_usage_ratio"), incident_median=0.3),
        replace(series_change("api", "hikaricp_connections_pending"), incident_median=40.0),
        replace(series_change("web", "disk_avail_ratio"), incident_median=0.05),
        series_change("web", "latency_p99_seconds"),
    ]
    found = collect(metrics, None, None, None, START.timestamp())
    assert found["db"].utilisation.get(SignalGroup.POOL) == 0.98
    assert found["api"].utilisation.get(SignalGroup.POOL) is None  # a count: no limit in it
    assert found["web"].utilisation.get(SignalGroup.POOL) is None  # space left is no share in use


# --- logs -----------------------------------------------------------------------------------


def test_an_error_burst_and_the_growth_of_a_template_feed_logs() -> None:
    burst = ServiceErrorBurst("api", 1, 200, 30.0, 10.0)
    assert burst.score > 0
    grew = pattern("db", "slow query took <*> ms", LogLevel.WARN, 1.5)
    found = collect(None, logs(grew, bursts=(burst,)), None, None, START.timestamp())
    assert found["api"].raw["logs"] == pytest.approx(burst.score)
    assert found["db"].raw["logs"] == 1.5


def test_a_template_that_did_not_grow_adds_nothing() -> None:
    steady = pattern("db", "Exception in thread <*>", LogLevel.ERROR, 0.0)
    found = collect(None, logs(steady), None, None, START.timestamp())
    assert "db" not in found


@pytest.mark.parametrize(
    "template",
    [
        "java.lang.NullPointerException at OrderService.<*>",
        "Traceback (most recent call last): <*>",
        "panic: runtime error: index out of range <*>",
        "Unhandled error while processing <*>",
    ],
)
def test_error_text_with_exception_words_marks_an_exception(template: str) -> None:
    found = collect(None, logs(pattern("api", template, LogLevel.ERROR, 3.0)), None, None, 0.0)
    assert found["api"].exception_words and not found["api"].error_words


def test_other_error_text_marks_an_error_the_service_answered_with() -> None:
    refused = pattern("api", "order <*> rejected: invalid coupon", LogLevel.ERROR, 3.0)
    found = collect(None, logs(refused), None, None, 0.0)
    assert found["api"].error_words and not found["api"].exception_words


def test_warnings_say_nothing_about_the_kind_of_error() -> None:
    warned = pattern("api", "retrying after Exception <*>", LogLevel.WARN, 2.0)
    api = collect(None, logs(warned), None, None, 0.0)["api"]
    assert api.raw["logs"] == 2.0
    assert not api.exception_words and not api.error_words


# --- code paths -----------------------------------------------------------------------------


def test_a_line_an_operation_stopped_writing_cuts_its_code_path_short() -> None:
    vanished = code_path("vanished", LogLevel.INFO, "Query route by id <*>")
    route = collect_paths(vanished)["route"]
    assert route.cut_short and not route.exception_words and not route.error_words
    assert route.raw["code_paths"] == pytest.approx(code_path_effect(vanished))
    assert route.own_cut_short == pytest.approx(code_path_effect(vanished))
    assert route.modalities()["code_paths"] > 0.9


def test_a_new_info_line_is_other_input_taking_another_branch() -> None:
    new_info = code_path(
        "appeared", LogLevel.INFO, "cache miss for <*>", normal=(0, 40), incident=(30, 35)
    )
    assert new_info.other_input and collect_paths(new_info) == {}
    warned = code_path("appeared", LogLevel.WARN, "retrying <*>", normal=(0, 40), incident=(30, 35))
    assert not warned.other_input and set(collect_paths(warned)) == {"route"}


def test_a_new_error_line_is_named_by_its_text() -> None:
    thrown = code_path(
        "appeared",
        LogLevel.ERROR,
        "java.lang.IllegalStateException: no route <*>",
        normal=(0, 40),
        incident=(30, 35),
    )
    refused = code_path(
        "appeared",
        LogLevel.ERROR,
        "route <*> not found",
        service="station",
        normal=(0, 40),
        incident=(30, 35),
    )
    found = collect_paths(thrown, refused)
    assert found["route"].exception_words and not found["route"].error_words
    assert found["station"].error_words and not found["station"].exception_words
    assert not found["route"].cut_short and not found["station"].cut_short
    assert found["route"].raw["code_paths"] == pytest.approx(code_path_effect(thrown))


def test_a_new_warning_line_counts_without_naming_the_error() -> None:
    warned = code_path(
        "appeared", LogLevel.WARN, "fallback price used <*>", normal=(0, 40), incident=(30, 35)
    )
    route = collect_paths(warned)["route"]
    assert route.raw["code_paths"] > 0
    assert not (route.exception_words or route.error_words or route.cut_short)


def test_new_error_lines_all_written_over_a_callee_s_change_are_a_reaction() -> None:
    """The caller threw because the callee returned without doing its work: its error lines,
    error origins and code paths are the callee's doing and count nothing."""
    thrown = replace(
        code_path("appeared", LogLevel.ERROR, "NullPointerException <*>", normal=(0, 8)),
        incident_with=6,
        incident_spans=6,
        callee_failed=1.0,
    )
    grew = pattern("route", "NullPointerException at <*>", LogLevel.ERROR, 3.0)
    route = collect(None, logs(grew), None, None, START.timestamp(), [thrown])["route"]
    route.bump("trace_errors", 3.0)
    route.bump("metrics", 1.0)
    assert route.reacting
    modalities = route.modalities()
    assert modalities["logs"] == modalities["traces"] == modalities["code_paths"] == 0.0
    assert modalities["metrics"] == pytest.approx(squash(1.0))  # its own figures still count
    assert route.normalised()["logs"] == pytest.approx(squash(3.0))  # what it did is shown
    assert route.exception_words


def test_one_new_error_line_of_its_own_makes_the_errors_its_own() -> None:
    explained = replace(
        code_path(
            "appeared", LogLevel.ERROR, "upstream said no <*>", normal=(0, 40), incident=(30, 35)
        ),
        callee_failed=0.9,
    )
    own = replace(explained, template="boom <*>", callee_failed=0.1)
    assert collect_paths(explained)["route"].reacting
    both = collect_paths(explained, own)["route"]
    assert not both.reacting
    assert both.modalities()["code_paths"] > 0.9


def test_failures_passed_up_from_below_are_a_reaction_unless_it_wrote_its_own_line() -> None:
    """Its spans failed more often, but every error started below it (a callee's edge that
    lost the calls): its new error lines are its reaction, as if joined to those spans."""
    passed = replace(
        finding("web"), incident_origin_traces=0, incident_origin_rate=0.0,
        incident_failing_traces=30,
    )  # fmt: skip
    assert passed.failures_passed_up
    grew = pattern("web", "upstream error on GET <*>: deadline exceeded", LogLevel.ERROR, 4.0)
    analysis = TraceAnalysis(100, 100, {"web": passed}, [])
    web = collect(None, logs(grew), analysis, None, START.timestamp())["web"]
    assert web.reacting and web.modalities()["logs"] == 0.0
    own = code_path("appeared", LogLevel.ERROR, "boom <*>", service="web", normal=(0, 40),
                    incident=(30, 35))  # fmt: skip
    web = collect(None, logs(grew), analysis, None, START.timestamp(), [own])["web"]
    assert not web.reacting and web.modalities()["logs"] > 0.9


def test_lines_that_all_say_slow_are_a_symptom_of_time() -> None:
    """The demo's catalog, waiting on its saturated database, logged "slow search … took
    812ms" WARN lines: no error; any other new line, or a burst of errors, keeps its lines
    errors."""
    slow = pattern("catalog", "slow search <*> took <*>ms", LogLevel.WARN, 3.0)
    found = collect(None, logs(slow), None, None, START.timestamp())["catalog"]
    assert found.only_slow_lines and not found.error_words
    assert found.modalities()["logs"] > 0.8  # still unusual: it counts in the ranking
    other = pattern("catalog", "cache refresh failed: <*>", LogLevel.WARN, 1.0)
    found = collect(None, logs(slow, other), None, None, START.timestamp())["catalog"]
    assert found.slow_lines and not found.only_slow_lines
    path = code_path("appeared", LogLevel.WARN, "slow query took <*>ms", service="catalog")
    assert collect_paths(path)["catalog"].only_slow_lines
    cut = code_path("vanished", LogLevel.INFO, "Query <*>", service="catalog")
    assert not collect_paths(path, cut)["catalog"].only_slow_lines


def test_a_vanished_line_alone_is_no_reaction() -> None:
    """Only the failing spans' new error lines say whose the errors are."""
    vanished = replace(code_path("vanished", LogLevel.INFO, "Query <*>"), callee_failed=1.0)
    route = collect_paths(vanished)["route"]
    assert not route.reacting
    assert route.modalities()["code_paths"] > 0.9
    assert route.cut_short and route.own_cut_short == 0.0  # a failing call below cut it


# --- traces ---------------------------------------------------------------------------------


def finding(
    service: str, incident_self_ms: float | None = 12.0, incident_critical_ms: float | None = 300.0
) -> ServiceTraceFinding:
    """A service errors originate in during the incident, and whose critical time grew (no
    own time: it recorded no spans)."""
    return ServiceTraceFinding(
        service=service,
        baseline_origin_rate=0.0,
        incident_origin_rate=0.6,
        incident_origin_traces=60,
        example_trace=None,
        example_operation=None,
        example_error=None,
        baseline_self_ms=10.0,
        incident_self_ms=incident_self_ms,
        baseline_critical_ms=10.0,
        incident_critical_ms=incident_critical_ms,
        baseline_traces=100,
        incident_traces=100,
    )


def _edge(caller: str, callee: str, after_ms: float) -> EdgeFinding:
    return EdgeFinding(
        caller=caller,
        callee=callee,
        incident_calls=50,
        incident_errors=0,
        baseline_gap_ms=2.0,
        incident_gap_ms=after_ms,
        error_origins=(),
        gap_rose=after_ms > 2.0,
    )


def _stopped(caller: str, callee: str, *, with_after: int = 4, **fields: object) -> EdgeFinding:
    """``caller`` called ``callee`` in 40 of 40 traces through it before, and in
    ``with_after`` of 40 in the incident."""
    edge = replace(
        _edge(caller, callee, 2.0),
        baseline_through=40,
        baseline_with=40,
        incident_through=40,
        incident_with=with_after,
    )
    return replace(edge, **fields)  # type: ignore[arg-type]


def test_a_call_the_caller_stopped_making_cuts_its_code_path_short() -> None:
    """OnlineBoutique 2022-08-23 12:10, a return injected into the frontend: its requests
    answered at once (0.5 ms, was 100 ms) without calling anything, and nothing else changed."""
    edge = _stopped("frontend", "productcatalog")
    found = collect(None, None, TraceAnalysis(40, 40, {}, [edge]), None, 0.0)
    frontend = found["frontend"]
    assert frontend.cut_short and frontend.own_cut_short == pytest.approx(
        math.log2(1.05 / 0.15)  # 100 % → 10 % of the traces, each floored at 5 %
    )
    assert frontend.modalities()["code_paths"] > 0.7
    assert found["productcatalog"].anomaly() == 0  # the callee no longer called did nothing


def test_a_call_stopped_after_a_failed_call_below_is_no_cut_of_its_own() -> None:
    edge = _stopped("seat", "order", incident_without_failed=30)  # 30 of 36 without it
    seat = collect(None, None, TraceAnalysis(40, 40, {}, [edge]), None, 0.0)["seat"]
    assert seat.cut_short and seat.own_cut_short == 0 and seat.own_code_path == 0


@pytest.mark.parametrize(
    "edge",
    [
        _stopped("seat", "order", other_arm="order-other"),
        _stopped("seat", "order", with_after=38),  # 100 % → 95 %: too small a shift
        replace(_stopped("seat", "order"), baseline_with=4, incident_with=40),  # started
    ],
    ids=["the other arm of a choice", "a small shift", "a call it started making"],
)
def test_a_call_not_cut_short_scores_nothing(edge: EdgeFinding) -> None:
    found = collect(None, None, TraceAnalysis(40, 40, {}, [edge]), None, 0.0)
    assert all(s.anomaly() == 0 and not s.cut_short for s in found.values())


def test_a_caller_late_on_all_its_calls_is_slow_itself_not_its_callees() -> None:
    """basic, starved of CPU (Nezha 2023-01-30 11:59), was late around every call it made:
    route, price and train each looked like a slow link. Only basic called them, and everything
    it called slowed: the time is basic's. A callee whose calls slowed from two callers, or a
    caller of which only one call slowed, keeps it on the callee."""
    starved = [_edge("basic", c, 90.0) for c in ("route", "price", "train")]
    found = collect(None, None, TraceAnalysis(100, 100, {}, starved), None, 0.0)
    assert found["basic"].raw["trace_network"] == pytest.approx(starved[0].gap_score)
    assert found["basic"].late_caller == pytest.approx(starved[0].gap_score)  # its own time
    assert all(
        "trace_network" not in found[c].raw for c in ("route", "price", "train") if c in found
    )
    also = [*starved, _edge("travel", "route", 90.0)]  # route slowed for travel too
    found = collect(None, None, TraceAnalysis(100, 100, {}, also), None, 0.0)
    assert found["route"].raw["trace_network"] > 0 and found["route"].late_caller == 0
    one = [_edge("basic", "route", 90.0), _edge("basic", "price", 2.0)]  # only route slowed
    found = collect(None, None, TraceAnalysis(100, 100, {}, one), None, 0.0)
    assert found["route"].raw["trace_network"] > 0
    assert "trace_network" not in found.get("basic", ServiceSignals("basic")).raw


def test_a_callee_that_records_no_spans_is_untraced() -> None:
    """A database named only in its callers' client spans: all of a call's time is outside
    spans of its own, so its own latency series must say whether it is slow itself."""
    edges = [_edge("web", "db", 90.0), _edge("web", "api", 2.0), _edge("api", "cache", 2.0)]
    services = {"web": finding("web"), "api": finding("api")}
    found = collect(None, None, TraceAnalysis(100, 100, services, edges), None, 0.0)
    assert found["db"].untraced and found["db"].raw["trace_network"] > 0
    assert not found["api"].untraced and not found["web"].untraced
    assert found["cache"].untraced and found["cache"].anomaly() == 0  # untraced, unchanged


def test_trace_findings_feed_errors_latency_and_network() -> None:
    api = finding("api")
    edge = EdgeFinding(
        caller="web",
        callee="db",
        incident_calls=100,
        incident_errors=0,
        baseline_gap_ms=1.0,
        incident_gap_ms=200.0,
        error_origins=(),
        baseline_critical_gap_ms=1.0,
        incident_critical_gap_ms=200.0,
        gap_rose=True,
    )
    traces = TraceAnalysis(100, 100, {"api": api}, [edge])
    found = collect(None, None, traces, None, START.timestamp())
    assert api.error_score > 0 and api.critical_latency_score > 0 and edge.gap_score > 0
    assert found["api"].raw["trace_errors"] == pytest.approx(api.error_score)
    assert found["api"].raw["trace_latency"] == pytest.approx(api.critical_latency_score)
    assert found["db"].raw["trace_network"] == pytest.approx(edge.gap_score)
    assert "trace_network" not in found.get("web", ServiceSignals("web")).raw
    assert not found["api"].outage


def test_the_share_of_its_errors_that_were_calls_timing_out_unanswered_is_kept() -> None:
    lossy = replace(finding("shipping"), incident_timed_out_traces=45)
    traces = TraceAnalysis(100, 100, {"shipping": lossy}, [])
    shipping = collect(None, None, traces, None, START.timestamp())["shipping"]
    assert shipping.calls_timed_out == pytest.approx(45 / 60)
    assert not shipping.outage  # it answered the rest: its spans are there


def test_errors_attributed_to_a_service_that_recorded_no_spans_are_an_outage() -> None:
    gone = finding("db", incident_self_ms=None, incident_critical_ms=None)
    db = collect(None, None, TraceAnalysis(100, 100, {"db": gone}, []), None, 0.0)["db"]
    assert gone.error_score >= 1.0 and db.outage


# --- changes --------------------------------------------------------------------------------


def test_a_change_near_the_start_feeds_change() -> None:
    deploy = Change(START - timedelta(minutes=2), "api", "deploy", "release 1.4.2")
    scaled = Change(START - timedelta(minutes=1), "db", "scale", "3 → 5 replicas")
    old = Change(START - timedelta(hours=3), "web", "config", "raise log level")
    found = collect(None, None, None, [deploy, scaled, old], START.timestamp())
    assert found["api"].raw["change"] == pytest.approx(proximity(deploy, START))
    assert found["api"].normalised()["change"] > 0.8
    assert "db" not in found  # scaling is not a change of the service's behaviour
    assert found["web"].normalised()["change"] == 0
    assert all(s.anomaly() == 0 for s in found.values())  # a change is not an anomaly


# --- modalities -----------------------------------------------------------------------------


def test_each_modality_counts_once_and_at_most_one() -> None:
    loud = ServiceSignals("loud", raw={"metrics": 1000.0, "trace_errors": 50.0, "trace_latency": 1})
    modalities = loud.modalities()
    assert set(modalities) == set(MODALITIES)
    assert all(0 <= v <= 1 for v in modalities.values())
    assert modalities["traces"] == pytest.approx(loud.normalised()["trace_errors"])
    assert loud.anomaly() == pytest.approx(sum(modalities.values()))
    assert loud.anomaly() <= 2.0


def test_three_unusual_modalities_beat_one_huge_signal() -> None:
    broad = ServiceSignals("broad", raw={"metrics": 2.0, "logs": 2.0, "code_paths": 2.0})
    loud = ServiceSignals("loud", raw={"metrics": 1000.0})
    assert broad.anomaly() > loud.anomaly()
    assert loud.anomaly() == pytest.approx(1.0)


def test_the_change_is_a_proximity_not_a_modality() -> None:
    s = ServiceSignals("api", raw={"change": 3.0})
    assert s.normalised()["change"] == 1.0
    assert s.anomaly() == 0


def test_what_its_error_lines_say_is_kept_even_when_none_grew_alone() -> None:
    """A service whose error rate rose but whose every template is too rare to be significant
    on its own still says, in those lines, what kind of error it is."""
    burst = ServiceErrorBurst("api", 1, 200, 30.0, 10.0)
    thrown = pattern("api", "java.lang.IllegalStateException at <*>", LogLevel.ERROR, 0.0)
    refused = pattern("api", "order <*> rejected: invalid coupon", LogLevel.ERROR, 0.0)
    quiet = pattern("db", "Exception in thread <*>", LogLevel.ERROR, 0.0)
    found = collect(None, logs(thrown, refused, quiet, bursts=(burst,)), None, None, 0.0)
    assert found["api"].error_lines == (80, 80)
    assert not found["api"].exception_words and not found["api"].error_words
    assert "db" not in found  # lines alone are no signal


def test_a_metric_episode_over_before_the_incident_counts_for_nothing() -> None:
    """An earlier incident in the window: the service's CPU back to normal before this one
    started says nothing about it."""
    changes = reporting("cpu_usage", {"db"}, effect=3.0)
    ended = (START - timedelta(minutes=4)).timestamp()
    past = [replace(c, until=ended, step=60.0) if c.service == "db" else c for c in changes]
    assert collect(changes, None, None, None, START.timestamp())["db"].anomaly() > 0
    assert "db" not in collect(past, None, None, None, START.timestamp())
    # still past the threshold a minute before the start: it goes on into the incident
    lasting = [replace(c, until=START.timestamp() - 30) if c.service == "db" else c for c in past]
    assert collect(lasting, None, None, None, START.timestamp())["db"].anomaly() > 0
