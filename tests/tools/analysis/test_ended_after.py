"""Requests that end right after a call: which callee two callers' stopped requests share."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from tests.tools.analysis.spans import span
from tools.analysis.ended_after import (
    CONFIRMING,
    ended_after_score,
    ended_share,
    stopped_after,
)
from tools.analysis.span_attribution import EdgeFinding, TraceAnalysis, analyze_traces
from tools.records import Span

SPLIT = 1000.0


def _request(trace: str, start: float, caller: str, callees: list[str]) -> list[Span]:
    """``caller`` handles a request and calls ``callees`` one after the other, each through a
    client span naming it (no error status anywhere: the traces carry none)."""
    spans = [span(trace, "root", None, caller, start, 10.0 * len(callees) + 5)]
    for i, callee in enumerate(callees):
        at = start + 0.01 * i
        spans.append(span(trace, f"c{i}", "root", caller, at, 8.0, kind="client"))
        spans[-1] = _naming(spans[-1], callee)
        spans.append(span(trace, f"s{i}", f"c{i}", callee, at + 0.001, 6.0))
    return spans


def _naming(client: Span, callee: str) -> Span:
    return replace(client, attrs=MappingProxyType({"peer.service": callee}))


def _period(prefix: str, start: float, caller: str, calls: list[str], n: int) -> list[list[Span]]:
    return [_request(f"{prefix}{caller}{i}", start + i, caller, calls) for i in range(n)]


def _edge(analysis: TraceAnalysis, caller: str, callee: str) -> EdgeFinding:
    return next(e for e in analysis.edges if (e.caller, e.callee) == (caller, callee))


def _incident(
    frontend_cut: int, checkout_cut: int, *, checkout_before: int = 30, checkout_after: int = 30
) -> TraceAnalysis:
    return analyze_traces(
        incident_traces(frontend_cut, checkout_cut, checkout_before, checkout_after), SPLIT
    )


def incident_traces(
    frontend_cut: int, checkout_cut: int, checkout_before: int = 30, checkout_after: int = 30
) -> list[list[Span]]:
    """Before the split the frontend calls the catalog, then the cart and the currency; the
    checkout the catalog, then the payment. After it, ``frontend_cut`` of 30 frontend requests
    and ``checkout_cut`` of ``checkout_after`` checkout requests end at the catalog."""
    traces = _period("b", 900, "frontend", ["catalog", "cart", "currency"], 30)
    traces += _period("b", 940, "checkout", ["catalog", "payment"], checkout_before)
    traces += _period("i", 1001, "frontend", ["catalog"], frontend_cut)
    traces += _period("j", 1040, "frontend", ["catalog", "cart", "currency"], 30 - frontend_cut)
    traces += _period("i", 1080, "checkout", ["catalog"], checkout_cut)
    rest = checkout_after - checkout_cut
    traces += _period("j", 1120, "checkout", ["catalog", "payment"], rest)
    return traces


def test_the_callee_two_callers_stop_right_after_is_the_one_failing_them() -> None:
    """OnlineBoutique 2022-08-23 14:47: the catalog answered with an error, no span says so."""
    analysis = _incident(24, 20)
    frontend = _edge(analysis, "frontend", "catalog")
    assert (frontend.baseline_last, frontend.baseline_through) == (0, 30)
    assert (frontend.incident_last, frontend.incident_through) == (24, 30)
    assert ended_share(frontend, incident=True) == pytest.approx(0.8)
    found = stopped_after(analysis.edges)
    assert list(found) == ["catalog"]
    assert [e.caller for e in found["catalog"]] == ["frontend", "checkout"]  # most surprising first


def test_one_caller_stopping_after_a_call_may_have_failed_itself() -> None:
    """An error return injected into the checkout ended its requests at the payment, which
    answered as always: one caller cannot say whose fault it is."""
    analysis = _incident(24, 0)
    assert ended_after_score(_edge(analysis, "frontend", "catalog")) > 5
    assert stopped_after(analysis.edges) == {}


def test_a_rare_second_caller_needs_only_the_conventional_five_percent() -> None:
    """The checkout made 11 of the 400 traces sampled at 14:47: 4 of them ended at the
    catalog, 0 of 10 before (p ~ 0.02, never 0.001 in so few)."""
    analysis = _incident(24, 4, checkout_before=10, checkout_after=11)
    checkout = _edge(analysis, "checkout", "catalog")
    assert CONFIRMING <= ended_after_score(checkout) < 3
    assert [e.caller for e in stopped_after(analysis.edges)["catalog"]] == ["frontend", "checkout"]


def test_two_callers_each_only_at_five_percent_are_not_enough() -> None:
    analysis = _incident(6, 4, checkout_before=10, checkout_after=11)
    assert ended_after_score(_edge(analysis, "frontend", "catalog")) < 3
    assert stopped_after(analysis.edges) == {}


def test_a_new_last_call_that_stopped_nothing_is_no_failure() -> None:
    """Both callers now end with a call to the catalog because they added it after their
    usual calls (a new feature), not because they stopped: nothing they made is missing."""
    traces = _period("b", 900, "frontend", ["cart"], 30)
    traces += _period("b", 940, "checkout", ["payment"], 30)
    traces += _period("i", 1001, "frontend", ["cart", "catalog"], 30)
    traces += _period("i", 1040, "checkout", ["payment", "catalog"], 30)
    analysis = analyze_traces(traces, SPLIT)
    assert ended_after_score(_edge(analysis, "frontend", "catalog")) > 5
    assert stopped_after(analysis.edges) == {}


def test_a_thin_sample_scores_nothing() -> None:
    edge = EdgeFinding(
        caller="frontend",
        callee="catalog",
        incident_calls=4,
        incident_errors=0,
        baseline_gap_ms=None,
        incident_gap_ms=None,
        error_origins=(),
        baseline_through=4,
        incident_through=4,
        incident_last=4,
    )
    assert ended_after_score(edge) == 0.0
