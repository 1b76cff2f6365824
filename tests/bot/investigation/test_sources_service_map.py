"""Where an investigation's service map comes from: a bundle's own ``service_map.csv``, or for
live backends the file ``investigation.service_map`` names (read when the sources open; one
that cannot be read leaves the investigation without a map, saying why)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings
from bot.investigation.sources import bundle_sources, configured_sources
from tests.bundles import small_incident


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
    assert "service map: map.csv:3: expected at least 2 columns" in caplog.text
    async with configured_sources(_settings(tmp_path, None)) as deps:
        assert deps.service_map is None


async def test_live_sources_go_on_without_a_map_they_cannot_read(tmp_path: Path) -> None:
    async with configured_sources(_settings(tmp_path, tmp_path / "absent.csv")) as deps:
        assert deps.service_map is None
        assert deps.warnings == [
            "the service map (investigation.service_map) was not used: "
            f"{tmp_path / 'absent.csv'}: file does not exist"
        ]
    (tmp_path / "bad.csv").write_text("source,target\na,b\n")
    async with configured_sources(_settings(tmp_path, tmp_path / "bad.csv")) as deps:
        assert deps.service_map is None
        assert "header must contain caller,callee" in deps.warnings[0]


async def test_rows_a_live_map_skipped_reach_the_report(tmp_path: Path) -> None:
    """A bundle's skipped rows are among the bundle's warnings; a live map's are the sources'."""
    path = tmp_path / "map.csv"
    path.write_text("caller,callee\nfrontend,checkout\nfrontend,frontend\n")
    async with configured_sources(_settings(tmp_path, path)) as deps:
        assert deps.warnings == [
            "service map: map.csv:3: frontend calling itself is no call between services"
        ]
