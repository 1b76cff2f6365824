"""The service graph's default PromQL against a real Prometheus: the counters the
OpenTelemetry Collector's servicegraph connector (and Tempo's metrics-generator) export become
one series per call edge, of the client, labelled with its server, and call_edge_changes finds a
slow link and a failing edge in them.

A Prometheus of its own (tests/servers/prometheus.py's ``running_prometheus``), backfilled with
promtool: the counters carry ``client`` and ``server`` and no ``service`` label, as exported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

import pytest

from bot.loader.prometheus import backfill
from tests.bundles import T0
from tests.servers.prometheus import binary, running_prometheus
from tests.tools.prometheus.helpers import connect
from tools.call_edge_changes import call_edge_changes
from tools.deps import Deps
from tools.evidence import EvidenceDraft, TimeWindow
from tools.gateway import ToolGateway
from tools.prometheus.service_graphs import SERVICE_GRAPH_PROMQL
from tools.records import MetricSeries

MINUTES, SPLIT_MIN = 60, 40
CALLS_PER_MIN = 600.0
GRAPH = "traces_service_graph_request"


def _counter(metric: str, client: str, server: str, per_minute: list[float]) -> MetricSeries:
    """A counter growing by ``per_minute[k]`` in minute ``k``; no ``service`` label."""
    total, values = 0.0, []
    for step in per_minute:
        total += step
        values.append(total)
    start = T0.timestamp()
    return MetricSeries(
        metric=metric,
        service="",  # an empty label is no label in Prometheus
        timestamps=tuple(start + 60 * k for k in range(len(values))),
        values=tuple(values),
        labels=MappingProxyType({"client": client, "server": server}),
    )


BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf")


def _histogram(
    metric: str, client: str, server: str, seconds: list[float], calls: float
) -> list[MetricSeries]:
    """The ``_bucket`` counters of a histogram whose ``calls`` a minute took ``seconds[k]``
    each in minute ``k`` (cumulative buckets, as exported)."""
    return [
        with_label(
            _counter(
                f"{metric}_bucket",
                client,
                server,
                [calls if s <= float(le) else 0.0 for s in seconds],
            ),
            le=le,
        )
        for le in BUCKETS
    ]


def with_label(series: MetricSeries, **labels: str) -> MetricSeries:
    return MetricSeries(
        series.metric,
        series.service,
        series.timestamps,
        series.values,
        MappingProxyType({**series.labels, **labels}),
    )


def _edge(
    client: str, server: str, client_s: tuple[float, float], failed: tuple[float, float]
) -> list[MetricSeries]:
    """An edge's counters: calls, failed calls and the histograms of each side's seconds,
    each (before, after) the split."""

    def minutes(before: float, after: float) -> list[float]:
        return [before if k < SPLIT_MIN else after for k in range(MINUTES)]

    calls = [CALLS_PER_MIN] * MINUTES
    return [
        _counter(f"{GRAPH}_total", client, server, calls),
        _counter(f"{GRAPH}_failed_total", client, server, minutes(*failed)),
        *_histogram(f"{GRAPH}_client_seconds", client, server, minutes(*client_s), CALLS_PER_MIN),
        *_histogram(f"{GRAPH}_server_seconds", client, server, [0.008] * MINUTES, CALLS_PER_MIN),
    ]


@pytest.fixture(scope="module")
def graph_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus holding three edges' counters: checkout → shipping 200 ms slower on
    the way, cart → redis failing half its calls, web → checkout unchanged."""
    promtool = binary("promtool")
    binary("prometheus")
    data_dir = tmp_path_factory.mktemp("service-graph")
    series = [
        *_edge("checkout", "shipping", (0.012, 0.212), (0.6, 0.6)),
        *_edge("cart", "redis", (0.012, 0.012), (0.6, 300.0)),
        *_edge("web", "checkout", (0.012, 0.012), (0.6, 0.6)),
    ]
    asyncio.run(backfill(series, data_dir, promtool=promtool))
    with running_prometheus(data_dir) as url:
        yield url


WINDOW = TimeWindow(start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=MINUTES))
SPLIT = T0 + timedelta(minutes=SPLIT_MIN)


async def test_each_edge_is_a_series_of_its_client_labelled_with_its_server(
    graph_url: str,
) -> None:
    async with connect(graph_url, SERVICE_GRAPH_PROMQL) as prometheus:
        found = await prometheus.series("call_failed_ratio", WINDOW, timedelta(minutes=1))
        edges = {(s.service, s.labels["server"]): s for s in found}
        assert set(edges) == {("checkout", "shipping"), ("cart", "redis"), ("web", "checkout")}
        assert edges[("web", "checkout")].values[0] == pytest.approx(0.001)
        narrowed = await prometheus.series(
            "call_client_latency_p50_seconds", WINDOW, timedelta(minutes=1), services=("cart",)
        )
        assert [(s.service, s.labels["server"]) for s in narrowed] == [("cart", "redis")]
        # every call in the (10 ms, 25 ms] bucket: Prometheus interpolates to its middle
        assert narrowed[0].values[0] == pytest.approx(0.0175)


async def edges_moved(
    url: str, queries: Mapping[str, str], window: TimeWindow, split: datetime
) -> tuple[dict[tuple[str, str], tuple[bool, bool]], list[EvidenceDraft]]:
    """Through the gateway, as an investigation calls it: per (client, server), whether its
    link time and its failed calls rose by ``split``; and the evidence."""
    async with connect(url, queries) as prometheus:
        deps = Deps(metrics=prometheus, metrics_step=timedelta(minutes=1))
        result = await ToolGateway(deps).call(call_edge_changes, window=window, baseline_end=split)
    assert result.ok and result.data is not None
    at = split.timestamp()
    moved = {
        (e.client, e.server): (e.link_rose(at) > 0, e.rose(e.failed, at) > 0) for e in result.data
    }
    return moved, list(result.evidence)


async def test_a_slow_link_and_a_failing_edge_are_found_through_prometheus(
    graph_url: str,
) -> None:
    moved, evidence = await edges_moved(graph_url, SERVICE_GRAPH_PROMQL, WINDOW, SPLIT)
    assert moved == {
        ("checkout", "shipping"): (True, False),
        ("cart", "redis"): (False, True),
        ("web", "checkout"): (False, False),
    }
    assert {e.service for e in evidence} == {"shipping", "redis"}
    assert all("traces_service_graph_request" in e.query for e in evidence)
