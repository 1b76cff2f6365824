"""Live backends by (source, kind): how a configured source becomes a client.

``configured_sources`` never names an implementation: for each source with a URL it looks up
the factory registered for the source's ``kind`` setting. Serving logs from Loki or OpenSearch
later is one more factory (and that kind allowed in the source's settings)::

    @register_backend("logs", "loki")
    async def loki(setup: BackendSetup) -> LogsBackend:
        http = await setup.stack.enter_async_context(httpx.AsyncClient())
        return LokiLogs(http, setup.url, setup.links)

A factory registers what it opens on ``setup.stack`` so the clients close with the sources.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx

from bot.config import Settings
from tools.deps import SourceName
from tools.elasticsearch.logs import ElasticsearchLogs, make_client
from tools.errors import ConfigError
from tools.http import JsonClient
from tools.jaeger.traces import JaegerTraces
from tools.links import Links
from tools.prometheus.metrics import PrometheusMetrics
from tools.resilience import Resilience
from tools.tempo.traces import TempoTraces


@dataclass(frozen=True)
class BackendSetup:
    settings: Settings
    url: str  # the source's configured URL
    links: Links
    stack: AsyncExitStack  # what the factory opens is closed with it


BackendFactory = Callable[[BackendSetup], Awaitable[object]]
BACKENDS: dict[tuple[SourceName, str], BackendFactory] = {}


def register_backend(source: SourceName, kind: str) -> Callable[[BackendFactory], BackendFactory]:
    """Register the decorated factory as the ``kind`` backend of ``source``."""

    def register(factory: BackendFactory) -> BackendFactory:
        if (source, kind) in BACKENDS:
            raise ValueError(f"a {source} backend of kind {kind!r} is already registered")
        BACKENDS[(source, kind)] = factory
        return factory

    return register


async def open_backend(source: SourceName, kind: str, setup: BackendSetup) -> object:
    factory = BACKENDS.get((source, kind))
    if factory is None:
        known = ", ".join(sorted(k for s, k in BACKENDS if s == source)) or "none"
        raise ConfigError(f"{source}.kind: no {kind!r} backend (known: {known})")
    return await factory(setup)


@register_backend("logs", "elasticsearch")
async def elasticsearch(setup: BackendSetup) -> ElasticsearchLogs:
    section = setup.settings.logs
    es = make_client(section)
    setup.stack.push_async_callback(es.close)
    resilience = Resilience("elasticsearch", timeout_s=section.timeout_s)
    return ElasticsearchLogs(es, section, setup.links, resilience)


@register_backend("metrics", "prometheus")
async def prometheus(setup: BackendSetup) -> PrometheusMetrics:
    section = setup.settings.metrics
    client = await _json_client(setup, "prometheus", section.timeout_s)
    return PrometheusMetrics(client, section, setup.links)


@register_backend("traces", "jaeger")
async def jaeger(setup: BackendSetup) -> JaegerTraces:
    return JaegerTraces(
        await _json_client(setup, "jaeger", setup.settings.traces.timeout_s), setup.links
    )


@register_backend("traces", "tempo")
async def tempo(setup: BackendSetup) -> TempoTraces:
    return TempoTraces(
        await _json_client(setup, "tempo", setup.settings.traces.timeout_s), setup.links
    )


async def _json_client(setup: BackendSetup, name: str, timeout_s: float) -> JsonClient:
    http = await setup.stack.enter_async_context(httpx.AsyncClient(timeout=timeout_s))
    return JsonClient(http, setup.url, Resilience(name, timeout_s=timeout_s))
