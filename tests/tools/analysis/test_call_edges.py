"""Call edges from the service graph in the metrics: each edge scored against normal."""

from __future__ import annotations

from types import MappingProxyType

from tools.analysis.call_edges import (
    CALLS,
    CLIENT_TIME,
    FAILED,
    LINK_TIME,
    SERVER_TIME,
    edge_changes,
    is_edge_series,
    link_series,
)
from tools.records import MetricSeries

T0 = 1_700_000_000.0
BEFORE, AFTER = 40, 20
SPLIT = T0 + 60 * BEFORE


def edge(
    metric: str, client: str, server: str, before: float, after: float, *, start: float = T0
) -> MetricSeries:
    """A sample a minute on the edge: ``before`` (a little wiggle), then ``after``."""
    values = [before * (1 + 0.02 * (i % 3)) for i in range(BEFORE)]
    values += [after * (1 + 0.02 * (i % 3)) for i in range(AFTER)]
    return MetricSeries(
        metric=metric,
        service=client,
        timestamps=tuple(start + 60 * i for i in range(len(values))),
        values=tuple(values),
        labels=MappingProxyType({"server": server}),
    )


def test_an_edge_series_names_its_server() -> None:
    assert is_edge_series(edge(FAILED, "a", "b", 0.0, 0.0))
    plain = MetricSeries("error_ratio", "a", (T0,), (0.0,))
    assert not is_edge_series(plain)


def test_the_link_time_is_the_client_s_less_the_server_s_where_both_measured() -> None:
    client = MetricSeries(CLIENT_TIME, "a", (T0, T0 + 60, T0 + 120), (0.05, 0.30, 0.01))
    server = MetricSeries(SERVER_TIME, "a", (T0, T0 + 120), (0.04, 0.02))
    link = link_series(client, server)
    assert link.metric == LINK_TIME and link.timestamps == (T0, T0 + 120)
    assert link.values[0] == 0.05 - 0.04
    assert link.values[1] == 0.0  # two clocks: never below nothing


def test_time_outside_a_server_that_grew_while_its_own_did_not_is_its_link() -> None:
    series = [
        edge(CLIENT_TIME, "checkout", "shipping", 0.012, 0.212),
        edge(SERVER_TIME, "checkout", "shipping", 0.010, 0.010),
        edge(CLIENT_TIME, "checkout", "cart", 0.012, 0.013),
        edge(SERVER_TIME, "checkout", "cart", 0.010, 0.011),
    ]
    found = {(e.client, e.server): e for e in edge_changes(series, SPLIT)}
    slow = found[("checkout", "shipping")]
    assert slow.link_rose(SPLIT) > 3  # 2 ms -> 202 ms outside the server: many doublings
    assert slow.answered and slow.waited_more(SPLIT)  # its client waited on it
    as_before = found[("checkout", "cart")]
    assert as_before.link_rose(SPLIT) == 0.0 and not as_before.waited_more(SPLIT)


def test_a_server_slower_itself_is_not_its_link() -> None:
    series = [
        edge(CLIENT_TIME, "checkout", "shipping", 0.012, 0.412),
        edge(SERVER_TIME, "checkout", "shipping", 0.010, 0.400),
    ]
    (found,) = edge_changes(series, SPLIT)
    assert found.rose(found.server_time, SPLIT) > 0
    assert found.link_rose(SPLIT) == 0.0


def test_failed_calls_into_a_server_that_measured_none_are_unanswered() -> None:
    server_time = edge(SERVER_TIME, "cart", "redis", 0.001, 0.001)
    gone = MetricSeries(  # the server measured calls only before the start
        SERVER_TIME,
        "cart",
        server_time.timestamps[:BEFORE],
        server_time.values[:BEFORE],
        server_time.labels,
    )
    series = [edge(FAILED, "cart", "redis", 0.001, 1.0), gone]
    (found,) = edge_changes(series, SPLIT)
    assert found.rose(found.failed, SPLIT) > 3 and not found.answered
    assert found.called  # the client's failed calls were counted in the incident


def test_an_edge_the_client_stopped_calling_was_not_called_in_the_incident() -> None:
    calls = edge(CALLS, "batch", "db", 5.0, 5.0)
    before = MetricSeries(
        CALLS, "batch", calls.timestamps[:BEFORE], calls.values[:BEFORE], calls.labels
    )
    (found,) = edge_changes([before], SPLIT)
    assert not found.called and not found.answered


def test_the_reference_is_normal_for_the_edges_it_has() -> None:
    """An edge failing all along fails more only against a healthy reference."""
    now = [edge(FAILED, "a", "b", 0.30, 0.30)]
    reference = [edge(FAILED, "a", "b", 0.001, 0.001, start=T0 - 86_400)]
    (alone,) = edge_changes(now, SPLIT)
    (against,) = edge_changes(now, SPLIT, reference)
    assert alone.rose(alone.failed, SPLIT) == 0.0
    assert against.failed is not None and against.failed.against_reference
    assert against.rose(against.failed, SPLIT) > 2


def test_series_that_are_not_edges_are_ignored() -> None:
    plain = MetricSeries(FAILED, "a", (T0, T0 + 60), (0.0, 1.0))
    assert edge_changes([plain], SPLIT) == []


def test_an_edge_s_failed_share_is_measured_against_one_of_its_calls() -> None:
    """Calls that began to fail, 2 % of 500 a minute after none: against one call (1/500) a
    change; a fixed floor of a point scored it 2. At six calls a minute, a sixth of a sample,
    the point stays: calls that all fail are the change they were."""
    busy = [edge(FAILED, "web", "cart", 0.0, 0.02), edge(CALLS, "web", "cart", 8.5, 8.5)]
    [change] = edge_changes(busy, SPLIT)
    assert change.failed is not None and change.failed.score >= 9.0
    [alone] = edge_changes(busy[:1], SPLIT)  # the calls' rate not measured: the fixed floor
    assert alone.failed is not None and alone.failed.score < 3.0
    quiet = [edge(FAILED, "web", "cart", 0.0, 1.0), edge(CALLS, "web", "cart", 0.1, 0.1)]
    [rare] = edge_changes(quiet, SPLIT)
    [unmeasured] = edge_changes(quiet[:1], SPLIT)
    assert rare.failed is not None and unmeasured.failed is not None
    assert rare.failed.score == unmeasured.failed.score >= 3.0
