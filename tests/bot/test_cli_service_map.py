"""A service map that cannot be read is a clear error (exit 2) naming the file, in a bundle or
in the settings, and the bundle is left as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.bot.test_cli import _no_traceback, rcabot


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


def test_a_service_map_setting_that_cannot_be_read_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "rcabot.yaml"
    config.write_text(
        "metrics:\n  url: http://127.0.0.1:9\n"
        f"investigation:\n  service_map: {tmp_path / 'absent.csv'}\n"
    )
    result = rcabot("investigate", "--service", "web", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "absent.csv: file does not exist" in result.stderr
    _no_traceback(result)
