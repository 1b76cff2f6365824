"""The service graph derived from spans, as the servicegraph connector derives it."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from tests.tools.analysis.spans import span
from tools.analysis.call_edges import CALLS, CLIENT_TIME, FAILED, SERVER_TIME
from tools.analysis.service_graph import service_graph
from tools.records import MetricSeries, Span

T0 = 1_699_999_995.0  # a multiple of 15 s


def _naming(peer: Span, attribute: str, value: str) -> Span:
    """``peer`` naming what it calls in ``attribute``."""
    return replace(peer, attrs=MappingProxyType({attribute: value}))


def _by(series: list[MetricSeries]) -> dict[tuple[str, str, str], MetricSeries]:
    return {(s.service, s.labels["server"], s.metric): s for s in series}


def test_a_client_span_with_a_server_span_below_is_a_call_on_their_edge() -> None:
    spans = []
    for i, (client_ms, server_ms, failed) in enumerate(
        [(12.0, 10.0, False), (14.0, 11.0, False), (300.0, 12.0, True)]
    ):
        t = f"t{i}"
        spans += [
            span(t, "a", None, "web", T0 + i, 400.0),
            span(t, "b", "a", "web", T0 + i + 0.1, client_ms, kind="client", error=failed),
            span(t, "c", "b", "api", T0 + i + 0.2, server_ms),
            span(t, "d", "c", "api", T0 + i + 0.3, 1.0, kind="internal"),  # same service
        ]
    found = _by(service_graph(spans))
    assert set(found) == {("web", "api", m) for m in (CALLS, FAILED, CLIENT_TIME, SERVER_TIME)}
    assert found[("web", "api", CALLS)].values == (3 / 15,)
    assert found[("web", "api", FAILED)].values == (1 / 3,)
    assert found[("web", "api", CLIENT_TIME)].values == (0.014,)  # medians: one stall is one call
    assert found[("web", "api", SERVER_TIME)].values == (0.011,)
    assert found[("web", "api", CALLS)].timestamps == (T0,)


def test_calls_fall_in_the_step_they_were_made_in() -> None:
    spans = [
        span("t1", "b", None, "web", T0 + 1, 5.0, kind="client"),
        span("t1", "c", "b", "api", T0 + 1, 4.0),
        span("t2", "b", None, "web", T0 + 16, 5.0, kind="client"),
        span("t2", "c", "b", "api", T0 + 16, 4.0),
    ]
    assert _by(service_graph(spans))[("web", "api", CALLS)].timestamps == (T0, T0 + 15)


def test_a_call_nothing_answered_is_counted_for_the_peer_it_names_without_a_server_side() -> None:
    spans = [
        _naming(
            span("t1", "b", None, "cart", T0, 2.0, kind="client", error=True),
            "peer.service",
            "redis",
        ),
        _naming(
            span("t2", "b", None, "cart", T0 + 1, 1.0, kind="client"), "db.system", "postgresql"
        ),
        span("t3", "b", None, "cart", T0 + 2, 1.0, kind="client"),  # names nothing: no edge
    ]
    found = _by(service_graph(spans))
    assert found[("cart", "redis", FAILED)].values == (1.0,)
    assert ("cart", "redis", SERVER_TIME) not in found
    assert found[("cart", "postgresql", CALLS)].values == (1 / 15,)
    assert {server for _, server, _ in found} == {"redis", "postgresql"}


def test_an_answered_call_naming_its_peer_is_counted_once() -> None:
    spans = [
        _naming(span("t1", "b", None, "web", T0, 5.0, kind="client"), "peer.service", "api"),
        span("t1", "c", "b", "api", T0, 4.0),
    ]
    assert _by(service_graph(spans))[("web", "api", CALLS)].values == (1 / 15,)
