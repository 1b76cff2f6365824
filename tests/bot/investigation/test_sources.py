"""A bundle's reference period is served only when the investigation uses it: one that
reaches into the incident is refused by the scope, and its telemetry must not answer the
incident's queries either."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.investigation.request import InvestigationRequest
from bot.investigation.sources import bundle_sources, with_stored_reference
from tests.bundles import T0, iso, small_incident, write_jsonl
from tools.backends import LogQuery
from tools.deps import configured
from tools.evidence import TimeWindow

ALERT_AT = T0 + timedelta(minutes=44)  # small_incident's alert
MARKER = "written only in reference"


def _with_reference(path: Path, minutes: range) -> Path:
    small_incident(path)
    lines = [
        {
            "ts": iso(T0 + timedelta(minutes=m)),
            "service": "db",
            "level": "INFO",
            "message": f"{MARKER} {m}",
        }
        for m in minutes
    ]
    (path / "reference").mkdir()
    write_jsonl(path / "reference" / "logs.jsonl", lines)
    return path


async def _marked(path: Path) -> tuple[int, TimeWindow | None]:
    sources = await bundle_sources(path, Settings())
    assert sources.alert is not None and sources.alert.starts_at == ALERT_AT
    request = InvestigationRequest(alert=sources.alert, window=sources.window)
    served, references = with_stored_reference(sources, request)
    logs = configured(served.deps.logs)
    page = await logs.search(LogQuery(window=sources.window, text=MARKER, limit=100))
    return page.total, references.stored


async def test_a_reference_reaching_into_the_incident_is_not_served(tmp_path: Path) -> None:
    total, stored = await _marked(_with_reference(tmp_path / "b", range(42, 50)))
    assert stored is not None  # still offered: the scope says why it is not used
    assert total == 0


async def test_a_reference_before_the_alert_is_served(tmp_path: Path) -> None:
    total, stored = await _marked(_with_reference(tmp_path / "b", range(2, 10)))
    assert stored is not None and stored.end <= ALERT_AT
    assert total == 8
