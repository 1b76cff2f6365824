from __future__ import annotations

import numpy as np

from tools.analysis.change_scores import (
    MAX_POINTS,
    SignalGroup,
    classify,
    downsample,
    score_all,
    score_series,
)
from tools.records import MetricSeries

START = 1_772_442_000.0


def _series(metric: str, values: list[float], service: str = "svc") -> MetricSeries:
    return MetricSeries(
        metric=metric,
        service=service,
        timestamps=tuple(START + 15 * i for i in range(len(values))),
        values=tuple(values),
    )


def _noisy(level: float, n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(level + rng.normal(0, level * 0.03, n))


def test_step_up_in_latency_is_scored_with_its_onset() -> None:
    values = _noisy(0.2, 80, 1) + _noisy(0.8, 20, 2)
    change = score_series(_series("latency_p99_seconds", values), START + 15 * 70)
    assert change is not None
    assert change.score > 10
    assert change.direction == "up"
    assert change.onset == START + 15 * 80
    assert change.relative_change is not None and 2.5 < change.relative_change < 3.5


def test_flat_series_scores_zero_and_noise_stays_low() -> None:
    flat = score_series(_series("error_ratio", [0.0] * 100), START + 15 * 70)
    assert flat is not None and flat.score == 0.0 and flat.onset is None
    noise = score_series(_series("latency_p99_seconds", _noisy(0.2, 100, 3)), START + 15 * 70)
    assert noise is not None and noise.score < 3


def test_only_the_bad_direction_counts() -> None:
    drop = _noisy(0.2, 80, 4) + _noisy(0.05, 20, 5)
    latency = score_series(_series("latency_p99_seconds", drop), START + 15 * 70)
    assert latency is not None and latency.score < 1.0  # faster is not a fault
    success = score_series(_series("success_ratio", [0.99] * 80 + [0.5] * 20), START + 15 * 70)
    assert success is not None and success.score > 5


def test_one_stray_spike_is_not_a_change() -> None:
    values = [0.1] * 90 + [5.0] + [0.1] * 9
    change = score_series(_series("latency_p99_seconds", values), START + 15 * 70)
    assert change is not None and change.score == 0.0


def test_too_little_baseline_is_not_scored() -> None:
    assert score_series(_series("error_ratio", [0.1, 0.2, 0.3]), START + 15) is None


def test_ranked_most_anomalous_first_and_downsampled() -> None:
    series = [
        _series("error_ratio", [0.01] * 300 + [0.3] * 100, "a"),
        _series("error_ratio", [0.01] * 400, "b"),
    ]
    ranked = score_all(series, START + 15 * 290)
    assert [c.service for c in ranked] == ["a", "b"]
    assert len(ranked[0].points) <= MAX_POINTS
    assert max(v for _, v in ranked[0].points) == 0.3


def test_downsample_keeps_spikes() -> None:
    ts = np.arange(1000, dtype=float)
    vs = np.zeros(1000)
    vs[517] = 9.0
    points = downsample(ts, vs, 50)
    assert len(points) == 50 and max(v for _, v in points) == 9.0


def test_classify_metric_names() -> None:
    assert classify("db_pool_usage_ratio")[0] is SignalGroup.POOL
    assert classify("cpu_usage_ratio")[0] is SignalGroup.CPU
    assert classify("requests_per_second")[0] is SignalGroup.TRAFFIC
