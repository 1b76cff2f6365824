"""Building a :class:`PrometheusMetrics` for a test (against the real Prometheus of
tests/servers/prometheus.py, or the canned-answer stand-in of tests/servers/canned.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx

from tools.http import JsonClient
from tools.links import Links
from tools.prometheus import PrometheusMetrics
from tools.prometheus.settings import MetricsSettings
from tools.resilience import Resilience, RetryPolicy
from tools.settings import LinksSettings

FAST = RetryPolicy(attempts=2, base_delay_s=0.001, max_delay_s=0.001)
#: What ``rcabot load`` configures for a loaded bundle: each signal is the raw gauge.
RAW = {
    "error_ratio": 'error_ratio{service=~"{services}"}',
    "latency_p99_seconds": 'latency_p99_seconds{service=~"{services}"}',
}


@asynccontextmanager
async def connect(
    url: str,
    queries: Mapping[str, str] | None = None,
    *,
    links: Links | None = None,
    timeout_s: float = 5.0,
    sent: list[httpx.Request] | None = None,
) -> AsyncIterator[PrometheusMetrics]:
    """A backend on ``url`` (fast retries); requests are appended to ``sent`` if given."""

    async def record(request: httpx.Request) -> None:
        if sent is not None:
            sent.append(request)

    async with httpx.AsyncClient(timeout=timeout_s, event_hooks={"request": [record]}) as http:
        client = JsonClient(http, url, Resilience("prometheus", timeout_s=timeout_s, retry=FAST))
        settings = MetricsSettings(url=url, queries=dict(queries or RAW), step_s=60)
        yield PrometheusMetrics(client, settings, links or Links(LinksSettings(prometheus_url=url)))
