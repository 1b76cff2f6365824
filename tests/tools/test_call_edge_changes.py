"""call_edge_changes: the calls between services, from the service graph in the metrics."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.tools.analysis.test_call_edges import AFTER, BEFORE, T0, edge
from tests.tools.memory_metrics import MemoryMetrics
from tools.analysis.call_edges import CLIENT_TIME, FAILED, SERVER_TIME
from tools.analysis.change_scores import SeriesChange
from tools.call_edge_changes import call_edge_changes, failed_key, link_key, without_past_edges
from tools.deps import Deps
from tools.evidence import Source, TimeWindow
from tools.gateway import ToolGateway
from tools.metric_changes import metric_changes
from tools.records import MetricSeries

START = datetime.fromtimestamp(T0, UTC)
WINDOW = TimeWindow(start=START, end=START + timedelta(minutes=BEFORE + AFTER))
SPLIT = START + timedelta(minutes=BEFORE)
GRAPH = [
    edge(CLIENT_TIME, "checkout", "shipping", 0.012, 0.212),  # 200 ms more on the way
    edge(SERVER_TIME, "checkout", "shipping", 0.010, 0.010),
    edge(FAILED, "checkout", "shipping", 0.001, 0.001),
    edge(FAILED, "cart", "redis", 0.001, 0.9),  # refused
    edge(SERVER_TIME, "cart", "redis", 0.001, 0.001),
    MetricSeries("error_ratio", "cart", (T0, T0 + 60), (0.0, 0.0)),  # its own: not an edge
]


async def test_a_slow_link_and_failing_calls_are_cited_for_their_server() -> None:
    gateway = ToolGateway(Deps(metrics=MemoryMetrics(GRAPH)))
    result = await gateway.call(call_edge_changes, window=WINDOW, baseline_end=SPLIT)
    assert result.ok and result.data is not None
    edges = {(e.client, e.server): e for e in result.data}
    assert set(edges) == {("checkout", "shipping"), ("cart", "redis")}
    items = {e.key: e for e in result.evidence}
    link = items[link_key(edges[("checkout", "shipping")])]
    assert link.service == "shipping" and link.source is Source.METRICS
    assert link.title.startswith("checkout → shipping: time outside the server up")
    assert re.search(r"\(2 ms → 20\d ms\)$", link.title)  # was and became, no signed percent
    assert link.query == (  # the queries it was computed from, exactly
        "call_client_latency_p50_seconds{service=checkout} minus "
        "call_server_latency_p50_seconds{service=checkout} (server=shipping)"
    )
    failed = items[failed_key(edges[("cart", "redis")])]
    assert failed.service == "redis" and "failed calls up" in failed.title
    assert set(items) == {link.key, failed.key}  # nothing else moved


async def test_metric_changes_leaves_the_edges_to_it() -> None:
    """A failing call is the edge's, not its client's own error rate."""
    gateway = ToolGateway(Deps(metrics=MemoryMetrics(GRAPH)))
    result = await gateway.call(metric_changes, window=WINDOW, baseline_end=SPLIT)
    assert result.ok and result.data is not None
    changes: list[SeriesChange] = result.data
    assert {(c.service, c.metric) for c in changes} <= {("cart", "error_ratio")}
    assert result.evidence == []


async def test_metrics_without_a_service_graph_give_no_edges_and_no_warning() -> None:
    plain = [MetricSeries("error_ratio", "cart", (T0, T0 + 60), (0.0, 0.5))]
    gateway = ToolGateway(Deps(metrics=MemoryMetrics(plain)))
    result = await gateway.call(call_edge_changes, window=WINDOW, baseline_end=SPLIT)
    assert result.ok and result.data == [] and result.evidence == [] and result.warnings == []


async def test_an_edge_whose_change_was_over_by_the_start_is_no_evidence() -> None:
    """The start is placed after the tool scored the edges: a delay on a call that was normal
    again by then was an earlier episode (OnlineBoutique 2022-08-22 07:44: the frontend's
    calls to adservice, delayed by the fault at 07:35, listed ×1160 for its `return` fault)."""
    gateway = ToolGateway(Deps(metrics=MemoryMetrics(GRAPH)))
    result = await gateway.call(call_edge_changes, window=WINDOW, baseline_end=SPLIT)
    assert result.ok and result.data is not None
    at = SPLIT.timestamp()
    kept = without_past_edges(result.evidence, result.data, at)
    assert kept == result.evidence  # both still going on at the start
    slow = next(e for e in result.data if e.server == "shipping")
    assert slow.link is not None
    over = replace(slow, link=replace(slow.link, until=at - 180, step=60.0))  # normal at -120 s
    edges = [over if e is slow else e for e in result.data]
    left = {d.key for d in without_past_edges(result.evidence, edges, at)}
    assert left == {d.key for d in result.evidence} - {link_key(slow)}
    assert without_past_edges(result.evidence, None, at) == result.evidence
