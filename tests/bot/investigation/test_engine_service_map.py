"""An investigation of metrics alone, with and without a service map (issue 11): ``web`` calls
``api``, whose pool timed out; web answered 502s. Without traces nothing says web waited on
api; the bundle's ``service_map.csv`` says web may call it, so web is api's likely symptom,
and the report says where that came from. With traces that never show web calling api (its
client spans not exported), web's own time is its wait on api, and the map says so too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.investigation.engine import investigate
from bot.investigation.ranking import PROPAGATION_FACTOR
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


def _api_untraced(path: Path, service_map: str | None) -> Path:
    """The small incident whose traces never show web calling api: web's client spans and api's
    own were not exported, so web's request spans hold the wait on api, 60 ms, then 900 ms."""
    small_incident(path)
    kept = []
    for line in (path / "traces.jsonl").read_text().splitlines():
        span = json.loads(line)
        if span["service"] == "web" and span["kind"] == "server":
            broken = span["status"] == "error"
            kept.append(json.dumps({**span, "duration_ms": 900 if broken else 60, "status": "ok"}))
    (path / "traces.jsonl").write_text("\n".join(kept) + "\n")
    if service_map is not None:
        (path / "service_map.csv").write_text(service_map)
    return path


async def test_a_traced_caller_s_time_on_an_untraced_call_is_its_callee_s_symptom(
    tmp_path: Path,
) -> None:
    plain = await _investigate(_api_untraced(tmp_path / "plain", None))
    mapped = await _investigate(_api_untraced(tmp_path / "map", "caller,callee\nweb,api\n"))
    before = next(c for c in plain.candidates if c.service == "web")
    assert before.signals.get("trace_latency", 0.0) > 0.5 and not before.propagated
    web = next(c for c in mapped.candidates if c.service == "web")
    assert web.propagated
    assert web.score == pytest.approx(before.score * PROPAGATION_FACTOR, abs=0.002)
    note = next(w for w in mapped.warnings if "no trace read shows" in w)
    assert note.startswith("no trace read shows web calling api, which the service map")
    assert not any("no trace read shows" in w for w in plain.warnings)
