"""``rcabot load BUNDLE --to-backends``: one bundle into Elasticsearch, Prometheus and a tracer.

So that the investigation a bundle gets offline can be run, unchanged, against real backends:
logs are bulk-indexed into Elasticsearch, metrics are backfilled into a Prometheus data directory
with ``promtool``, spans are sent over OTLP/HTTP (which Jaeger's collector and Tempo's
distributor both accept). Each target is optional and loaded concurrently; one failing target
is reported and does not stop the others. Afterwards :func:`investigation_config` says how to
point rcabot at what was loaded (the bundle's metrics are pre-aggregated gauges, so each signal
is queried as the raw series rather than through the production PromQL templates).
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from elasticsearch import AsyncElasticsearch

from bot.config import Settings
from bot.loader.elasticsearch import load_logs
from bot.loader.prometheus import backfill
from bot.loader.traces import export_spans
from tools.bundle.reader import Bundle, load_bundle
from tools.elasticsearch.client import credentials
from tools.elasticsearch.settings import LogsSettings
from tools.errors import ConfigError, RcabotError
from tools.records import MetricSeries


@dataclass
class LoadReport:
    bundle: Bundle
    loaded: dict[str, str] = field(default_factory=dict)  # source → what was written where
    skipped: dict[str, str] = field(default_factory=dict)  # source → why not
    failed: dict[str, str] = field(default_factory=dict)  # source → error

    @property
    def ok(self) -> bool:
        return not self.failed


def raw_metric_queries(metrics: list[str]) -> dict[str, str]:
    """PromQL per signal for loaded bundle gauges: the series itself, filtered by service."""
    return {name: name + '{service=~"{services}"}' for name in sorted(metrics)}


def sampling_interval_s(series: Iterable[MetricSeries]) -> int:
    """The bundle's metric resolution in whole seconds (median gap between samples; ≥ 1).

    The investigation must query Prometheus at this step: a finer step makes Prometheus repeat
    each sample (its 5-minute lookback), which a bundle does not do.
    """
    gaps = [
        later - earlier
        for s in series
        for earlier, later in itertools.pairwise(s.timestamps)
        if later > earlier
    ]
    return max(1, round(statistics.median(gaps))) if gaps else 15


def investigation_config(settings: Settings, report: LoadReport) -> str:
    """YAML for ``rcabot.yaml`` to investigate the loaded data (URLs you must fill are marked)."""
    load = settings.load
    config: dict[str, object] = {}
    if "logs" in report.loaded:
        config["logs"] = {
            "url": load.elasticsearch_url or settings.logs.url,
            "index": load.index + "*",
        }
    if "metrics" in report.loaded:
        names = sorted({s.metric for s in report.bundle.metrics or []})
        config["metrics"] = {
            "url": settings.metrics.url or "http://PROMETHEUS:9090  # the server using that dir",
            "step_s": sampling_interval_s(report.bundle.metrics or []),
            "queries": raw_metric_queries(names),
        }
    if "traces" in report.loaded:
        config["traces"] = {
            "kind": settings.traces.kind,
            "url": settings.traces.url or "http://JAEGER-QUERY:16686  # or Tempo :3200",
        }
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def _writer(settings: LogsSettings, url: str) -> AsyncElasticsearch:
    """A client that may write (the loader's own; investigations use the read-only client)."""
    basic_auth, api_key = credentials(settings)
    return AsyncElasticsearch(
        url,
        api_key=api_key,
        basic_auth=basic_auth,
        verify_certs=settings.verify_tls,
        ssl_show_warn=False,
        request_timeout=max(60.0, settings.timeout_s),
    )


async def _logs(settings: Settings, bundle: Bundle, url: str) -> str:
    es = _writer(settings.logs, url)
    try:
        count = await load_logs(es, bundle.logs or [], settings.load.index, settings.logs.fields)
    finally:
        await es.close()
    return f"{count} log records → {url} index {settings.load.index}"


async def _metrics(settings: Settings, bundle: Bundle, data_dir: Path) -> str:
    count = await backfill(bundle.metrics or [], data_dir, promtool=settings.load.promtool)
    return (
        f"{count} samples backfilled into {data_dir} (a running Prometheus picks up new "
        "blocks within about a minute; its retention must cover the data's age)"
    )


async def _traces(bundle: Bundle, url: str) -> str:
    async with httpx.AsyncClient(timeout=60.0) as http:
        count = await export_spans(http, url, bundle.spans or [])
    return f"{count} spans → {url}/v1/traces (OTLP/HTTP)"


async def load_to_backends(settings: Settings, path: Path) -> LoadReport:
    """Load the bundle at ``path`` into every configured target; never half-silent."""
    load = settings.load
    es_url = load.elasticsearch_url or settings.logs.url
    if not (es_url or load.prometheus_data_dir or load.otlp_url):
        raise ConfigError(
            "nothing to load into: set RCABOT_LOGS__URL or RCABOT_LOAD__ELASTICSEARCH_URL "
            "(logs), RCABOT_LOAD__PROMETHEUS_DATA_DIR (metrics) or RCABOT_LOAD__OTLP_URL "
            "(traces), or pass --elasticsearch-url / --prometheus-data-dir / --otlp-url"
        )
    bundle = await asyncio.to_thread(load_bundle, path)
    report = LoadReport(bundle)
    jobs: dict[str, Callable[[], Awaitable[str]]] = {}
    plan = (
        ("logs", bundle.logs, es_url, "no Elasticsearch URL (set --elasticsearch-url)"),
        ("metrics", bundle.metrics, load.prometheus_data_dir, "no --prometheus-data-dir"),
        ("traces", bundle.spans, load.otlp_url, "no --otlp-url"),
    )
    for source, data, target, missing in plan:
        if data is None:
            report.skipped[source] = "the bundle has none"
        elif not target:
            report.skipped[source] = missing
    if bundle.logs is not None and es_url:
        jobs["logs"] = lambda: _logs(settings, bundle, es_url)
    if bundle.metrics is not None and load.prometheus_data_dir:
        data_dir = load.prometheus_data_dir
        jobs["metrics"] = lambda: _metrics(settings, bundle, data_dir)
    if bundle.spans is not None and load.otlp_url:
        otlp = load.otlp_url
        jobs["traces"] = lambda: _traces(bundle, otlp)
    results = await asyncio.gather(*(job() for job in jobs.values()), return_exceptions=True)
    for source, result in zip(jobs, results, strict=True):
        if isinstance(result, RcabotError):
            report.failed[source] = str(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            report.loaded[source] = result
    return report
