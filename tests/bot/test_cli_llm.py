"""``--no-llm`` and the answer's provenance on the command line."""

from __future__ import annotations

from pathlib import Path

from bot.investigation.report import Report
from tests.bot.test_cli import _no_traceback, rcabot


def test_no_llm_skips_a_configured_model(small_bundle: Path, tmp_path: Path) -> None:
    config = tmp_path / "rcabot.yaml"
    config.write_text("llm:\n  url: http://127.0.0.1:9\n", encoding="utf-8")
    result = rcabot(
        "investigate", "--bundle", str(small_bundle), "--json", "--no-llm", "--config", str(config)
    )
    _no_traceback(result)
    assert result.returncode == 0, result.stderr
    report = Report.model_validate_json(result.stdout)
    assert report.answer_by == "deterministic"
    assert report.answer_note == "model not used: --no-llm"


def test_progress_goes_to_stderr_and_json_stays_clean(small_bundle: Path) -> None:
    result = rcabot("investigate", "--bundle", str(small_bundle), "--json", "--progress")
    assert result.returncode == 0, result.stderr
    Report.model_validate_json(result.stdout)
    assert "… scope" in result.stderr and "… rank" in result.stderr
