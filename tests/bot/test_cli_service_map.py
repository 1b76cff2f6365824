"""A bundle's service map that cannot be read is a clear error (exit 2) naming the file, and the
bundle is left as it was; a live map the settings name is reported by ``config check`` and in
the report of an investigation that went on without it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.bot.test_cli import _no_traceback, rcabot
from tests.servers import unreachable_url


def test_a_bundle_with_a_bad_service_map_is_refused_naming_it(
    small_bundle: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(small_bundle, bundle)
    (bundle / "service_map.csv").write_text("source,target\nweb,api\n")
    before = {p.name: p.read_bytes() for p in bundle.iterdir() if p.is_file()}
    result = rcabot("investigate", "--bundle", str(bundle))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "service_map.csv:1: header must contain caller,callee" in result.stderr
    _no_traceback(result)
    assert {p.name: p.read_bytes() for p in bundle.iterdir() if p.is_file()} == before


def _config_naming(tmp_path: Path, service_map: Path) -> Path:
    config = tmp_path / "rcabot.yaml"
    config.write_text(
        f"metrics:\n  url: {unreachable_url()}\ninvestigation:\n  service_map: {service_map}\n"
    )
    return config


def test_an_investigation_goes_on_without_a_service_map_it_cannot_read(tmp_path: Path) -> None:
    """The map only helps the ranking: one deleted while the bot runs must not turn every
    investigation into an error. The report says it was not used, and why."""
    config = _config_naming(tmp_path, tmp_path / "absent.csv")
    result = rcabot(
        "investigate",
        "--service",
        "web",
        "--no-llm",
        "--json",
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert any(
        "service map (investigation.service_map) was not used" in w
        and "absent.csv: file does not exist" in w
        for w in warnings
    ), warnings
    _no_traceback(result)


def test_config_check_fails_on_a_service_map_it_cannot_read(tmp_path: Path) -> None:
    bad = tmp_path / "map.csv"
    bad.write_text("source,target\nweb,api\n")
    result = rcabot("config", "check", "--config", str(_config_naming(tmp_path, bad)), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "service map" in result.stdout and "header must contain" in result.stdout
    _no_traceback(result)
