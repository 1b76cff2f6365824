"""Where an investigation's service map comes from: a bundle's own ``service_map.csv``, or for
live backends the file ``investigation.service_map`` names (read once, when the sources open)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings
from bot.investigation.sources import bundle_sources, configured_sources
from tests.bundles import small_incident
from tools.errors import ConfigError


def _settings(tmp_path: Path, service_map: Path | None) -> Settings:
    return Settings.model_validate(
        {
            "logs": {"url": "http://es:9200"},
            "investigation": {"service_map": str(service_map) if service_map else None},
        }
    )


async def test_a_bundle_serves_its_own_map(tmp_path: Path) -> None:
    small_incident(tmp_path / "b")
    (tmp_path / "b" / "service_map.csv").write_text("caller,callee\nweb,api\n")
    sources = await bundle_sources(tmp_path / "b", Settings())
    assert sources.deps.service_map is not None
    assert sources.deps.service_map.calls == {"web": {"api"}}
    plain = await bundle_sources(small_incident(tmp_path / "c"), Settings())
    assert plain.deps.service_map is None


async def test_live_sources_read_the_map_the_settings_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "map.csv"
    path.write_text("caller,callee\nfrontend,checkout\nfrontend\n")
    with caplog.at_level(logging.WARNING):
        async with configured_sources(_settings(tmp_path, path)) as deps:
            assert deps.service_map is not None
            assert deps.service_map.calls == {"frontend": {"checkout"}}
    assert "investigation.service_map: map.csv:3: expected at least 2 columns" in caplog.text
    async with configured_sources(_settings(tmp_path, None)) as deps:
        assert deps.service_map is None


async def test_a_map_the_settings_name_that_cannot_be_read_is_a_config_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        async with configured_sources(_settings(tmp_path, tmp_path / "absent.csv")):
            pass
    (tmp_path / "bad.csv").write_text("source,target\na,b\n")
    with pytest.raises(ConfigError, match="header must contain caller,callee"):
        async with configured_sources(_settings(tmp_path, tmp_path / "bad.csv")):
            pass
