"""The calls between services in the metrics' service graph, as each service's signals, and
the graph as the call graph the ranking discounts symptoms along (no traces at all)."""

from __future__ import annotations

from dataclasses import replace

from bot.investigation.call_signals import add_call_edges, callees, cite_clients_side
from bot.investigation.ranking import fault_type, rank
from bot.investigation.report import FaultType
from bot.investigation.signals import ServiceSignals
from tests.bot.investigation.test_signals import START, series_change
from tools.analysis.call_edges import (
    CLIENT_TIME,
    FAILED,
    LINK_TIME,
    SERVER_TIME,
    CallEdgeChange,
)
from tools.analysis.change_scores import SeriesChange
from tools.call_edge_changes import link_key
from tools.evidence import EvidenceDraft, Source

AT = START.timestamp()
STILL = series_change("x", SERVER_TIME, score=0.0)  # scored, did not move


def edge(
    client: str,
    server: str,
    *,
    link: float = 0.0,
    server_time: float = 0.0,
    failed: float = 0.0,
    answered: bool = True,
    client_time: float = 0.0,
) -> CallEdgeChange:
    """An edge whose series rose by the given doublings (0: scored and unchanged)."""

    def moved(metric: str, effect: float) -> SeriesChange:
        return series_change(client, metric, effect=effect, score=12.0 if effect else 0.0)

    return CallEdgeChange(
        client,
        server,
        link=moved(LINK_TIME, link),
        server_time=moved(SERVER_TIME, server_time),
        failed=moved(FAILED, failed),
        answered=answered,
        client_time=moved(CLIENT_TIME, client_time),
    )


def test_time_outside_a_server_on_calls_to_it_is_its_link() -> None:
    found = add_call_edges({}, [edge("checkout", "shipping", link=3.0)], [], AT)
    shipping = found["shipping"]
    assert shipping.raw["trace_network"] == 3.0
    assert fault_type(shipping) is FaultType.NETWORK_DELAY
    assert "checkout" not in found  # waiting on it is no signal of the caller's own


def test_a_server_slower_itself_gets_no_link_time() -> None:
    found = add_call_edges({}, [edge("checkout", "shipping", link=2.0, server_time=3.0)], [], AT)
    assert "shipping" not in found


def test_failed_calls_are_the_server_s_unless_its_own_calls_failed_more() -> None:
    edges = [edge("web", "api", failed=2.0), edge("api", "db", failed=3.0)]
    found = add_call_edges({}, edges, [], AT)
    assert found["db"].raw["trace_errors"] == 3.0
    assert "trace_errors" not in found.get("api", ServiceSignals("api")).raw  # passed up


def test_calls_into_a_server_that_answered_none_of_them_are_an_outage() -> None:
    found = add_call_edges({}, [edge("cart", "redis", failed=4.0, answered=False)], [], AT)
    assert found["redis"].outage
    assert fault_type(found["redis"]) is FaultType.DEPENDENCY_OUTAGE


def test_failed_calls_a_server_answered_as_well_as_before_were_lost_on_the_way() -> None:
    own = [series_change("shipping", "error_ratio", score=0.0)]  # its errors did not rise
    found = add_call_edges({}, [edge("checkout", "shipping", failed=2.0)], own, AT)
    assert found["shipping"].calls_timed_out == 1.0
    assert fault_type(found["shipping"]) is FaultType.NETWORK_DELAY


def test_failed_calls_a_server_failed_itself_are_its_errors() -> None:
    own = [series_change("inventory", "error_ratio", effect=3.0)]  # it answered with errors
    found = add_call_edges({}, [edge("checkout", "inventory", failed=2.0)], own, AT)
    assert found["inventory"].calls_timed_out == 0.0
    assert fault_type(found["inventory"]) is FaultType.ERRORS


def test_without_the_server_s_own_errors_nothing_says_the_calls_were_lost() -> None:
    found = add_call_edges({}, [edge("checkout", "shipping", failed=2.0)], [], AT)
    assert found["shipping"].calls_timed_out == 0.0


def test_an_edge_whose_change_was_over_before_the_start_says_nothing() -> None:
    over = series_change("checkout", LINK_TIME, effect=3.0)
    over = replace(over, until=AT - 600, step=60.0)  # back to normal 9 minutes before
    gone_by = CallEdgeChange("checkout", "shipping", over, STILL, STILL, True)
    assert add_call_edges({}, [gone_by], [], AT) == {}


def test_a_client_late_on_its_calls_to_everyone_is_slow_itself() -> None:
    """Its calls to each of its servers spent more time outside them and no other client of
    those servers saw it: its own network, or a CPU too starved to send and read."""
    edges = [
        edge("frontend", "catalog", link=3.0),
        edge("frontend", "cart", link=2.5),
        edge("recommender", "catalog", link=0.5),  # a little slower: not the same delay
    ]
    found = add_call_edges({}, edges, [], AT)
    frontend = found["frontend"]
    assert frontend.raw["trace_network"] == 3.0 and frontend.late_caller == 3.0
    assert fault_type(frontend) is not FaultType.NETWORK_DELAY
    assert "cart" not in found
    assert found["catalog"].raw["trace_network"] == 0.5  # the recommender's own edge
    drafts = [
        EvidenceDraft(
            key=link_key(e),
            source=Source.METRICS,
            title="t",
            summary="s",
            query="q",
            service=e.server,
        )
        for e in edges
    ]
    cited = {d.key: d.service for d in cite_clients_side(drafts, edges, AT)}
    assert cited == {
        link_key(edges[0]): "frontend",
        link_key(edges[1]): "frontend",
        link_key(edges[2]): "catalog",
    }


def test_a_delay_other_clients_saw_too_is_the_server_s_link() -> None:
    edges = [
        edge("frontend", "catalog", link=3.0),
        edge("frontend", "cart", link=2.5),
        edge("recommender", "catalog", link=2.0),  # as slow into catalog from elsewhere
    ]
    found = add_call_edges({}, edges, [], AT)
    assert found["catalog"].raw["trace_network"] == 3.0
    # the delay into cart only the frontend could see stays its own, as with the traces
    assert found["frontend"].late_caller == 2.5 and "cart" not in found


def test_the_graph_is_who_waited_on_whom() -> None:
    """The calls that took longer or failed more; not a callee called as before."""
    edges = [
        edge("web", "api", client_time=1.0),
        edge("api", "db", failed=2.0),
        edge("web", "cache", client_time=0.8),
        edge("web", "static"),  # called as before: explains nothing of web
        edge("db", "db", client_time=1.0),
    ]
    stopped = replace(edge("batch", "db", client_time=1.0), called=False)
    assert callees([*edges, stopped], AT) == {"web": {"api", "cache"}, "api": {"db"}}


def test_without_traces_a_caller_waiting_on_a_slow_link_is_its_symptom() -> None:
    """Metrics only: checkout's latency rose 2.5 doublings and nothing else of it did; the
    calls it makes to shipping spent 3 more doublings outside shipping. With the service graph
    checkout is the symptom; without it (no traces, no graph), it would rank first."""
    checkout = ServiceSignals("checkout", raw={"metrics": 2.5})
    edges = [
        edge("frontend", "checkout", client_time=2.5),
        edge("checkout", "shipping", link=3.0, client_time=3.0),
    ]
    found = add_call_edges({"checkout": checkout}, edges, [], AT)
    evidence = [
        EvidenceDraft(key=k, source=Source.METRICS, title=k, summary=k, query=k, service=s)
        for k, s in (("a", "checkout"), ("b", "shipping"))
    ]
    ranked = rank(found, None, evidence, 5, callees(edges, AT))
    assert [r.service for r in ranked] == ["shipping", "checkout"]
    assert ranked[0].fault_type is FaultType.NETWORK_DELAY and ranked[1].propagated
    alone = rank({"checkout": ServiceSignals("checkout", raw={"metrics": 2.5})}, None, evidence, 5)
    assert not alone[0].propagated
    as_before = [edge("frontend", "checkout"), edge("checkout", "shipping", link=3.0)]
    fresh = {"checkout": ServiceSignals("checkout", raw={"metrics": 2.5})}
    graph = callees(as_before, AT)
    unexplained = rank(add_call_edges(fresh, as_before, [], AT), None, evidence, 5, graph)
    assert not next(r for r in unexplained if r.service == "checkout").propagated
