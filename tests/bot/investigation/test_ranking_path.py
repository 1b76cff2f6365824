"""The requests' path in the ranking (issue 11): a service no request was seen to reach is
scored as a symptom is, and of two equal scores the one nearer the bottom of the calls goes
first. Modelled on 2023-01-29 11:36 of the Nezha day: an idle service off every traced request
(ts-ticket-office-service: memory 48 → 95 MiB, CPU from nothing to 1 % of a core) had ranked
above ts-price-service, whose exception shows as an operation that stopped writing a line,
exactly as large as its caller's (ts-travel2-service, which reaches it through ts-basic-service).
"""

from __future__ import annotations

import pytest

from bot.investigation.ranking import PROPAGATION_FACTOR, rank, request_path, total
from bot.investigation.signals import ServiceSignals
from tests.bot.investigation.test_ranking import CLEAR, _evidence_for, calls, signals
from tools.analysis.metric_kinds import SignalGroup


def _cut_short(service: str) -> ServiceSignals:
    """An operation of ``service`` stopped writing a usual line, with nothing failing below."""
    found = signals(service)
    found.cut_short_by(2.0, explained=False)
    return found


def _idle() -> ServiceSignals:
    """Memory doubled and CPU woke up, and nothing else: no span, no line, no call."""
    return signals("office", groups={SignalGroup.MEMORY: CLEAR, SignalGroup.CPU: CLEAR})


def test_a_service_no_request_reached_ranks_below_one_they_did() -> None:
    idle, price = _idle(), _cut_short("price")
    assert total(idle) > total(price)  # alone, the idle service's change is the larger
    found = {"office": idle, "price": price}
    ranked = rank(found, calls(("web", "price")), _evidence_for("office", "price"), 5)
    assert [r.service for r in ranked] == ["price", "office"]
    off = next(r for r in ranked if r.service == "office")
    assert off.score == pytest.approx(total(idle) * PROPAGATION_FACTOR, abs=1e-3)
    assert not off.propagated  # not a symptom of a callee: a service off the path


def test_a_callee_that_recorded_no_span_is_on_the_path_its_callers_named() -> None:
    """A database or a service that is down records no spans; its callers' client spans name
    it, and its saturation is a cause."""
    db = signals("db", groups={SignalGroup.CPU: CLEAR})
    price = _cut_short("price")
    traces = calls(("price", "db"), untraced=("db",))
    ranked = rank({"db": db, "price": price}, traces, _evidence_for("db", "price"), 5)
    assert ranked[0].service == "db"
    assert ranked[0].score == pytest.approx(total(db), abs=1e-3)


def test_the_alert_s_service_is_on_the_path() -> None:
    """The entry the alert is about may not be traced (an nginx in front): its symptom is the
    requests'."""
    traces = calls(("gateway", "price"))
    assert "ui" not in (request_path(traces, {}, None) or set())
    assert "ui" in (request_path(traces, {}, "ui") or set())
    ui = signals("ui", groups={SignalGroup.LATENCY: CLEAR})
    ranked = rank({"ui": ui}, traces, _evidence_for("ui"), 5, alert_service="ui")
    assert ranked[0].score == pytest.approx(total(ui), abs=1e-3)


def test_the_service_graph_puts_services_on_the_path_and_nothing_says_none_is_off_it() -> None:
    graph = {"web": {"db"}}
    assert request_path(None, graph, None) == frozenset({"web", "db"})
    assert request_path(None, {}, "web") is None  # no traces, no graph: nothing known
    idle = _idle()
    unknown = rank({"office": idle}, None, _evidence_for("office"), 5)
    assert unknown[0].score == pytest.approx(total(idle), abs=1e-3)
    known = rank({"office": idle}, None, _evidence_for("office"), 5, graph)
    assert known[0].score == pytest.approx(total(idle) * PROPAGATION_FACTOR, abs=1e-3)


def test_of_two_equal_scores_the_one_below_the_other_goes_first() -> None:
    """ts-travel2-service calls ts-basic-service, which calls ts-price-service; both stopped
    writing a line in as many of their spans. Symptoms travel upstream: price goes first
    (by name, travel2 would have)."""
    travel2, price = _cut_short("travel2"), _cut_short("price")
    assert total(travel2) == total(price)
    edges = calls(("travel2", "basic"), ("basic", "price"))
    found = {"travel2": travel2, "price": price}
    ranked = rank(found, edges, _evidence_for("travel2", "price"), 5)
    assert [r.service for r in ranked] == ["price", "travel2"]
    assert not any(r.propagated for r in ranked)  # its own path cut short: no symptom
    reversed_calls = calls(("price", "basic"), ("basic", "travel2"))
    ranked = rank(found, reversed_calls, _evidence_for("travel2", "price"), 5)
    assert [r.service for r in ranked] == ["travel2", "price"]
