"""An investigation of metrics alone, with and without a service map (issue 11): ``web`` calls
``api``, whose pool timed out; web answered 502s. Without traces nothing says web waited on
api; the bundle's ``service_map.csv`` says web may call it, so web is api's likely symptom,
and the report says where that came from."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_settings
from bot.investigation.engine import investigate
from bot.investigation.report import Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.sources import bundle_sources
from tests.bundles import small_incident


async def _investigate(path: Path) -> Report:
    sources = await bundle_sources(path, load_settings())
    return await investigate(
        InvestigationRequest(alert=sources.alert), sources.deps, sources.window
    )


def _metrics_only(path: Path, service_map: str | None) -> Path:
    small_incident(path, traces=False)
    (path / "logs.jsonl").unlink()
    if service_map is not None:
        (path / "service_map.csv").write_text(service_map)
    return path


async def test_a_caller_the_map_puts_above_the_failing_service_is_its_symptom(
    tmp_path: Path,
) -> None:
    plain = await _investigate(_metrics_only(tmp_path / "plain", None))
    mapped = await _investigate(_metrics_only(tmp_path / "map", "caller,callee\nweb,api\n"))
    assert [c.service for c in plain.candidates] == ["api", "web"]
    assert not any(c.propagated for c in plain.candidates)
    web = next(c for c in mapped.candidates if c.service == "web")
    assert web.propagated and mapped.candidates[0].service == "api"
    assert web.score < next(c for c in plain.candidates if c.service == "web").score
    note = next(w for w in mapped.warnings if "service map" in w)
    assert "shows the calls of web:" in note and "service_map.csv" in note
    assert not any("service map" in w for w in plain.warnings)


async def test_a_map_of_other_services_changes_nothing(tmp_path: Path) -> None:
    """A map that does not name web or api declares no call of theirs, and does not take them
    off the requests' path either: a service catalogue that misses a service is stale, it
    does not show that no request reached it (as traces that never saw it do)."""
    mapped = await _investigate(_metrics_only(tmp_path / "map", "caller,callee\nshop,cart\n"))
    plain = await _investigate(_metrics_only(tmp_path / "plain", None))
    assert [c.service for c in mapped.candidates] == [c.service for c in plain.candidates]
    assert [c.score for c in mapped.candidates] == [c.score for c in plain.candidates]
