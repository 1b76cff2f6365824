from __future__ import annotations

import math
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest

from tests.tools.analysis.spans import span as _span
from tools.analysis.span_attribution import ServiceTraceFinding, analyze_traces
from tools.records import Span

SPLIT = 1000.0


def _call(
    trace: str,
    start: float,
    *,
    gap_ms: float = 2.0,
    callee_ms: float = 20.0,
    callee_error: bool = False,
    callee_present: bool = True,
) -> list[Span]:
    """frontend (server) → frontend client span → checkout (server)."""
    client_ms = callee_ms + gap_ms
    spans = [
        _span(trace, "1", None, "frontend", start, client_ms + 5, error=callee_error),
        _span(
            trace,
            "2",
            "1",
            "frontend",
            start + 0.001,
            client_ms,
            error=callee_error,
            kind="client",
            **{"peer.service": "checkout"},
        ),
    ]
    if callee_present:
        spans.append(
            _span(
                trace,
                "3",
                "2",
                "checkout",
                start + 0.001 + gap_ms / 2000,
                callee_ms,
                error=callee_error,
                **{"error.message": "boom"},
            )
        )
    return spans


def test_errors_are_attributed_to_where_they_originate() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_error=i % 2 == 0) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    checkout, frontend = result.services["checkout"], result.services["frontend"]
    assert checkout.incident_origin_traces == 10 and checkout.incident_origin_rate == 0.5
    assert checkout.example_error == "boom"
    assert checkout.error_score > 3.5
    assert frontend.incident_origin_traces == 0 and frontend.error_score == 0
    (edge,) = result.edges
    assert (edge.caller, edge.callee, edge.incident_errors) == ("frontend", "checkout", 10)
    assert edge.fault_in_callee


def test_errors_originate_at_the_deepest_failing_span_past_spans_marked_ok() -> None:
    """A client span and a handler span between two failing server spans often carry no
    error status (a 5xx answer, an exception caught and rethrown): the caller's server span
    failed because the callee's did, and the errors originate in the callee only."""
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    for i in range(20):
        spans = _call(f"i{i}", 1001 + i, callee_error=i % 2 == 0)
        # the client span marked ok, as TrainTicket's instrumentation leaves it
        spans[1] = replace(spans[1], error=False)
        traces.append(spans)
    result = analyze_traces(traces, SPLIT)
    frontend, checkout = result.services["frontend"], result.services["checkout"]
    assert checkout.incident_origin_traces == 10
    assert frontend.incident_origin_traces == 0 and frontend.error_score == 0
    assert frontend.incident_failing_traces == 10 and frontend.failures_passed_up


def test_a_callee_that_could_not_be_found_makes_no_service_an_origin() -> None:
    """checkout's failing spans say the registry had no instance of a dependency it needed
    (TrainTicket's "No instances available for …"): nothing in checkout's code failed, nor in
    frontend's, whose failure came from checkout's; both still failed."""
    lookup = "java.lang.IllegalStateException: No instances available for ts-config-service"
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    for i in range(20):
        spans = _call(f"i{i}", 1001 + i, callee_error=i % 2 == 0)
        spans[2] = replace(spans[2], attrs=MappingProxyType({"error.message": lookup}))
        traces.append(spans)
    result = analyze_traces(traces, SPLIT)
    checkout, frontend = result.services["checkout"], result.services["frontend"]
    assert checkout.incident_origin_traces == 0 and checkout.error_score == 0
    assert frontend.incident_origin_traces == 0 and frontend.error_score == 0
    assert checkout.incident_failing_traces == 10 and frontend.incident_failing_traces == 10
    (edge,) = result.edges
    assert edge.incident_errors == 10 and edge.error_origins == ()


def test_spans_whose_parents_form_a_cycle_are_attributed_without_hanging() -> None:
    # a malformed trace: a and b are each other's parent, both failing; c fails below b
    spans = [
        _span("t", "a", "b", "api", 1001, 10, error=True),
        _span("t", "b", "a", "db", 1001, 5, error=True),
        _span("t", "c", "b", "cache", 1001, 1, error=True),
    ]
    found = analyze_traces([spans], SPLIT)
    assert {s for s, f in found.services.items() if f.incident_origin_traces} == {"cache"}


def test_failures_that_originate_below_a_service_are_passed_up_through_it() -> None:
    """frontend fails in 10 of 20 traces, but every error starts in checkout."""
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_error=i % 2 == 0) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    frontend, checkout = result.services["frontend"], result.services["checkout"]
    assert frontend.incident_failing_traces == 10 and frontend.failures_passed_up
    assert checkout.incident_failing_traces == 10 and not checkout.failures_passed_up
    # calls that never got an answer: the errors start at the callee's edge, not in frontend
    lost = [_call(f"b{i}", 900 + i) for i in range(20)]
    lost += [_call(f"i{i}", 1001 + i, callee_error=True, callee_present=False) for i in range(6)]
    assert analyze_traces(lost, SPLIT).services["frontend"].failures_passed_up


def test_a_service_failing_as_often_as_normal_passes_nothing_up() -> None:
    traces = [_call(f"b{i}", 900 + i, callee_error=i % 2 == 0) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_error=i % 2 == 0) for i in range(20)]
    assert not analyze_traces(traces, SPLIT).services["frontend"].failures_passed_up


def test_network_delay_shows_on_the_edge_not_in_the_callee() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, gap_ms=300) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    (edge,) = result.edges
    assert edge.baseline_gap_ms is not None and edge.baseline_gap_ms < 5
    assert edge.incident_gap_ms is not None and 295 < edge.incident_gap_ms < 305
    assert edge.gap_score > 4
    assert result.services["checkout"].latency_score == 0.0
    assert result.services["frontend"].latency_score < 0.5


def test_a_few_slower_calls_within_the_usual_spread_are_not_network_delay() -> None:
    """The medians differ (8 calls are not 40), but the incident's calls spend no more time
    outside the callee's span than the baseline's usually do."""
    spread = [1, 2, 3, 4, 6, 9, 14, 20, 30, 40]
    traces = [_call(f"b{i}", 900 + i, gap_ms=g) for i, g in enumerate(spread * 4)]
    slower = [4, 9, 14, 20, 30, 40, 9, 20]
    traces += [_call(f"i{i}", 1001 + i, gap_ms=g) for i, g in enumerate(slower)]
    (edge,) = analyze_traces(traces, SPLIT).edges
    assert edge.incident_gap_ms is not None and edge.baseline_gap_ms is not None
    assert edge.incident_gap_ms > 2 * edge.baseline_gap_ms  # 17 ms against 7.5 ms
    assert not edge.gap_rose and edge.gap_score == 0.0


def test_calls_all_slower_than_usual_are_a_change_even_when_few() -> None:
    spread = [1, 2, 3, 4, 6, 9, 14, 20, 30, 40]
    traces = [_call(f"b{i}", 900 + i, gap_ms=g) for i, g in enumerate(spread * 4)]
    traces += [_call(f"i{i}", 1001 + i, gap_ms=300 + i) for i in range(8)]
    (edge,) = analyze_traces(traces, SPLIT).edges
    assert edge.gap_rose and edge.gap_score > 3


def _from(caller: str, spans: list[Span]) -> list[Span]:
    """A ``_call`` made by ``caller`` instead of the frontend."""
    return [
        replace(s, service=caller, operation=f"{caller}.op") if s.service == "frontend" else s
        for s in spans
    ]


def _two_callers(slow_ms: float, *, cart_slow_ms: float | None = None) -> list[list[Span]]:
    """The frontend and cart each call checkout 5 times before the start and 5 after, the
    time outside checkout's span 2-4 ms before and ``slow_ms`` (cart: ``cart_slow_ms``)
    after."""
    traces = []
    for caller, after_ms in (("frontend", slow_ms), ("cart", cart_slow_ms or slow_ms)):
        for i in range(5):
            traces.append(_from(caller, _call(f"{caller}b{i}", 900 + i, gap_ms=2 + i / 2)))
            traces.append(_from(caller, _call(f"{caller}i{i}", 1001 + i, gap_ms=after_ms + i)))
    return traces


def test_delay_into_a_callee_is_seen_across_its_callers_together() -> None:
    """5 calls against 5, however far apart, cannot reach p <= 0.001 in a rank test (at best
    1/252); the 10 against 10 into checkout from both callers can: delay on checkout's network
    slows every call into it."""
    edges = analyze_traces(_two_callers(2000), SPLIT).edges
    assert {(e.caller, e.callee) for e in edges} == {("frontend", "checkout"), ("cart", "checkout")}
    for edge in edges:
        assert edge.gap_rose and edge.gap_score > 7, edge
    alone = [t for t in _two_callers(2000) if t[0].service == "frontend"]
    (edge,) = analyze_traces(alone, SPLIT).edges
    assert not edge.gap_rose and edge.gap_score == 0.0


def test_an_edge_not_slower_itself_is_not_slower_for_its_callees_sake() -> None:
    """Calls from cart got slower (20 against 20 is significant alone); the frontend's are
    as fast as before: checkout's network is not to blame for the frontend's calls."""
    traces = _two_callers(2, cart_slow_ms=2000)
    traces += [_from("cart", _call(f"cartx{i}", 900.5 + i / 10, gap_ms=3)) for i in range(15)]
    traces += [_from("cart", _call(f"carty{i}", 1010 + i, gap_ms=2500)) for i in range(15)]
    edges = {e.caller: e for e in analyze_traces(traces, SPLIT).edges}
    assert edges["cart"].gap_rose
    assert not edges["frontend"].gap_rose and edges["frontend"].gap_score == 0.0


def _link(caller: str, callee: str, trace: str, start: float, gap_ms: float) -> list[Span]:
    """A ``_call`` from ``caller`` to ``callee``."""
    renamed = {"frontend": caller, "checkout": callee}
    return [
        replace(
            s,
            service=renamed[s.service],
            operation=f"{renamed[s.service]}.op",
            attrs=MappingProxyType({**s.attrs, "peer.service": callee}),
        )
        for s in _call(trace, start, gap_ms=gap_ms)
    ]


# links before the start: 40 calls at 1-40 ms outside their callees' spans, over 4 links
_USUAL = [1, 2, 3, 4, 6, 9, 14, 20, 30, 40]
_LINKS = [
    _link(caller, "db", f"{caller}{i}", 900 + i / 10, g)
    for caller in ("a", "b", "c", "d")
    for i, g in enumerate(_USUAL)
]


@pytest.mark.parametrize(("after_ms", "slower"), [(2000.0, True), (25.0, False)])
def test_a_link_with_too_few_calls_of_its_own_is_compared_with_every_link(
    after_ms: float, slower: bool
) -> None:
    """cart called pay twice before the start, too few to be its own baseline; 8 calls of
    2 s outside pay's span are slower than every link's calls before (none over 40 ms), 8 of
    25-32 ms are not: some links take 30-40 ms, that is no slower than usual."""
    traces = [*_LINKS, *(_link("cart", "pay", f"p{i}", 950 + i, 3) for i in range(2))]
    traces += [_link("cart", "pay", f"q{i}", 1001 + i, after_ms + i) for i in range(8)]
    edges = {(e.caller, e.callee): e for e in analyze_traces(traces, SPLIT).edges}
    pay = edges[("cart", "pay")]
    assert pay.pooled == "before" and pay.gap_rose == slower
    assert pay.baseline_gap_ms == pytest.approx(7.5)  # the median of every other link's calls
    assert not any(e.pooled for edge, e in edges.items() if edge != ("cart", "pay"))


def test_a_links_own_few_calls_do_not_set_the_bar_it_is_compared_with() -> None:
    """The one call cart made to pay before the start was already 4 s outside pay's span (a
    delay begun before the traces): too few to be its own normal, and not normal for links
    either. Among every link's calls it was the slowest and set the bar; the other links say
    2 s is slow (Nezha 2023-01-30 13:30, ts-preserve-service without its reference)."""
    traces = [*_LINKS, _link("cart", "pay", "p0", 950, 4000)]
    traces += [_link("cart", "pay", f"q{i}", 1001 + i, 2000.0 + i) for i in range(8)]
    pay = next(e for e in analyze_traces(traces, SPLIT).edges if e.callee == "pay")
    assert pay.pooled == "before" and pay.gap_rose
    assert pay.baseline_gap_ms == pytest.approx(7.5)


def test_calls_into_a_callee_that_records_no_spans_are_no_links_time() -> None:
    """e's queries to pg (a database recording no spans) take 500 ms, all of it outside any
    span of pg's: its time, not a link's. Pooled with the links, they would have made 300 ms on
    cart → pay look usual; against the links (none over 40 ms) it is slow."""
    queries = [
        [replace(s, service="e", attrs=MappingProxyType({"peer.service": "pg"})) for s in call]
        for call in (
            _call(f"e{i}", 900 + i / 10, gap_ms=0.0, callee_ms=500.0, callee_present=False)
            for i in range(20)
        )
    ]
    traces = [*_LINKS, *queries, _link("cart", "pay", "p0", 950, 3)]
    traces += [_link("cart", "pay", f"q{i}", 1001 + i, 300.0 + i) for i in range(8)]
    edges = {(e.caller, e.callee): e for e in analyze_traces(traces, SPLIT).edges}
    assert edges[("e", "pg")].baseline_gap_ms == pytest.approx(500.0)
    pay = edges[("cart", "pay")]
    assert pay.pooled == "before" and pay.gap_rose
    assert pay.baseline_gap_ms == pytest.approx(7.5)


def test_unreachable_dependency_is_blamed_through_peer_service() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_error=True, callee_present=False) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    checkout = result.services["checkout"]
    assert checkout.incident_origin_traces == 20
    assert checkout.incident_self_ms is None  # it recorded nothing itself
    assert result.edges[0].error_origins == (("checkout", 20),)


def _unanswered(trace: str, start: float, waited_ms: float) -> list[Span]:
    """A call to checkout that failed after ``waited_ms`` with no span of checkout's below."""
    return _call(
        trace, start, gap_ms=waited_ms, callee_ms=0.0, callee_error=True, callee_present=False
    )


def test_calls_that_timed_out_unanswered_are_told_from_refused_ones() -> None:
    """A call that got no answer after waiting longer than any call to the callee took in the
    baseline timed out (lost on the way or back, a hung instance); one that failed at once was
    refused (nothing listening, no instance)."""
    traces = [_call(f"b{i}", 900 + i, gap_ms=2.0 + i % 3) for i in range(20)]  # 22-24 ms
    traces += [_call(f"a{i}", 1001 + i) for i in range(10)]  # answered as usual
    traces += [_unanswered(f"t{i}", 1020 + i, 2000.0) for i in range(8)]
    traces += [_unanswered(f"r{i}", 1040 + i, 1.0) for i in range(4)]
    checkout = analyze_traces(traces, SPLIT).services["checkout"]
    assert checkout.incident_origin_traces == 12
    assert checkout.incident_timed_out_traces == 8
    assert checkout.timed_out_share == pytest.approx(8 / 12)


def test_without_enough_answered_calls_to_compare_nothing_is_a_timeout() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(3)]  # fewer than MIN_SAMPLES answered
    traces += [_unanswered(f"t{i}", 1001 + i, 2000.0) for i in range(8)]
    checkout = analyze_traces(traces, SPLIT).services["checkout"]
    assert checkout.incident_origin_traces == 8
    assert checkout.incident_timed_out_traces == 0 and checkout.timed_out_share == 0.0


def test_self_time_growth_in_the_callee() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_ms=200) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    assert result.services["checkout"].latency_score > 2
    assert result.edges[0].gap_score == 0.0


def _fan_out(
    trace: str,
    start: float,
    *,
    fast_ms: float,
    slow_ms: float,
    fast_gap_ms: float = 2.0,
    slow_gap_ms: float = 2.0,
) -> list[Span]:
    """frontend calls ``fast`` and ``slow`` in parallel; it waits only for the later one.

    Each client span is its callee's server span plus ``*_gap_ms`` of network, split evenly
    before and after. The frontend's own span has 5 ms before the calls and 5 ms after the
    later one returns.
    """
    calls = (("fast", fast_ms, fast_gap_ms), ("slow", slow_ms, slow_gap_ms))
    longest = max(ms + gap_ms for _, ms, gap_ms in calls)
    spans = [_span(trace, "root", None, "frontend", start, longest + 10)]
    for callee, ms, gap_ms in calls:
        spans += [
            _span(
                trace,
                f"call-{callee}",
                "root",
                "frontend",
                start + 0.005,
                ms + gap_ms,
                error=False,
                kind="client",
                **{"peer.service": callee},
            ),
            _span(
                trace,
                f"serve-{callee}",
                f"call-{callee}",
                callee,
                start + 0.005 + gap_ms / 2000,
                ms,
            ),
        ]
    return spans


def test_critical_path_time_of_a_sequential_call() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, gap_ms=300, callee_ms=30) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    checkout, frontend = result.services["checkout"], result.services["frontend"]
    assert (checkout.baseline_critical_ms, checkout.incident_critical_ms) == pytest.approx(
        (20, 30), abs=1e-3
    )
    # the frontend's server span: 5 ms around its one call, all waited on
    assert (frontend.baseline_critical_ms, frontend.incident_critical_ms) == pytest.approx(
        (5, 5), abs=1e-3
    )
    (edge,) = result.edges
    assert (edge.baseline_critical_gap_ms, edge.incident_critical_gap_ms) == pytest.approx(
        (2, 300), abs=1e-3
    )
    assert edge.critical_gap_score == pytest.approx(math.log2(305 / 7))


def test_a_slower_parallel_call_that_nobody_waited_for_is_not_critical() -> None:
    traces = [_fan_out(f"b{i}", 900 + i, fast_ms=20, slow_ms=50) for i in range(20)]
    traces += [_fan_out(f"i{i}", 1001 + i, fast_ms=40, slow_ms=50) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    fast, slow = result.services["fast"], result.services["slow"]
    assert (fast.baseline_self_ms, fast.incident_self_ms) == pytest.approx((20, 40), abs=1e-3)
    assert fast.latency_score > 0.8  # its own spans did slow down ...
    assert (fast.baseline_critical_ms, fast.incident_critical_ms) == (0, 0)
    assert fast.critical_latency_score == 0  # ... but the request never waited on them
    assert (slow.baseline_critical_ms, slow.incident_critical_ms) == pytest.approx(
        (50, 50), abs=1e-3
    )
    frontend = result.services["frontend"]
    assert frontend.incident_critical_ms == pytest.approx(10, abs=1e-3)


def test_a_parallel_call_that_becomes_the_slowest_becomes_critical() -> None:
    traces = [_fan_out(f"b{i}", 900 + i, fast_ms=20, slow_ms=50) for i in range(20)]
    traces += [_fan_out(f"i{i}", 1001 + i, fast_ms=120, slow_ms=50) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    fast = result.services["fast"]
    assert (fast.baseline_critical_ms, fast.incident_critical_ms) == pytest.approx(
        (0, 120), abs=1e-3
    )
    assert fast.critical_latency_score == pytest.approx(math.log2(125 / 5))
    assert result.services["slow"].incident_critical_ms == 0


def test_network_delay_off_the_critical_path_is_not_critical_edge_time() -> None:
    traces = [_fan_out(f"b{i}", 900 + i, fast_ms=20, slow_ms=50) for i in range(20)]
    traces += [
        _fan_out(f"i{i}", 1001 + i, fast_ms=20, slow_ms=50, fast_gap_ms=25) for i in range(20)
    ]
    result = analyze_traces(traces, SPLIT)
    fast, slow = sorted(result.edges, key=lambda e: e.callee)
    assert (fast.baseline_gap_ms, fast.incident_gap_ms) == pytest.approx((2, 25), abs=1e-3)
    assert fast.gap_score > 1.5  # the call to fast took 45 ms instead of 22 ...
    # ... but the 52 ms call to slow ran beside it: the frontend waited on slow's network only
    assert (fast.baseline_critical_gap_ms, fast.incident_critical_gap_ms) == (0, 0)
    assert fast.critical_gap_score == 0
    assert (slow.baseline_critical_gap_ms, slow.incident_critical_gap_ms) == pytest.approx(
        (2, 2), abs=1e-3
    )


def test_network_delay_on_the_critical_path_is_critical_edge_time() -> None:
    traces = [_fan_out(f"b{i}", 900 + i, fast_ms=20, slow_ms=50) for i in range(20)]
    traces += [
        _fan_out(f"i{i}", 1001 + i, fast_ms=20, slow_ms=50, fast_gap_ms=80) for i in range(20)
    ]
    result = analyze_traces(traces, SPLIT)
    fast, slow = sorted(result.edges, key=lambda e: e.callee)
    assert (fast.baseline_critical_gap_ms, fast.incident_critical_gap_ms) == pytest.approx(
        (0, 80), abs=1e-3
    )
    assert fast.critical_gap_score == pytest.approx(math.log2(85 / 5))
    assert slow.incident_critical_gap_ms == 0
    assert result.services["fast"].incident_critical_ms == pytest.approx(20, abs=1e-3)


def _finding(
    baseline_hits: int, baseline_traces: int, incident_hits: int, incident_traces: int
) -> ServiceTraceFinding:
    """checkout, where the errors of ``*_hits`` of ``*_traces`` traces originate."""
    return ServiceTraceFinding(
        service="checkout",
        baseline_origin_rate=baseline_hits / max(baseline_traces, 1),
        incident_origin_rate=incident_hits / max(incident_traces, 1),
        incident_origin_traces=incident_hits,
        example_trace=None,
        example_operation=None,
        example_error=None,
        baseline_self_ms=None,
        incident_self_ms=None,
        baseline_traces=baseline_traces,
        incident_traces=incident_traces,
    )


def test_errors_against_a_thin_baseline_score_nothing() -> None:
    # every incident trace fails here, but 0 of 2 traces before says little about normal
    assert _finding(0, 2, 3, 3).error_score == 0.0
    assert _finding(0, 0, 3, 3).error_score == 0.0  # no baseline at all


def test_errors_against_a_well_sampled_clean_baseline_score() -> None:
    score = _finding(0, 50, 3, 3).error_score
    assert score > 3  # from about 1 % (0 of 50, smoothed) to all of them
    assert _finding(0, 200, 10, 20).error_score > 3


def test_a_burst_of_errors_against_a_clean_but_thin_normal_scores_nothing() -> None:
    # TrainTicket 2023-01-30 12:36: 9 of 138 traces fail in ts-inside-payment-service ("No
    # instances available for ts-payment-service"), 0 of the reference's 62 did; its fault-free
    # phase holds such bursts too. Given 9 failing traces in all, 9 of them among the 138 is a
    # 3 % chance: no evidence that errors originate there more than normally.
    assert _finding(0, 62, 9, 138).error_score == 0.0
    assert _finding(0, 62, 20, 138).error_score > 3  # 20 of 138 against none is (p ≈ 5e-4)


def test_errors_as_frequent_as_normal_score_nothing() -> None:
    assert _finding(50, 100, 10, 20).error_score == 0.0
    assert _finding(50, 100, 12, 20).error_score == 0.0  # a little more: not significant


def test_a_larger_rise_scores_more() -> None:
    assert _finding(10, 100, 18, 20).error_score > _finding(10, 100, 10, 20).error_score > 0
    assert _finding(10, 100, 8, 20).error_score == 0  # 8 of 20 against 10 of 100: p ≈ 0.002


def _failing_reference(n: int = 20) -> list[list[Span]]:
    """Reference traces in which checkout fails every time: another incident, not normal."""
    return [_call(f"r{i}", 100 + i, callee_error=True) for i in range(n)]


def test_a_reference_with_more_errors_than_before_is_not_a_services_baseline() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_error=i % 2 == 0) for i in range(20)]
    result = analyze_traces(traces, SPLIT, _failing_reference())
    assert result.unhealthy_reference == ("checkout",)
    checkout, frontend = result.services["checkout"], result.services["frontend"]
    assert not checkout.reference  # compared with the traces before the split instead
    assert checkout.baseline_origin_rate == 0.0 and checkout.baseline_traces == 20
    assert checkout.error_score > 3  # half of them now, none before
    assert frontend.reference  # no errors originate in frontend: the reference stays its


def test_a_reference_as_healthy_as_before_is_used() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_error=i % 2 == 0) for i in range(20)]
    healthy = [_call(f"r{i}", 100 + i) for i in range(20)]
    result = analyze_traces(traces, SPLIT, healthy)
    assert result.unhealthy_reference == ()
    assert all(f.reference for f in result.services.values())


def test_too_few_traces_before_cannot_call_a_reference_unhealthy() -> None:
    traces = [_call(f"b{i}", 996 + i) for i in range(3)]  # three traces before the split
    traces += [_call(f"i{i}", 1001 + i, callee_error=True) for i in range(20)]
    result = analyze_traces(traces, SPLIT, _failing_reference())
    assert result.unhealthy_reference == ()
    assert result.services["checkout"].reference


def _calls_checkout(result: Any) -> Any:
    return next(e for e in result.edges if (e.caller, e.callee) == ("frontend", "checkout"))


def _frontend_alone(trace: str, start: float) -> list[Span]:
    """frontend answers without calling checkout (an exception before the call)."""
    return [_span(trace, "1", None, "frontend", start, 5)]


def test_a_call_the_caller_stopped_making_is_counted_per_trace_through_it() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i) for i in range(2)]
    traces += [_frontend_alone(f"j{i}", 1010 + i) for i in range(18)]
    edge = _calls_checkout(analyze_traces(traces, SPLIT))
    assert (edge.baseline_with, edge.baseline_through) == (20, 20)
    assert (edge.incident_with, edge.incident_through) == (2, 20)
    assert edge.call_share(incident=False) == 1.0 and edge.call_share(incident=True) == 0.1
    assert edge.call_surprise > 9  # 2 of 20 where 20 of 20 were: p ~ 2e-10


def test_a_call_the_caller_started_making_is_counted_too() -> None:
    traces = [_frontend_alone(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i) for i in range(20)]
    edge = _calls_checkout(analyze_traces(traces, SPLIT))
    assert (edge.baseline_with, edge.incident_with) == (0, 20)
    assert edge.call_surprise > 10


@pytest.mark.parametrize(
    ("before", "after_calling", "after_alone"),
    # 20 of 20 → 19 of 20 is small on the arcsine scale (``moved_largely``); 17 of 20 is not
    [(20, 19, 1), (4, 0, 20)],
    ids=["a small shift", "too few traces before"],
)
def test_a_small_shift_or_a_thin_sample_is_no_call_change(
    before: int, after_calling: int, after_alone: int
) -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(before)]
    traces += [_call(f"i{i}", 1001 + i) for i in range(after_calling)]
    traces += [_frontend_alone(f"j{i}", 1030 + i) for i in range(after_alone)]
    assert _calls_checkout(analyze_traces(traces, SPLIT)).call_surprise == 0.0


def test_a_few_traces_after_that_all_lack_a_call_always_made_are_a_change() -> None:
    """The incident needs no minimum count: the tail says how few traces are too few. A fault
    whose traces end soon after it (checkoutservice's exception at 2022-08-23 13:02 on
    OnlineBoutique, traced for 18 s after it) shows in the few there are."""
    before = [_call(f"b{i}", 900 + i) for i in range(20)]
    after = [_frontend_alone(f"j{i}", 1030 + i) for i in range(4)]
    edge = _calls_checkout(analyze_traces([*before, *after], SPLIT))
    assert (edge.baseline_with, edge.baseline_through) == (20, 20)
    assert (edge.incident_with, edge.incident_through) == (0, 4)
    assert edge.call_moved and edge.call_stopped
    one = _calls_checkout(analyze_traces([*before, *after[:1]], SPLIT))
    assert not one.call_moved  # 0 of 1 is p = 0.5 / 21: one trace is too few to say


def test_a_call_the_reference_makes_is_compared_with_it_when_the_caller_is_healthy() -> None:
    traces = [_frontend_alone(f"b{i}", 900 + i) for i in range(20)]  # not calling, before
    traces += [_frontend_alone(f"i{i}", 1001 + i) for i in range(20)]
    reference = [_call(f"r{i}", 100 + i) for i in range(20)]  # a call it always made
    edge = _calls_checkout(analyze_traces(traces, SPLIT, reference))
    assert edge.reference and (edge.baseline_with, edge.baseline_through) == (20, 20)
    assert edge.call_surprise > 10  # stopped, against the reference
    failing = [
        [*_call(f"r{i}", 100 + i), _span(f"r{i}", "9", "1", "frontend", 100 + i, 1, error=True)]
        for i in range(20)
    ]
    caught = analyze_traces(traces, SPLIT, failing)
    assert "frontend" in caught.unhealthy_reference
    assert not _calls_checkout(caught).reference  # the minutes before are its normal
