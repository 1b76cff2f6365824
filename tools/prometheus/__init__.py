"""Prometheus: the production metrics backend (read-only, over the HTTP API with httpx).

:class:`~tools.prometheus.metrics.PrometheusMetrics` implements
:class:`tools.backends.MetricsBackend`; :mod:`tools.prometheus.promql` holds the pure parts
(template filling, escaping, the range-query grid, reading answers). Writing to Prometheus
(backfilling a bundle with ``promtool``, ``rcabot load``) lives in :mod:`bot.loader.prometheus`.
"""

from __future__ import annotations

from tools.prometheus.metrics import PrometheusMetrics
from tools.prometheus.promql import PromResult, PromSeries

__all__ = ["PromResult", "PromSeries", "PrometheusMetrics"]
