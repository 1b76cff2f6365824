"""Live sources come from factories registered by (source, kind): adding one is registering."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta

import pytest

from bot.config import Settings
from bot.investigation.backend_factories import (
    BACKENDS,
    BackendSetup,
    open_backend,
    register_backend,
)
from bot.investigation.sources import configured_sources
from tools.backends import LogHistogram, LogPage, LogQuery, QueryInfo
from tools.deps import Deps
from tools.elasticsearch.logs import ElasticsearchLogs
from tools.errors import ConfigError
from tools.links import Links
from tools.settings import LinksSettings


class _Loki:
    name = "loki"

    def __init__(self, url: str) -> None:
        self.url = url

    async def search(self, query: LogQuery) -> LogPage:
        return LogPage([], 0)

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        return {}

    async def histogram(self, query: LogQuery, interval: timedelta) -> LogHistogram:
        return LogHistogram(query.window.start, interval, {})

    def describe(self, query: LogQuery) -> QueryInfo:
        return QueryInfo("{}", None)


async def _loki(setup: BackendSetup) -> _Loki:
    return _Loki(setup.url)


def _settings(**sections: dict[str, str]) -> Settings:
    return Settings.model_validate(sections)


def test_every_configured_kind_has_a_factory() -> None:
    assert {("logs", "elasticsearch"), ("metrics", "prometheus")} <= set(BACKENDS)
    assert {("traces", "jaeger"), ("traces", "tempo")} <= set(BACKENDS)


async def test_a_registered_factory_serves_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS, ("logs", "elasticsearch"), _loki)
    async with configured_sources(_settings(logs={"url": "http://logs:3100"})) as deps:
        assert isinstance(deps.logs, _Loki) and deps.logs.url == "http://logs:3100"
        assert "logs" not in deps.unavailable
        assert deps.unavailable["metrics"] == "not configured (set RCABOT_METRICS__URL)"
        assert deps.unavailable["traces"] == "not configured (set RCABOT_TRACES__URL)"


async def test_the_built_in_factory_opens_and_closes_its_client() -> None:
    async with configured_sources(_settings(logs={"url": "http://es:9200"})) as deps:
        assert isinstance(deps.logs, ElasticsearchLogs)


async def test_an_unknown_kind_names_the_known_ones() -> None:
    async with AsyncExitStack() as stack:
        setup = BackendSetup(Settings(), "http://x", Links(LinksSettings()), stack)
        with pytest.raises(ConfigError, match=r"traces.kind: no 'zipkin' backend \(known: "):
            await open_backend("traces", "zipkin", setup)


def test_a_kind_is_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.investigation.backend_factories.BACKENDS", dict(BACKENDS))
    with pytest.raises(ValueError, match="already registered"):
        register_backend("traces", "jaeger")(_loki)


def test_a_client_must_fit_its_source() -> None:
    deps = Deps()
    with pytest.raises(TypeError, match="is not a MetricsBackend"):
        deps.attach("metrics", _Loki("http://x"))
    deps.attach("logs", _Loki("http://x"))
    assert isinstance(deps.logs, _Loki)
