"""A call in a trace: the service a client span called, and what the spans below covered."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from tools.analysis.client_spans import callee_of, covered_ms, service_calls
from tools.records import Span

T0 = 1_772_442_000.0


def test_the_callee_is_the_child_in_another_service() -> None:
    client = Span("t", "c", "r", "web", "call", T0, 50.0, kind="client")
    server = Span("t", "s", "c", "api", "serve", T0 + 0.010, 20.0, kind="server")
    assert callee_of(client, [server]) == "api"
    assert covered_ms(client, [server]) == pytest.approx(20.0, abs=1e-3)


def test_a_call_with_no_span_below_is_named_by_its_attributes() -> None:
    attrs = MappingProxyType({"peer.service": "redis"})
    client = Span("t", "c", None, "api", "GET", T0, 5.0, kind="client", attrs=attrs)
    assert callee_of(client, []) == "redis"
    assert covered_ms(client, []) == 0.0
    assert callee_of(Span("t", "c", None, "api", "GET", T0, 5.0, kind="client"), []) is None


def test_overlapping_children_are_covered_once_and_clipped_to_the_span() -> None:
    parent = Span("t", "p", None, "api", "GET", T0, 100.0)
    kids = [
        Span("t", "a", "p", "api", "q1", T0 + 0.010, 30.0),
        Span("t", "b", "p", "api", "q2", T0 + 0.020, 30.0),  # overlaps a: 10..50 ms
        Span("t", "c", "p", "api", "q3", T0 + 0.090, 50.0),  # runs past the parent's end
    ]
    assert covered_ms(parent, kids) == pytest.approx(50.0, abs=1e-3)


def test_the_calls_between_services_are_timed_as_their_callers_saw_them() -> None:
    redis = MappingProxyType({"peer.service": "redis"})
    spans = [
        Span("t", "r", None, "web", "GET /", T0, 500.0, kind="server"),
        # web → api through a client span: the call's time is the client span's (network too)
        Span("t", "c", "r", "web", "call api", T0 + 0.01, 300.0, kind="client"),
        Span("t", "a", "c", "api", "serve", T0 + 0.2, 20.0, kind="server"),
        # api → redis, no span below: named by its attributes
        Span("t", "q", "a", "api", "GET", T0 + 0.21, 4.0, kind="client", attrs=redis),
        # web → search without a client span: the callee's own span is all there is
        Span("t", "s", "r", "search", "find", T0 + 0.4, 50.0, kind="server"),
        # within one service: no call between services
        Span("t", "i", "a", "api", "validate", T0 + 0.205, 1.0),
        Span("t", "x", "c", "web", "retry", T0 + 0.02, 1.0, kind="client"),
    ]
    calls = [(callee, at, round(seconds, 6)) for callee, at, seconds in service_calls(spans)]
    assert sorted(calls) == [
        ("api", T0 + 0.01, 0.3),
        ("redis", T0 + 0.21, 0.004),
        ("search", T0 + 0.4, 0.05),
    ]
