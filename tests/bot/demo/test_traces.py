"""Trace structure: parents exist, children nest, client/server pairs, errors propagate."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

import pytest

from bot.demo import FAULTS
from tests.bot.demo.conftest import Loaded, to_us

Span = dict[str, Any]


def _children(spans: list[Span]) -> dict[str, list[Span]]:
    kids: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        if span["parent_id"]:
            kids[span["parent_id"]].append(span)
    return kids


def _self_ms(span: Span, kids: list[Span]) -> float:
    return float(span["duration_ms"]) - sum(float(k["duration_ms"]) for k in kids)


@pytest.mark.parametrize("fault", FAULTS)
def test_every_parent_exists_and_children_nest(cases: dict[str, Loaded], fault: str) -> None:
    traces = cases[fault].traces()
    assert len(traces) >= 1_000
    for spans in traces.values():
        by_id = {s["span_id"]: s for s in spans}
        assert len(by_id) == len(spans), "span ids must be unique within a trace"
        roots = [s for s in spans if s["parent_id"] is None]
        assert len(roots) == 1
        assert roots[0]["service"] == "frontend" and roots[0]["kind"] == "server"
        for span in spans:
            if span["parent_id"] is None:
                continue
            parent = by_id[span["parent_id"]]  # KeyError: orphan span
            start, parent_start = to_us(span["start"]), to_us(parent["start"])
            assert start >= parent_start
            end = start + round(span["duration_ms"] * 1000)
            assert end <= parent_start + round(parent["duration_ms"] * 1000)
            if span["kind"] == "server":  # a callee's server span sits in its caller's client span
                assert parent["kind"] == "client" and parent["service"] != span["service"]
                assert parent["attrs"]["peer.service"] == span["service"]


def test_root_cause_errors_propagate_to_the_edge(cases: dict[str, Loaded]) -> None:
    loaded = cases["bad-deploy"]
    inject = loaded.inject_us
    origins_before = origins_after = 0
    for spans in loaded.traces().values():
        by_id = {s["span_id"]: s for s in spans}
        kids = _children(spans)
        for span in spans:
            failing_kids = [k for k in kids[span["span_id"]] if k["status"] == "error"]
            if span["service"] != "payments" or span["status"] != "error" or failing_kids:
                continue
            if "pool" not in span["attrs"]["error.message"].lower():
                continue  # unrelated background failures of the payment provider
            if to_us(span["start"]) < inject:
                origins_before += 1
                continue
            origins_after += 1
            chain, current = [], span
            while current["parent_id"]:
                current = by_id[current["parent_id"]]
                chain.append(current)
            assert [s["service"] for s in chain] == ["checkout", "checkout", "frontend", "frontend"]
            assert all(s["status"] == "error" for s in chain)
            assert chain[0]["attrs"]["http.status_code"] == 500
            assert chain[-1]["attrs"]["http.status_code"] >= 500
            assert "payments" in chain[-1]["attrs"]["error.message"]
    assert origins_before == 0
    assert origins_after >= 20


def _gap_and_server(
    loaded: Loaded, caller: str, callee: str
) -> dict[bool, tuple[list[float], ...]]:
    out: dict[bool, tuple[list[float], ...]] = {False: ([], []), True: ([], [])}
    for spans in loaded.traces().values():
        kids = _children(spans)
        for span in spans:
            if span["service"] != caller or span["kind"] != "client":
                continue
            if span["attrs"].get("peer.service") != callee or len(kids[span["span_id"]]) != 1:
                continue
            server = kids[span["span_id"]][0]
            after = to_us(span["start"]) >= loaded.inject_us + 60 * 10**6
            gaps, servers = out[after]
            gaps.append(_self_ms(span, [server]))
            servers.append(float(server["duration_ms"]))
    return out


def test_network_delay_shows_as_client_time_not_callee_time(cases: dict[str, Loaded]) -> None:
    periods = _gap_and_server(cases["network-delay"], "checkout", "inventory")
    (gap_before, server_before), (gap_after, server_after) = periods[False], periods[True]
    assert statistics.median(gap_before) < 5
    assert 200 <= statistics.median(gap_after) <= 400
    assert statistics.median(server_after) < 1.5 * statistics.median(server_before)


@pytest.mark.parametrize(("fault", "service", "factor"), [
    ("cpu-contention", "cart", 5.0),
    ("memory-leak", "shipping", 2.0),
])  # fmt: skip
def test_self_time_of_the_root_service_grows(
    cases: dict[str, Loaded], fault: str, service: str, factor: float
) -> None:
    loaded = cases[fault]
    before: list[float] = []
    after: list[float] = []
    for spans in loaded.traces().values():
        kids = _children(spans)
        for span in spans:
            if span["service"] == service and span["kind"] == "server":
                start = to_us(span["start"])
                if start < loaded.inject_us:
                    before.append(_self_ms(span, kids[span["span_id"]]))
                elif start > loaded.inject_us + 10 * 60 * 10**6:
                    after.append(_self_ms(span, kids[span["span_id"]]))
    assert statistics.median(after) > factor * statistics.median(before)


def test_unreachable_dependency_leaves_failed_client_spans_only(cases: dict[str, Loaded]) -> None:
    loaded = cases["dependency-outage"]
    refused = [
        s for s in loaded.spans
        if s["attrs"].get("peer.service") == "redis" and s["status"] == "error"
    ]  # fmt: skip
    assert len(refused) >= 100
    assert all(to_us(s["start"]) >= loaded.inject_us for s in refused)
    assert all("connection refused" in s["attrs"]["error.message"] for s in refused)
    assert not any(s["service"] == "redis" for s in loaded.spans)  # datastores record no spans


def test_lost_calls_time_out_in_the_caller_with_no_callee_span(cases: dict[str, Loaded]) -> None:
    """A lost request never reaches shipping: checkout's client span waits out its 2 s read
    timeout and has no server span under it; some calls that got through took longer."""
    loaded = cases["network-loss"]
    kids = _children(loaded.spans)
    to_shipping = [s for s in loaded.spans if s["attrs"].get("peer.service") == "shipping"]
    lost = [s for s in to_shipping if s["status"] == "error" and not kids[s["span_id"]]]
    lost = [s for s in lost if "Read timed out" in s["attrs"]["error.message"]]
    assert len(lost) >= 20
    assert all(to_us(s["start"]) >= loaded.inject_us for s in lost)
    assert all(1999 <= s["duration_ms"] <= 2010 for s in lost)
    assert all("SocketTimeoutException" in s["attrs"]["error.message"] for s in lost)
    periods = _gap_and_server(loaded, "checkout", "shipping")
    (_, server_before), (gap_after, server_after) = periods[False], periods[True]
    assert max(gap_after) >= 200  # a retransmission
    assert statistics.median(server_after) < 1.5 * statistics.median(server_before)
