"""An investigation names the past incident it resembles, cited, only when one does."""

from __future__ import annotations

from pathlib import Path

from bot.commands import investigate_bundle, run_demo
from bot.config import load_settings


async def test_the_demo_incident_is_recognised_from_its_postmortem(tmp_path: Path) -> None:
    run = await run_demo(load_settings(), tmp_path, "bad-deploy", 7)
    report = run.report
    seen = [line for line in report.answer.splitlines() if line.startswith("*Seen before:*")]
    assert len(seen) == 1, report.answer
    cited = [e for e in report.evidence if f"[{e.id}]" in seen[0]]
    assert [e.source.value for e in cited] == ["postmortem"]
    assert "PM-2025-038" in cited[0].title  # payments release leaked DB connections
    status = {s.source: s for s in report.sources}["postmortems"]
    assert status.ok and status.backend == "retrieval"
    assert (tmp_path / "postmortems-index").is_dir()


async def test_without_ingested_postmortems_the_report_says_so(small_bundle: Path) -> None:
    report = await investigate_bundle(load_settings(), small_bundle)
    status = {s.source: s for s in report.sources}["postmortems"]
    assert not status.ok
    assert "rcabot ingest" in status.detail
    assert "*Seen before:*" not in report.answer
    assert report.candidates[0].service == "api"
