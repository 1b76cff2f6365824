"""The autouse fixture ``_hermetic`` (tests/conftest.py): a developer's ``RCABOT_*`` variables
and ``./rcabot.yaml`` change no test's result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.config import ENV_PREFIX, load_settings
from bot.investigation.engine import investigate
from bot.investigation.request import InvestigationRequest
from bot.investigation.sources import bundle_sources
from tests.conftest import ENV_PREFIX as TESTS_ENV_PREFIX
from tests.conftest import HERMETIC_ENV
from tools.settings import InvestigationSettings

REPO = Path(__file__).resolve().parents[1]
HOSTILE_YAML = "investigation:\n  max_candidates: 1\n  default_window_minutes: 1\n"
HOSTILE_ENV = {
    "RCABOT_INVESTIGATION__MAX_CANDIDATES": "1",
    "RCABOT_INVESTIGATION__MAX_EVIDENCE": "1",
    "RCABOT_LOGS__URL": "http://127.0.0.1:9",
}


def test_no_rcabot_variable_reaches_a_test_but_the_private_index(tmp_path: Path) -> None:
    assert TESTS_ENV_PREFIX == ENV_PREFIX
    seen = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    assert seen == {HERMETIC_ENV: str(tmp_path / "no-postmortems")}


def test_each_test_runs_in_its_own_empty_directory(tmp_path: Path) -> None:
    assert Path.cwd() == tmp_path
    assert not Path("rcabot.yaml").exists()


def test_settings_are_the_defaults() -> None:
    settings = load_settings()
    assert settings.investigation == InvestigationSettings()
    assert settings.logs.url is None
    assert settings.retrieval.chroma_path == Path(os.environ[HERMETIC_ENV])


async def test_an_investigation_sees_the_default_limits(small_bundle: Path) -> None:
    sources = await bundle_sources(small_bundle, load_settings())
    report = await investigate(
        InvestigationRequest(alert=sources.alert), sources.deps, sources.window
    )
    assert [c.service for c in report.candidates[:2]] == ["api", "web"]
    assert len(report.evidence) > 1


def test_a_hostile_environment_and_config_file_change_no_result(tmp_path: Path) -> None:
    """This module's tests, run by a pytest whose environment and working directory hold
    settings that would change their results, still pass."""
    hostile = tmp_path / "checkout"
    hostile.mkdir()
    (hostile / "rcabot.yaml").write_text(HOSTILE_YAML)
    (tmp_path / "other.yaml").write_text(HOSTILE_YAML)
    env = {**os.environ, **HOSTILE_ENV, "RCABOT_CONFIG": str(tmp_path / "other.yaml")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))

    # the hostile settings are real: outside the fixture they change what rcabot uses
    probe = "from bot.config import load_settings as l; print(l().investigation.max_candidates)"
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=hostile, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert shown.stdout.strip() == "1", shown.stderr[-2000:]

    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
         "--basetemp", str(tmp_path / "basetemp"), str(Path(__file__)),
         "-k", "not hostile"],
        cwd=hostile, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "4 passed" in ran.stdout
