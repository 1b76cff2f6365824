"""The service graph from Istio's standard metrics (``metrics.service_graph: istio``) against a
real Prometheus: each proxy's counters and millisecond histograms, labelled with the calling
and called workload and the reporting side, become one series per call edge of the client, and
call_edge_changes finds a slow link (the client's time grew, the server's did not) and failing
edges (HTTP 5xx, gRPC statuses) in them.

A Prometheus of its own, backfilled with promtool, as tests/tools/prometheus/test_service_graph.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.loader.prometheus import backfill
from tests.bundles import T0
from tests.servers.prometheus import binary, running_prometheus
from tests.tools.prometheus.helpers import connect
from tests.tools.prometheus.test_service_graph import _counter, edges_moved, with_label
from tools.evidence import TimeWindow
from tools.prometheus.service_graphs import ISTIO_SERVICE_GRAPH_PROMQL, SERVICE_GRAPH_PROMQL
from tools.prometheus.settings import MetricsSettings
from tools.records import MetricSeries

MINUTES, SPLIT_MIN = 60, 40
CALLS = 600.0  # a minute, on every edge
BUCKETS_MS = ("1", "5", "10", "25", "50", "100", "250", "500", "1000", "+Inf")  # Istio's first


def _minutes(before: float, after: float) -> list[float]:
    return [before if k < SPLIT_MIN else after for k in range(MINUTES)]


def _labelled(series: MetricSeries, client: str, server: str, **labels: str) -> MetricSeries:
    """``series`` named as a proxy exports it: by workload, no client/server labels."""
    edge = with_label(series, source_workload=client, destination_workload=server, **labels)
    return MetricSeries(
        edge.metric,
        edge.service,
        edge.timestamps,
        edge.values,
        type(edge.labels)({k: v for k, v in edge.labels.items() if k not in ("client", "server")}),
    )


def _requests(client: str, server: str, per_minute: list[float], **labels: str) -> MetricSeries:
    counter = _counter("istio_requests_total", client, server, per_minute)
    return _labelled(counter, client, server, **labels)


def _durations(client: str, server: str, reporter: str, ms: list[float]) -> list[MetricSeries]:
    return [
        _labelled(
            _counter(
                "istio_request_duration_milliseconds_bucket",
                client,
                server,
                [CALLS if m <= float(le) else 0.0 for m in ms],
            ),
            client,
            server,
            reporter=reporter,
            le=le,
        )
        for le in BUCKETS_MS
    ]


def _edge(
    client: str,
    server: str,
    client_ms: tuple[float, float],
    failed: tuple[float, float] = (0.0, 0.0),
    **failure: str,
) -> list[MetricSeries]:
    """An edge as both proxies export it: the client's (``source``) calls, ok and failed with
    ``failure``'s labels, and each side's durations (the server's always 8 ms)."""
    ok = [CALLS - f for f in _minutes(*failed)]
    return [
        _requests(client, server, ok, reporter="source", response_code="200"),
        _requests(client, server, _minutes(*failed), reporter="source", **failure),
        _requests(client, server, [CALLS] * MINUTES, reporter="destination", response_code="200"),
        *_durations(client, server, "source", _minutes(*client_ms)),
        *_durations(client, server, "destination", [8.0] * MINUTES),
    ]


@pytest.fixture(scope="module")
def istio_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus holding four edges: checkout → shipping 200 ms slower on the way,
    cart → redis answering half its HTTP calls 503, web → cart failing half its gRPC calls
    (status 14 on a 200), web → checkout unchanged."""
    promtool = binary("promtool")
    binary("prometheus")
    data_dir = tmp_path_factory.mktemp("istio")
    series = [
        *_edge("checkout", "shipping", (12.0, 212.0)),
        *_edge("cart", "redis", (12.0, 12.0), (0.0, 300.0), response_code="503"),
        *_edge(
            "web",
            "cart",
            (12.0, 12.0),
            (0.0, 300.0),
            response_code="200",
            grpc_response_status="14",
        ),
        *_edge("web", "checkout", (12.0, 12.0)),
    ]
    asyncio.run(backfill(series, data_dir, promtool=promtool))
    with running_prometheus(data_dir) as url:
        yield url


WINDOW = TimeWindow(start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=MINUTES))
SPLIT = T0 + timedelta(minutes=SPLIT_MIN)


def test_the_istio_graph_replaces_only_the_default_call_queries() -> None:
    istio = MetricsSettings(service_graph="istio")
    assert {k: istio.queries[k] for k in ISTIO_SERVICE_GRAPH_PROMQL} == ISTIO_SERVICE_GRAPH_PROMQL
    assert istio.queries["error_ratio"] == MetricsSettings().queries["error_ratio"]
    mine = MetricsSettings(
        service_graph="istio", queries={"call_failed_ratio": "my_failed{{x}}", "a": "b"}
    )
    assert mine.queries == {"call_failed_ratio": "my_failed{{x}}", "a": "b"}  # set: kept
    assert {k: MetricsSettings().queries[k] for k in SERVICE_GRAPH_PROMQL} == SERVICE_GRAPH_PROMQL


async def test_each_edge_is_a_series_of_its_client_labelled_with_its_server(
    istio_url: str,
) -> None:
    async with connect(istio_url, ISTIO_SERVICE_GRAPH_PROMQL) as prometheus:
        found = await prometheus.series("call_failed_ratio", WINDOW, timedelta(minutes=1))
        edges = {(s.service, s.labels["server"]): s for s in found}
        assert set(edges) == {
            ("checkout", "shipping"),
            ("cart", "redis"),
            ("web", "cart"),
            ("web", "checkout"),
        }
        # the connector's labels, no workload or reporter: both ends' series pair up
        assert dict(edges[("web", "checkout")].labels) == {"client": "web", "server": "checkout"}
        assert edges[("web", "checkout")].values[0] == 0.0
        assert edges[("cart", "redis")].values[-1] == pytest.approx(0.5)
        assert edges[("web", "cart")].values[-1] == pytest.approx(0.5)  # gRPC's status
        narrowed = await prometheus.series(
            "call_client_latency_p50_seconds", WINDOW, timedelta(minutes=1), services=("cart",)
        )
        assert [(s.service, s.labels["server"]) for s in narrowed] == [("cart", "redis")]
        # every call in the (10, 25] ms bucket: Prometheus interpolates to its middle, in s
        assert narrowed[0].values[0] == pytest.approx(0.0175)
        server = await prometheus.series(
            "call_server_latency_p50_seconds", WINDOW, timedelta(minutes=1), services=("cart",)
        )
        assert server[0].values[0] == pytest.approx(0.0075)  # (5, 10] ms, the server's side


async def test_a_slow_link_and_failing_edges_are_found_through_prometheus(istio_url: str) -> None:
    moved, evidence = await edges_moved(istio_url, ISTIO_SERVICE_GRAPH_PROMQL, WINDOW, SPLIT)
    assert moved == {
        ("checkout", "shipping"): (True, False),
        ("cart", "redis"): (False, True),
        ("web", "cart"): (False, True),
        ("web", "checkout"): (False, False),
    }
    assert {e.service for e in evidence} == {"shipping", "redis", "cart"}
    assert all("istio_request" in e.query for e in evidence)
