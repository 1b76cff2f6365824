"""The engine compares against the scope's reference period and the report says which: a service
failing since before the window is found only with a healthy reference."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.investigation.engine import investigate
from bot.investigation.report import Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import ReferenceSources
from tests.reference_bundles import ALERT_AT, REFERENCE, WINDOW, bundle_deps, load_chronic
from tools.bundle.reader import Bundle
from tools.evidence import TimeWindow


async def _investigate(
    bundle: Bundle, references: ReferenceSources, window: TimeWindow | None = None
) -> Report:
    assert bundle.alerts
    request = InvestigationRequest(alert=bundle.alerts[0], window=window)
    return await investigate(request, bundle_deps(bundle), bundle.window, references=references)


def _suspects(report: Report) -> list[str]:
    return [c.service for c in report.candidates]


async def test_the_bundle_s_reference_finds_what_the_minutes_before_hide(tmp_path: Path) -> None:
    bundle = load_chronic(tmp_path / "b")
    report = await _investigate(bundle, ReferenceSources(stored=bundle.reference_window))
    assert report.reference == REFERENCE
    assert _suspects(report)[0] == "api"
    top = report.candidates[0]
    cited = [e for e in report.evidence if e.id in top.evidence_ids]
    assert {e.source.value for e in cited} >= {"metrics", "traces"}
    assert any("(cache)" in w for w in report.warnings)  # compared without a reference


async def test_without_a_reference_the_report_says_none_and_misses_it(tmp_path: Path) -> None:
    bundle = load_chronic(tmp_path / "b", reference=False)
    report = await _investigate(bundle, ReferenceSources())
    assert report.reference is None
    assert "api" not in _suspects(report)
    assert not any("reference" in w for w in report.warnings)


async def test_an_offset_reference_is_queried_from_the_same_backends(tmp_path: Path) -> None:
    bundle = load_chronic(tmp_path / "b")  # its reference lies 3 h before the window
    offset = WINDOW.start - REFERENCE.start
    report = await _investigate(bundle, ReferenceSources(offset=offset))
    assert report.reference == REFERENCE
    assert _suspects(report)[0] == "api"


async def test_a_stored_reference_before_the_alert_in_the_asked_window_is_used(
    tmp_path: Path,
) -> None:
    """A healthy period in the part of the window before the alert stands for normal; the
    window then starts where it ends, so its data is never read as the incident's."""
    bundle = load_chronic(tmp_path / "b")
    wide = TimeWindow(start=REFERENCE.start - timedelta(minutes=30), end=WINDOW.end)
    report = await _investigate(bundle, ReferenceSources(stored=REFERENCE), window=wide)
    assert report.reference == REFERENCE
    assert report.window == TimeWindow(start=REFERENCE.end, end=WINDOW.end)
    assert _suspects(report)[0] == "api"
    assert not any("overlaps" in w for w in report.warnings)


async def test_a_stored_reference_reaching_the_alert_is_not_used(tmp_path: Path) -> None:
    bundle = load_chronic(tmp_path / "b")
    reaching = TimeWindow(
        start=ALERT_AT - timedelta(minutes=5), end=ALERT_AT + timedelta(minutes=1)
    )
    report = await _investigate(bundle, ReferenceSources(stored=reaching))
    assert report.reference is None
    assert report.window == WINDOW
    assert any("bundle's reference period" in w and "overlaps" in w for w in report.warnings)
