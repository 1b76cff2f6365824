from __future__ import annotations

from tests.tools.analysis.series import START, metric_series, noisy
from tools.analysis.change_rank import GONE_DOUBLINGS, score_all, went_away
from tools.analysis.change_scores import MAX_POINTS, Z_THRESHOLD, SeriesChange
from tools.analysis.metric_kinds import SignalGroup
from tools.records import MetricSeries


def test_ranked_most_anomalous_first_and_downsampled() -> None:
    series = [
        metric_series("error_ratio", [0.01] * 300 + [0.3] * 100, "a"),
        metric_series("error_ratio", [0.01] * 400, "b"),
    ]
    ranked = score_all(series, START + 15 * 290)
    assert [c.service for c in ranked] == ["a", "b"]
    assert len(ranked[0].points) <= MAX_POINTS
    assert max(v for _, v in ranked[0].points) == 0.3


def _ranked() -> list[SeriesChange]:
    def step(metric: str, service: str, before: float, after: float, seed: int) -> MetricSeries:
        values = noisy(before, 80, seed) + noisy(after, 20, seed + 1)
        return metric_series(metric, values, service)

    series = [
        step("node_load1", "api", 0.5, 16.0, 10),  # the host: shared by every pod on it
        metric_series("requests_per_second", [0.0] * 80 + [500.0] * 20, "batch"),  # jumped from 0
        step("client_latency_p99_seconds", "web", 0.05, 2.0, 20),  # its callee's latency
        step("cpu_usage_cores", "api", 0.1, 0.2, 30),  # one doubling
        step("error_ratio", "api", 0.01, 0.5, 40),  # fifty-fold
        step("latency_p99_seconds", "db", 0.05, 0.4, 50),  # eight-fold
    ]
    return score_all(series, START + 15 * 80)


def test_own_signals_rank_before_traffic_and_downstream_before_the_host() -> None:
    ranked = _ranked()
    assert all(c.score >= Z_THRESHOLD for c in ranked)
    assert [(c.service, c.metric) for c in ranked[:3]] == [
        ("api", "error_ratio"),
        ("db", "latency_p99_seconds"),
        ("api", "cpu_usage_cores"),
    ]
    assert {c.group for c in ranked[3:5]} == {SignalGroup.TRAFFIC, SignalGroup.DOWNSTREAM}
    assert ranked[-1].group is SignalGroup.NODE
    # the largest change of all, traffic from nothing, still follows the own signals
    batch = next(i for i, c in enumerate(ranked) if c.service == "batch")
    assert ranked[batch].effect == max(c.effect for c in ranked) and batch == 3


def test_within_a_tier_the_larger_effect_ranks_first() -> None:
    ranked = _ranked()
    own = [c.effect for c in ranked[:3]]
    assert own == sorted(own, reverse=True) and own[0] > own[-1]
    assert ranked[3].effect > ranked[4].effect


def test_series_that_did_not_change_rank_after_every_change() -> None:
    """``score_all`` lists the most anomalous first: an own signal that did not change is no
    more important than traffic that did."""
    unchanged = metric_series("cpu_usage_cores", noisy(0.2, 100, 3), "api")
    woke_up = metric_series("requests_per_second", [0.0] * 80 + [500.0] * 20, "batch")
    ranked = score_all([unchanged, woke_up], START + 15 * 80)
    assert [c.service for c in ranked] == ["batch", "api"]


def _process(
    cpu: tuple[float, float], memory: tuple[float, float], service: str = "redis"
) -> list[MetricSeries]:
    split = 80
    return [
        metric_series("cpu_usage_ratio", noisy(cpu[0], split, 11) + noisy(cpu[1], 20, 12), service),
        metric_series(
            "memory_usage_bytes", noisy(memory[0], split, 13) + noisy(memory[1], 20, 14), service
        ),
    ]


def test_a_process_whose_cpu_and_memory_both_fell_went_away() -> None:
    series = _process(cpu=(0.12, 0.002), memory=(260e6, 6e6))
    gone = went_away(series, START + 15 * 80)
    assert {c.metric for c in gone} == {"cpu_usage_ratio", "memory_usage_bytes"}
    for change in gone:
        assert change.went_away and change.direction == "down"
        assert change.effect >= GONE_DOUBLINGS and change.score >= Z_THRESHOLD
        assert change.incident_median < change.baseline_median / 4
    # score_all keeps the usual (upward) scores and adds the falls
    scored = score_all(series, START + 15 * 80)
    assert sum(c.went_away for c in scored) == 2 and len(scored) == 4
    assert all(c.effect == 0 for c in scored if not c.went_away)  # falling is no saturation


def test_an_idle_process_or_one_fall_alone_did_not_go_away() -> None:
    split = START + 15 * 80
    assert went_away(_process(cpu=(0.12, 0.002), memory=(260e6, 250e6)), split) == []  # idle
    assert went_away(_process(cpu=(0.12, 0.11), memory=(260e6, 6e6)), split) == []
    assert went_away(_process(cpu=(0.12, 0.05), memory=(260e6, 100e6)), split) == []  # < ×4
    # both fell, but in two different services: neither went away
    mixed = _process(cpu=(0.12, 0.002), memory=(260e6, 250e6), service="a")[:1]
    mixed += _process(cpu=(0.12, 0.11), memory=(260e6, 6e6), service="b")[1:]
    assert went_away(mixed, split) == []
