"""Call edges from the service graph in the metrics: each edge scored against normal."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from tools.analysis.call_edges import (
    CALLS,
    CLIENT_TIME,
    FAILED,
    LINK_RATIO,
    LINK_TIME,
    SERVER_TIME,
    disagreement,
    edge_changes,
    is_edge_series,
    link_series,
    ratio_series,
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


def _series(metric: str, values: list[float], start: float = T0) -> MetricSeries:
    """The frontend → checkout edge's ``metric``, a sample a minute from ``start``."""
    return MetricSeries(
        metric=metric,
        service="frontend",
        timestamps=tuple(start + 60 * i for i in range(len(values))),
        values=tuple(values),
        labels=MappingProxyType({"server": "checkout"}),
    )


def _disagreeing(metric: str, level: float, shift: float, start: float = T0) -> MetricSeries:
    """A slow edge's median as one side measures it: ``level`` ± 10 % (the two histograms'
    interpolation; the client's errs the other way from the server's), ``shift`` added after
    the start."""
    sign = 1.0 if metric == CLIENT_TIME else -1.0
    values = [level * (1 + sign * 0.1 * ((i % 3) - 1)) for i in range(BEFORE + AFTER)]
    return _series(
        metric, [v + (shift if i >= BEFORE else 0.0) for i, v in enumerate(values)], start
    )


def test_on_a_slow_call_the_two_sides_healthy_disagreement_is_not_a_link() -> None:
    """Two histograms' medians of a 700 ms call differ by ± 20 % when healthy; clipped at 0 the
    link hid that, and 30 ms more outside the server read as a slow link "up from zero"."""
    client = _disagreeing(CLIENT_TIME, 0.7, 0.030)
    server = _disagreeing(SERVER_TIME, 0.7, 0.0)
    assert disagreement(client, server, SPLIT) == pytest.approx(1.4826 * 0.14, rel=0.01)
    (noise,) = edge_changes([client, server], SPLIT)
    assert noise.link_rose(SPLIT) == 0.0
    (delayed,) = edge_changes([_disagreeing(CLIENT_TIME, 0.7, 1.5), server], SPLIT)
    assert delayed.link_rose(SPLIT) > 1  # a real delay on the link stands out of that spread
    # the reference measures the disagreement where it has the edge
    calm = [_disagreeing(m, 0.7, 0.0, start=T0 - 86_400) for m in (CLIENT_TIME, SERVER_TIME)]
    still = [edge(m, "frontend", "checkout", 0.7, 0.7) for m in (CLIENT_TIME, SERVER_TIME)]
    (against,) = edge_changes([_disagreeing(CLIENT_TIME, 0.7, 0.030), still[1]], SPLIT, calm)
    assert against.link_rose(SPLIT) == 0.0
    assert disagreement(still[0], still[1], SPLIT) == pytest.approx(0.0, abs=1e-12)
    assert disagreement(client, server, T0 + 60) is None  # under three pairs


def test_a_call_slow_at_both_ends_is_no_slow_link_however_its_sides_disagree() -> None:
    """The server got slow (200 ms → 1.5 s) and, with few calls a minute, the client's median
    of them swings 0.9-2.1 s: 600 ms outside the server "up from zero", but the client's time
    is never twice the server's (log2 ratio 0.49). A delay on the link makes it so."""
    server = _series(SERVER_TIME, [0.2] * BEFORE + [1.5] * AFTER)
    swinging = [2.1 if i % 3 else 0.9 for i in range(AFTER)]
    (slow,) = edge_changes([_series(CLIENT_TIME, [0.2] * BEFORE + swinging), server], SPLIT)
    assert slow.rose(slow.link, SPLIT) > slow.rose(slow.server_time, SPLIT) > 0  # seconds alone
    assert slow.link_ratio is not None and not slow.link_ratio.going_on(SPLIT)
    assert slow.link_rose(SPLIT) == 0.0
    fast = _series(SERVER_TIME, [0.003] * (BEFORE + AFTER))
    delayed = _series(CLIENT_TIME, [0.003] * BEFORE + [0.75] * AFTER)
    (link,) = edge_changes([delayed, fast], SPLIT)
    assert link.link_ratio is not None and link.link_ratio.going_on(SPLIT)
    assert link.link_rose(SPLIT) > 5


def test_the_ratio_is_the_clients_time_over_the_servers_in_doublings() -> None:
    ratio = ratio_series(
        _series(CLIENT_TIME, [0.8, 0.3, 0.0, 0.1]), _series(SERVER_TIME, [0.2, 0.3, 0.1, 0.0])
    )
    assert ratio.metric == LINK_RATIO
    assert ratio.values == (2.0, 0.0)  # no ratio where either side measured nothing
    assert ratio.timestamps == (T0, T0 + 60)
