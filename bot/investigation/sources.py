"""Build the :class:`Deps` an investigation uses: from a bundle, or from configured backends."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.investigation.backend_factories import BackendSetup, open_backend
from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import ReferenceSources, resolve_scope
from tools.bundle.backends import BundleChanges, BundleLogs, BundleMetrics, BundleTraces
from tools.bundle.reader import Bundle, load_bundle
from tools.deps import Deps, SourceName
from tools.elasticsearch.settings import LogsSettings
from tools.errors import ConfigError
from tools.evidence import TimeWindow
from tools.links import Links
from tools.prometheus.settings import MetricsSettings
from tools.records import Alert
from tools.service_map import ServiceMap, read_service_map
from tools.settings import TracesSettings
from tools.text import TextPipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundleSources:
    bundle: Bundle
    deps: Deps
    load_ms: float
    settings: Settings

    @property
    def window(self) -> TimeWindow:
        return self.bundle.window

    @property
    def alert(self) -> Alert | None:
        return self.bundle.alerts[0] if self.bundle.alerts else None


async def bundle_sources(path: Path, settings: Settings) -> BundleSources:
    """Read the bundle at ``path`` (off the event loop) and serve it through the protocols."""
    started = time.perf_counter()
    bundle = await asyncio.to_thread(load_bundle, path)
    return _served(bundle, settings, (time.perf_counter() - started) * 1000)


def _served(bundle: Bundle, settings: Settings, load_ms: float) -> BundleSources:
    links = Links(settings.links, bundle_dir=bundle.path)
    missing = {
        "logs": "bundle has no logs.jsonl" if bundle.logs is None else "",
        "metrics": "bundle has no metrics.csv or metrics.om" if bundle.metrics is None else "",
        "traces": "bundle has no traces.jsonl" if bundle.traces_missing else "",
        "changes": "bundle has no changes.jsonl" if bundle.changes is None else "",
    }
    deps = Deps(
        logs=BundleLogs(bundle, links, settings.logs.fields) if bundle.logs is not None else None,
        metrics=BundleMetrics(bundle, links) if bundle.metrics is not None else None,
        traces=BundleTraces(bundle, links) if not bundle.traces_missing else None,
        changes=BundleChanges(bundle, links) if bundle.changes is not None else None,
        limits=settings.investigation,
        unavailable={k: v for k, v in missing.items() if v},
        text=TextPipeline.from_settings(settings.redaction),
        service_map=bundle.service_map,
    )
    return BundleSources(bundle, deps, load_ms, settings)


def with_stored_reference(
    sources: BundleSources, request: InvestigationRequest
) -> tuple[BundleSources, ReferenceSources]:
    """The bundle's ``reference/`` period as the investigation's reference source, and the
    sources serving its telemetry only when the scope uses it: a reference that reaches into
    the incident (:func:`bot.investigation.scope.resolve_scope` says it is not used, and why)
    must not have its data answer the incident's queries either. Raises what the scope raises
    (a request's unusable reference)."""
    references = ReferenceSources(stored=sources.bundle.reference_window)
    if references.stored is None:
        return sources, references
    scope = resolve_scope(
        request,
        sources.window,
        timedelta(minutes=sources.deps.limits.default_window_minutes),
        sources.deps.text,
        references,
    )
    if scope.reference == references.stored:
        return sources, references
    unserved = copy.copy(sources.bundle)
    unserved.reference = None
    return _served(unserved, sources.settings, sources.load_ms), references


async def _declared_map(path: Path | None) -> tuple[ServiceMap | None, list[str]]:
    """The service map the settings name (``investigation.service_map``) and what the report
    should say of it: the rows skipped, or why there is no map. A map only helps the ranking,
    so one that cannot be read (deleted, edited into a bad file) leaves the investigation
    without it, not without an answer; ``rcabot config check`` reports it as a failure."""
    if path is None:
        return None, []
    try:
        service_map, report = await asyncio.to_thread(read_service_map, path, error=ConfigError)
    except ConfigError as exc:
        log.warning("%s", exc)
        return None, [f"the service map (investigation.service_map) was not used: {exc}"]
    warnings = [f"service map: {warning}" for warning in report.summary()]
    for warning in warnings:
        log.warning("%s", warning)
    return service_map, warnings


@asynccontextmanager
async def configured_sources(settings: Settings) -> AsyncIterator[Deps]:
    """Backends from settings (Elasticsearch, Prometheus, Jaeger/Tempo); clients closed on exit.

    Each source's client comes from the factory registered for its ``kind``
    (:mod:`bot.investigation.backend_factories`). A source without a URL is reported as
    unavailable, with the setting that enables it.
    """
    if not (settings.logs.url or settings.metrics.url or settings.traces.url):
        raise ConfigError(
            "no telemetry source: pass --bundle DIR, or configure a backend with "
            "RCABOT_LOGS__URL (Elasticsearch), RCABOT_METRICS__URL (Prometheus) or "
            "RCABOT_TRACES__URL (Jaeger/Tempo), or the same keys in rcabot.yaml"
        )
    link_settings = settings.links
    if link_settings.prometheus_url is None and settings.metrics.url:
        link_settings = link_settings.model_copy(update={"prometheus_url": settings.metrics.url})
    links = Links(link_settings)
    service_map, map_warnings = await _declared_map(settings.investigation.service_map)
    deps = Deps(
        limits=settings.investigation,
        metrics_step=timedelta(seconds=settings.metrics.step_s),
        unavailable={"changes": "no change-event source is configured for live backends"},
        text=TextPipeline.from_settings(settings.redaction),
        service_map=service_map,
        warnings=map_warnings,
    )
    sections: dict[SourceName, LogsSettings | MetricsSettings | TracesSettings] = {
        "logs": settings.logs,
        "metrics": settings.metrics,
        "traces": settings.traces,
    }
    async with AsyncExitStack() as stack:
        for source, section in sections.items():
            if not section.url:
                deps.unavailable[source] = f"not configured (set RCABOT_{source.upper()}__URL)"
                continue
            setup = BackendSetup(settings, section.url, links, stack)
            deps.attach(source, await open_backend(source, section.kind, setup))
        yield deps
