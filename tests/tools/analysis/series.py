"""Metric series for the change-scoring tests: 15 s samples from a fixed start."""

from __future__ import annotations

import numpy as np

from tools.records import MetricSeries

START = 1_772_442_000.0


def metric_series(metric: str, values: list[float], service: str = "svc") -> MetricSeries:
    """``values`` of ``metric`` for ``service``, one every 15 s from :data:`START`."""
    return MetricSeries(
        metric=metric,
        service=service,
        timestamps=tuple(START + 15 * i for i in range(len(values))),
        values=tuple(values),
    )


def noisy(level: float, n: int, seed: int) -> list[float]:
    """``n`` samples around ``level``, 3 % of it in spread, the same for the same ``seed``."""
    rng = np.random.default_rng(seed)
    return list(level + rng.normal(0, level * 0.03, n))
