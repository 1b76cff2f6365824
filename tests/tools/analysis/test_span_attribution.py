from __future__ import annotations

from types import MappingProxyType
from typing import Any

from tools.analysis.span_attribution import analyze_traces
from tools.records import Span

SPLIT = 1000.0


def _span(
    trace: str,
    sid: str,
    parent: str | None,
    service: str,
    start: float,
    ms: float,
    *,
    error: bool = False,
    kind: str = "server",
    **attrs: Any,
) -> Span:
    return Span(
        trace_id=trace,
        span_id=sid,
        parent_id=parent,
        service=service,
        operation=f"{service}.op",
        start=start,
        duration_ms=ms,
        error=error,
        kind=kind,
        attrs=MappingProxyType(attrs),
    )


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
    assert checkout.error_score > 4
    assert frontend.incident_origin_traces == 0 and frontend.error_score == 0
    (edge,) = result.edges
    assert (edge.caller, edge.callee, edge.incident_errors) == ("frontend", "checkout", 10)
    assert edge.fault_in_callee


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


def test_unreachable_dependency_is_blamed_through_peer_service() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_error=True, callee_present=False) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    checkout = result.services["checkout"]
    assert checkout.incident_origin_traces == 20
    assert checkout.incident_self_ms is None  # it recorded nothing itself
    assert result.edges[0].error_origins == (("checkout", 20),)


def test_self_time_growth_in_the_callee() -> None:
    traces = [_call(f"b{i}", 900 + i) for i in range(20)]
    traces += [_call(f"i{i}", 1001 + i, callee_ms=200) for i in range(20)]
    result = analyze_traces(traces, SPLIT)
    assert result.services["checkout"].latency_score > 2
    assert result.edges[0].gap_score == 0.0
