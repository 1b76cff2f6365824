"""The production metrics backend: golden signals from Prometheus' HTTP API.

Each signal is a PromQL template from ``metrics.queries`` (``RCABOT_METRICS__QUERIES__<SIGNAL>``)
with ``{services}`` and ``{rate}`` filled in, run as a range query. Requests go through
:class:`tools.http.JsonClient`, which owns time limits, retries, the circuit breaker and the
mapping of HTTP/transport/JSON failures to :class:`BackendError`; this module adds what is
Prometheus-specific:

- **Same answer as the bundle backend.** ``series()`` returns points in ``[start, end)`` only
  (Prometheus' end is inclusive; the grid is built to stop 1 ms before it), on a grid aligned
  to multiples of the step. With step = the data's sampling interval every point is a stored
  sample, so a bundle loaded with ``rcabot load`` gives the same series through both backends.
  Prometheus differs by design in two ways: a point is the latest sample within the 5-minute
  lookback, so a step finer than the sampling interval repeats values, and a series continues
  up to 5 minutes past its last sample (backfilled data has no staleness markers).
- **Non-finite values are dropped** (``NaN``, ``±Inf``: a ratio over zero traffic, a quantile of
  an empty histogram): the analysis scores medians and would be poisoned by them; a gap is
  the honest reading. :meth:`PrometheusMetrics.range_query` keeps them for people.
- **Series without a ``service`` label are skipped and logged** (a template that aggregates
  the label away, e.g. ``sum(...)`` without ``by (service)``): results are per service, and a
  warning naming the setting is more use than a series attributed to no one.
- **At most 11,000 points per series**, Prometheus' own limit: a finer step is coarsened
  (to whole seconds) instead of failing, and logged; :attr:`PromResult.step_s` says so.
- **A refused query** (HTTP 400 ``bad_data`` or 422 ``execution``) is a configuration problem:
  the error names the signal, the setting to fix and the PromQL sent. It is not retried.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType

from tools.backends import QueryInfo
from tools.errors import BackendError
from tools.evidence import TimeWindow
from tools.http import JsonClient
from tools.links import Links
from tools.prometheus.promql import (
    AnswerError,
    PromResult,
    PromSeries,
    RangeGrid,
    api_seconds,
    epoch_ms,
    error_body,
    parse_data,
    range_grid,
    rate_window,
    rejection,
    render,
    services_matcher,
    setting_name,
)
from tools.prometheus.settings import MetricsSettings
from tools.records import MetricSeries

NAME = "prometheus"
_log = logging.getLogger(__name__)
_HIDDEN_LABELS = frozenset({"__name__", "service"})

Explain = Callable[[str, str], str]


class PrometheusMetrics:
    """:class:`tools.backends.MetricsBackend` over the Prometheus HTTP API (read-only GETs)."""

    name = NAME

    def __init__(self, client: JsonClient, settings: MetricsSettings, links: Links) -> None:
        self._client = client
        self._settings = settings
        self._links = links

    async def signals(self) -> list[str]:
        return sorted(self._settings.queries)

    def promql(self, signal: str, step_s: float, services: Sequence[str] = ()) -> str:
        """The PromQL for ``signal`` at a step of ``step_s`` for ``services`` (empty: all)."""
        template = self._settings.queries.get(signal)
        if template is None:
            configured = ", ".join(sorted(self._settings.queries)) or "none"
            raise BackendError(
                self._client.name,
                f"no PromQL template for signal {signal!r} (configured: {configured}); "
                f"add one with {setting_name(signal)} or metrics.queries.{signal}",
            )
        return render(template, services=services_matcher(services), rate=rate_window(step_s))

    async def series(
        self,
        signal: str,
        window: TimeWindow,
        step: timedelta,
        *,
        services: Sequence[str] = (),
    ) -> list[MetricSeries]:
        """One series per service (and per extra label set) for ``signal`` over ``window``.

        ``services`` narrows the query in PromQL (an unknown service simply matches nothing).
        """
        grid = range_grid(window, step.total_seconds())
        query = self.promql(signal, grid.step_s, services)

        def explain(kind: str, detail: str) -> str:
            return (
                f"signal {signal!r}: Prometheus rejected the configured PromQL ({kind}: "
                f"{detail}); fix {setting_name(signal)} (metrics.queries.{signal} in "
                f"rcabot.yaml). Query sent: {query}"
            )

        result = await self._range(query, grid, explain)
        out: list[MetricSeries] = []
        unlabelled: list[Mapping[str, str]] = []
        for found in result.series:
            service = found.labels.get("service", "")
            if not service:
                unlabelled.append(found.labels)
                continue
            pairs = [
                (t, v)
                for t, v in zip(found.timestamps, found.values, strict=True)
                if math.isfinite(v)
            ]
            if not pairs:
                continue
            shown = {k: v for k, v in found.labels.items() if k not in _HIDDEN_LABELS}
            out.append(MetricSeries.of_samples(signal, service, pairs, MappingProxyType(shown)))
        if unlabelled:
            _log.warning(
                "prometheus: signal %r: skipped %d series without a 'service' label (first: %s); "
                "keep the label, e.g. `sum by (service) (...)`, in %s",
                signal,
                len(unlabelled),
                dict(unlabelled[0]) or "{}",
                setting_name(signal),
            )
        out.sort(key=lambda s: (s.service, sorted(s.labels.items())))
        return out

    def describe(self, signal: str, window: TimeWindow, service: str | None = None) -> QueryInfo:
        """The PromQL :meth:`series` sends for ``window`` at the configured ``step_s``, for
        ``service`` alone when given, and a link to it (Grafana Explore or Prometheus' graph).

        An unknown signal raises :class:`BackendError`, as in :meth:`series`.
        """
        grid = range_grid(window, self._settings.step_s)
        text = self.promql(signal, grid.step_s, (service,) if service else ())
        return QueryInfo(text=text, link=self._links.metrics(text, window))

    async def range_query(self, expr: str, window: TimeWindow, step: timedelta) -> PromResult:
        """Any PromQL over ``window`` (points in ``[start, end)``, ``NaN``/``±Inf`` kept)."""
        return await self._range(expr, range_grid(window, step.total_seconds()), _raw(expr))

    async def instant(self, expr: str, at: datetime) -> PromResult:
        """Any PromQL evaluated at ``at`` (``/api/v1/query``)."""
        params = {"query": expr, "time": api_seconds(epoch_ms(at))}
        return await self._get("/api/v1/query", params, _raw(expr))

    async def _range(self, expr: str, grid: RangeGrid, explain: Explain) -> PromResult:
        if grid.coarsened:
            _log.info(
                "prometheus: step %gs would exceed %s points per series; using %gs",
                grid.requested_step_ms / 1000,
                "11,000",
                grid.step_s,
            )
        if grid.empty:  # the window is shorter than the distance to the first grid point
            return PromResult("matrix", [], step_s=grid.step_s)
        params = {
            "query": expr,
            "start": api_seconds(grid.start_ms),
            "end": api_seconds(grid.end_ms),
            "step": api_seconds(grid.step_ms),
        }
        result = await self._get("/api/v1/query_range", params, explain)
        inside = [_clip(s, grid) for s in result.series]
        return PromResult(
            result.result_type, [s for s in inside if s.timestamps], result.warnings, grid.step_s
        )

    async def _get(self, path: str, params: dict[str, str], explain: Explain) -> PromResult:
        name = self._client.name
        try:
            body = await self._client.get(path, params)
        except BackendError as exc:
            refused = rejection(exc.status, exc.body)
            if refused is None:
                raise
            raise BackendError(name, explain(*refused)) from exc
        refused = error_body(body)
        if refused is not None:
            raise BackendError(name, explain(*refused))
        try:
            result = parse_data(body)
        except AnswerError as exc:
            raise BackendError(
                name, f"unexpected answer from {self._client.base_url}{path}: {exc}"
            ) from exc
        for warning in result.warnings:
            _log.info("prometheus: %s: %s", path, warning)
        return result


def _raw(expr: str) -> Explain:
    def explain(kind: str, detail: str) -> str:
        return f"Prometheus rejected the query ({kind}: {detail}): {expr}"

    return explain


def _clip(series: PromSeries, grid: RangeGrid) -> PromSeries:
    """Only the points inside the window: the grid already ends before the window does, so
    this only matters for a server that answers outside what was asked."""
    keep = [
        (t, v)
        for t, v in zip(series.timestamps, series.values, strict=True)
        if grid.start_ms <= round(t * 1000) <= grid.end_ms
    ]
    return PromSeries(series.labels, tuple(t for t, _ in keep), tuple(v for _, v in keep))
