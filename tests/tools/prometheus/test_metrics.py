"""PrometheusMetrics against a real Prometheus holding the ``small_incident`` bundle's metrics
(backfilled with promtool by the ``prometheus_url`` session fixture, tests/servers/prometheus.py).

The key property: for the same window and a step equal to the data's sampling interval, the
Prometheus backend returns exactly the series the bundle backend returns.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.bundles import T0
from tests.servers.prometheus import DROPPED_PER_S, ODD_PATH, POD_LIMITS, POD_USE
from tests.tools.prometheus.helpers import RAW, connect
from tools.bundle.backends import BundleMetrics
from tools.bundle.reader import load_bundle
from tools.errors import BackendError
from tools.evidence import TimeWindow
from tools.links import Links
from tools.prometheus.settings import DEFAULT_PROMQL
from tools.records import MetricSeries
from tools.settings import LinksSettings

MINUTE = timedelta(minutes=1)
Row = tuple[str, tuple[float, ...], tuple[float, ...], tuple[tuple[str, str], ...]]


def rows(series: list[MetricSeries]) -> list[Row]:
    return sorted(
        (s.service, s.timestamps, s.values, tuple(sorted(s.labels.items()))) for s in series
    )


def window(start_min: float, end_min: float) -> TimeWindow:
    return TimeWindow(start=T0 + start_min * MINUTE, end=T0 + end_min * MINUTE)


async def test_signals_are_the_configured_templates(prometheus_url: str) -> None:
    async with connect(prometheus_url, {"b": "x", "a": "y"}) as prometheus:
        assert await prometheus.signals() == ["a", "b"]


@pytest.mark.parametrize(
    ("start_min", "end_min"),
    [(0, 60), (-10, 10), (0.5, 10), (40, 60), (0, 600)],
    ids=["whole", "before-start", "unaligned", "incident", "past-end"],
)
async def test_same_series_as_the_bundle_backend(
    prometheus_url: str, prometheus_bundle: Path, start_min: float, end_min: float
) -> None:
    bundle = BundleMetrics(load_bundle(prometheus_bundle), Links(LinksSettings()))
    span = window(start_min, end_min)
    if end_min > 60:  # past the data Prometheus' lookback repeats the last sample for 5 min
        span = window(start_min, 60)
    async with connect(prometheus_url) as prometheus:
        assert await prometheus.signals() == await bundle.signals()
        for signal in await bundle.signals():
            expected = await bundle.series(signal, span, MINUTE)
            got = await prometheus.series(signal, span, MINUTE)
            assert rows(got) == rows(expected), signal
            assert {s.service for s in got} == {"web", "api", "db"}
            assert all(s.metric == signal for s in got)


async def test_lookback_extends_a_series_past_its_last_sample(prometheus_url: str) -> None:
    """Documented difference: backfilled data has no staleness marker, so each grid point
    within the 5-minute lookback after the last sample (59m) repeats it. Prometheus 2.x counts
    a sample exactly 5 minutes old (the 64m point), 3.x does not."""
    async with connect(prometheus_url) as prometheus:
        got = await prometheus.series("error_ratio", window(58, 70), MINUTE)
    web = next(s for s in got if s.service == "web")
    minutes = [round((t - T0.timestamp()) / 60) for t in web.timestamps]
    assert minutes in (list(range(58, 64)), list(range(58, 65)))
    assert set(web.values[1:]) == {0.2}


async def test_services_narrow_the_query(prometheus_url: str) -> None:
    async with connect(prometheus_url) as prometheus:
        got = await prometheus.series("error_ratio", window(0, 60), MINUTE, services=["api"])
        assert [s.service for s in got] == ["api"]
        assert (
            await prometheus.series("error_ratio", window(0, 60), MINUTE, services=["n.pe"]) == []
        )


async def test_window_before_the_data_is_empty(prometheus_url: str) -> None:
    async with connect(prometheus_url) as prometheus:
        assert await prometheus.series("error_ratio", window(-120, -10), MINUTE) == []
        assert await prometheus.series("error_ratio", window(0.1, 0.5), MINUTE) == []


async def test_non_finite_points_are_dropped_labels_kept(prometheus_url: str) -> None:
    async with connect(prometheus_url, {"odd": 'odd_values{service=~"{services}"}'}) as p:
        (odd,) = await p.series("odd", window(0, 6), MINUTE)
        raw = await p.range_query("odd_values", window(0, 6), MINUTE)
    assert odd.values == (1.5, 2.0, 3.0)
    assert odd.timestamps == tuple((T0 + m * MINUTE).timestamp() for m in (0, 4, 5))
    assert dict(odd.labels) == {"path": ODD_PATH}
    (series,) = raw.series
    assert series.labels["__name__"] == "odd_values" and series.labels["path"] == ODD_PATH
    assert math.isnan(series.values[1]) and series.values[2:4] == (math.inf, -math.inf)


async def test_rate_placeholder(prometheus_url: str) -> None:
    queries = {"rps": 'rate(requests_total{service=~"{services}"}[{rate}])'}
    sent: list[httpx.Request] = []
    async with connect(prometheus_url, queries, sent=sent) as prometheus:
        (api,) = await prometheus.series("rps", window(10, 20), MINUTE)
    assert sent[0].url.params["query"] == 'rate(requests_total{service=~".+"}[4m])'
    assert api.service == "api" and set(api.values) == {1.0} and len(api.values) == 10


async def test_series_without_service_label_are_skipped_and_logged(
    prometheus_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    queries = {"total": 'sum(error_ratio{service=~"{services}"})', **RAW}
    with caplog.at_level(logging.WARNING, logger="tools.prometheus.metrics"):
        async with connect(prometheus_url, queries) as prometheus:
            assert await prometheus.series("total", window(0, 60), MINUTE) == []
    assert "without a 'service' label" in caplog.text
    assert "RCABOT_METRICS__QUERIES__TOTAL" in caplog.text


async def test_describe_is_the_query_sent(prometheus_url: str) -> None:
    sent: list[httpx.Request] = []
    queries = {
        **RAW,
        "rps": 'sum by (service) (rate(requests_total{{service=~"{services}"}}[{rate}]))',
    }
    span = window(0, 60)
    async with connect(prometheus_url, queries, sent=sent) as prometheus:
        for signal, service in (("error_ratio", None), ("rps", "api"), ("error_ratio", 'a.b"c')):
            info = prometheus.describe(signal, span, service)
            await prometheus.series(signal, span, MINUTE, services=[service] if service else [])
            assert sent[-1].url.params["query"] == info.text
            assert info.link is not None and info.link.startswith(
                f"{prometheus_url}/graph?g0.expr="
            )
    assert prometheus.describe("error_ratio", span, "web").text == 'error_ratio{service=~"web"}'
    assert (
        prometheus.describe("rps", span).text
        == 'sum by (service) (rate(requests_total{service=~".+"}[4m]))'
    )


async def test_describe_links_to_grafana_when_configured(prometheus_url: str) -> None:
    links = Links(
        LinksSettings(grafana_url="https://grafana.example", prometheus_url=prometheus_url)
    )
    async with connect(prometheus_url, links=links) as prometheus:
        info = prometheus.describe("error_ratio", window(0, 60), "web")
    assert info.link is not None and info.link.startswith("https://grafana.example/explore?")
    async with connect(prometheus_url, links=Links(LinksSettings())) as prometheus:
        assert prometheus.describe("error_ratio", window(0, 60)).link is None


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        ('sum(error_ratio{service=~"{services}"}', "parse error"),
        ('error_ratio{service=~"{services}"} + on() group_left latency_p99_seconds', "duplicate"),
    ],
    ids=["bad_data", "execution"],
)
async def test_refused_promql_names_the_setting(
    prometheus_url: str, template: str, detail: str
) -> None:
    sent: list[httpx.Request] = []
    async with connect(prometheus_url, {"broken": template}, sent=sent) as prometheus:
        with pytest.raises(BackendError) as caught:
            await prometheus.series("broken", window(0, 60), MINUTE)
    message = str(caught.value)
    assert "RCABOT_METRICS__QUERIES__BROKEN" in message and "'broken'" in message
    assert detail in message and type(caught.value) is BackendError
    assert len(sent) == 1  # our query is wrong: not retried


async def test_unknown_signal(prometheus_url: str) -> None:
    async with connect(prometheus_url) as prometheus:
        with pytest.raises(BackendError, match="RCABOT_METRICS__QUERIES__NOPE"):
            await prometheus.series("nope", window(0, 60), MINUTE)


async def test_step_is_coarsened_under_the_11000_point_limit(prometheus_url: str) -> None:
    async with connect(prometheus_url) as prometheus:
        got = await prometheus.series("error_ratio", window(0, 12 * 60), timedelta(seconds=1))
        raw = await prometheus.range_query("error_ratio", window(0, 12 * 60), timedelta(seconds=1))
    assert raw.step_s == 4.0
    assert len(got) == 3
    for series in got:
        steps = {b - a for a, b in zip(series.timestamps, series.timestamps[1:], strict=False)}
        assert steps == {4.0}
        assert series.timestamps[0] == T0.timestamp()
        # an hour of data, then the 5-minute lookback (its last point: 2.x yes, 3.x no)
        assert len(series.timestamps) in (64 * 15, 64 * 15 + 1)


async def test_instant_and_raw_range_queries(prometheus_url: str) -> None:
    async with connect(prometheus_url) as prometheus:
        vector = await prometheus.instant('error_ratio{service="web"}', T0 + 45 * MINUTE)
        scalar = await prometheus.instant("1 + 1", T0)
        precise = await prometheus.instant("precise_seconds[5m]", T0 + 5 * MINUTE)
        with pytest.raises(BackendError, match="rejected the query"):
            await prometheus.instant("sum(", T0)
    assert vector.result_type == "vector"
    assert [s.values for s in vector.series] == [(0.2,)]
    assert scalar.result_type == "scalar" and scalar.series[0].values == (2.0,)
    start = T0.timestamp()
    assert precise.series[0].timestamps == (start + 0.123, start + 1.007, start + 2.5)


@pytest.mark.parametrize(
    ("signal", "expected"),
    [
        ("cpu_usage_ratio", POD_USE["pay"][0] / POD_LIMITS["cpu"]),
        ("memory_usage_ratio", POD_USE["pay"][1] / POD_LIMITS["memory"]),
        ("memory_usage_bytes", sum(use for _, use in POD_USE.values())),
    ],
)
async def test_default_saturation_queries_count_each_container_once_against_its_limit(
    prometheus_url: str, signal: str, expected: float
) -> None:
    """A share of a limit is the use of the containers that have one over their limits: not
    the sidecar's use against the app's limit, nor the pod's cgroup counted beside its
    containers (0.25 of 0.5 cores is half, not 1.3). The bytes are every container's once."""
    queries = {signal: DEFAULT_PROMQL[signal]}
    async with connect(prometheus_url, queries) as prometheus:
        found = await prometheus.series(signal, window(10, 50), MINUTE)
    assert [s.service for s in found] == ["pay"]
    assert found[0].values == pytest.approx([expected] * len(found[0].values))
    assert len(found[0].values) >= 40


async def test_default_dropped_packets_query_is_the_pod_s_rate(prometheus_url: str) -> None:
    """cAdvisor counts a pod's network once, without a container: the rate per service."""
    signal = "network_receive_packets_dropped_per_second"
    async with connect(prometheus_url, {signal: DEFAULT_PROMQL[signal]}) as prometheus:
        found = await prometheus.series(signal, window(10, 50), MINUTE)
    assert [s.service for s in found] == ["pay"]
    assert found[0].values == pytest.approx([DROPPED_PER_S] * len(found[0].values))
    assert len(found[0].values) >= 40
