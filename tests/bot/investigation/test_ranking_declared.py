"""A declared service map in the ranking (issue 11): where nothing measured a caller's calls,
who it may call says what is below it. Modelled on OnlineBoutique 2022-08-22 05:01 of the
Nezha data, which has metrics only: checkoutservice threw, its latency rose, and the frontend
that calls it answered with errors; the frontend's error ratio ranked first.
"""

from __future__ import annotations

from bot.investigation.ranking import RankedService, rank, total
from bot.investigation.signals import ServiceSignals
from tests.bot.investigation.test_ranking import CLEAR, _evidence_for, calls, signals
from tools.analysis.metric_kinds import SignalGroup
from tools.analysis.span_attribution import TraceAnalysis


def _frontend(**raw: float) -> ServiceSignals:
    """Its error ratio rose clearly: the alert's symptom."""
    return signals("frontend", groups={SignalGroup.ERRORS: CLEAR}, **raw)


def _checkout() -> ServiceSignals:
    """Its latency rose, a little less clearly than the frontend's errors."""
    return signals("checkout", groups={SignalGroup.LATENCY: 2.0})


def _ranked(
    found: dict[str, ServiceSignals],
    declared: dict[str, set[str]] | None = None,
    traces: TraceAnalysis | None = None,
) -> list[RankedService]:
    return rank(found, traces, _evidence_for(*found), 5, declared=declared)


def _order(ranked: list[RankedService]) -> list[str]:
    return [r.service for r in ranked]


def test_a_caller_whose_calls_only_the_map_knows_is_its_callee_s_symptom() -> None:
    without = _ranked({"frontend": _frontend(), "checkout": _checkout()})
    assert _order(without) == ["frontend", "checkout"]  # the symptom first
    ranked = _ranked(
        {"frontend": _frontend(), "checkout": _checkout()}, {"frontend": {"checkout", "cart"}}
    )
    assert _order(ranked) == ["checkout", "frontend"]
    assert ranked[1].propagated


def test_a_caller_with_log_lines_of_its_own_is_not_discounted_by_a_map() -> None:
    """Without spans, what a caller wrote is all that shows its own behaviour: new error lines
    may be its own fault (ts-basic-service's error return on the Nezha day, metrics and logs
    only, had ranked below ts-route-service, which it may call)."""
    slow = signals("checkout", groups={SignalGroup.LATENCY: CLEAR})  # half the frontend's
    ranked = _ranked(
        {"frontend": _frontend(logs=CLEAR), "checkout": slow}, {"frontend": {"checkout"}}
    )
    assert ranked[0].service == "frontend"
    assert not ranked[0].propagated


def test_a_callee_below_the_map_only_explains_a_caller_as_anomalous_as_half_of_it() -> None:
    quiet = signals("checkout", groups={SignalGroup.LATENCY: 0.2})
    ranked = _ranked({"frontend": _frontend(), "checkout": quiet}, {"frontend": {"checkout"}})
    assert ranked[0].service == "frontend"
    assert not ranked[0].propagated


def test_a_map_takes_no_service_off_the_path() -> None:
    """A service the map names nowhere may be one the catalogue forgot: unlike a service no
    traced request reached, it is not scored as off the requests' path."""
    idle = signals("batch", groups={SignalGroup.MEMORY: CLEAR})
    found = {"batch": idle, "checkout": _checkout()}
    assert _order(_ranked(found, {"frontend": {"checkout"}})) == ["batch", "checkout"]
    assert _ranked(found, {"frontend": {"checkout"}})[0].score == round(total(idle), 3)


def test_the_map_and_the_traces_chain() -> None:
    """``declared`` only ever holds callers nothing measured; below a declared callee, its
    traced calls count: the frontend may call the checkout, whose spans show it calling the
    cart, which failed."""
    quiet = signals("checkout", groups={SignalGroup.LATENCY: 0.2})
    cart = signals("cart", groups={SignalGroup.CPU: CLEAR})
    found = {"frontend": _frontend(), "checkout": quiet, "cart": cart}
    ranked = _ranked(found, {"frontend": {"checkout"}}, calls(("checkout", "cart")))
    assert _order(ranked)[0] == "cart"
    assert next(r for r in ranked if r.service == "frontend").propagated


def test_a_declared_caller_no_trace_reached_is_discounted_once() -> None:
    """With traces, a service that recorded no span is off the requests' path; if the map also
    says it waits on a failing callee, that is a second reason for the same discount, not a
    second discount: 0.6, not 0.36, of its own anomaly."""
    quiet = signals("checkout", groups={SignalGroup.LATENCY: 0.2})
    cart = signals("cart", groups={SignalGroup.CPU: CLEAR})
    found = {"frontend": _frontend(), "checkout": quiet, "cart": cart}
    ranked = _ranked(found, {"frontend": {"checkout"}}, calls(("checkout", "cart")))
    frontend = next(r for r in ranked if r.service == "frontend")
    assert frontend.propagated
    assert frontend.score == round(total(found["frontend"]), 3)
    assert frontend.score == round(0.6 * found["frontend"].anomaly(), 3)


# --- untraced calls: a traced caller's declared calls no span shows --------------------------
# Modelled on OnlineBoutique 2022-08-23 13:37: currencyservice's link was delayed; the traces
# never show checkoutservice calling it (the map declares it), so the checkout's own time per
# trace grew tenfold, and it ranked above the delayed service.


def _checkout_slow(trace_errors: float = 0.0) -> ServiceSignals:
    return signals("checkout", trace_latency=CLEAR, trace_errors=trace_errors)


def _currency() -> ServiceSignals:
    return signals("currency", trace_network=2.0)


def _with_untraced(
    found: dict[str, ServiceSignals], untraced: dict[str, set[str]] | None
) -> list[RankedService]:
    traces = calls(("frontend", "checkout"), ("frontend", "currency"))
    return rank(found, traces, _evidence_for(*found), 5, untraced=untraced)


def test_a_caller_s_own_time_is_its_untraced_callee_s_symptom() -> None:
    found = {"checkout": _checkout_slow(), "currency": _currency()}
    assert _order(_with_untraced(found, None)) == ["checkout", "currency"]
    ranked = _with_untraced(found, {"checkout": {"currency"}})
    assert _order(ranked) == ["currency", "checkout"]
    assert ranked[1].propagated


def test_a_caller_whose_errors_rose_is_not_its_untraced_callee_s_symptom() -> None:
    """Only its time can be the wait on a call its spans do not show; its errors are its own."""
    found = {"checkout": _checkout_slow(trace_errors=CLEAR), "currency": _currency()}
    ranked = _with_untraced(found, {"checkout": {"currency"}})
    assert ranked[0].service == "checkout" and not ranked[0].propagated


def test_a_quiet_untraced_callee_explains_nothing() -> None:
    found = {"checkout": _checkout_slow(), "currency": signals("currency", trace_network=0.2)}
    ranked = _with_untraced(found, {"checkout": {"currency"}})
    assert ranked[0].service == "checkout" and not ranked[0].propagated


def test_a_caller_whose_own_resources_rose_is_not_discounted_for_untraced_calls() -> None:
    busy = _checkout_slow()
    busy.metric_groups[SignalGroup.CPU] = CLEAR
    ranked = _with_untraced({"checkout": busy, "currency": _currency()}, {"checkout": {"currency"}})
    assert ranked[0].service == "checkout" and not ranked[0].propagated
