"""The minutes a period's logs cover: never past the period's ends, from the bucket of its
first line, nothing where there is no line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.bundles import T0, iso, write_jsonl
from tests.reference_bundles import bundle_deps
from tools.backends import LogsBackend
from tools.bundle.reader import load_bundle
from tools.evidence import TimeWindow
from tools.log_coverage import logged_minutes

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(minutes=35))
# 5 s into a 15 s bucket (buckets are aligned to the epoch), as incident starts fall
START = T0 + timedelta(minutes=30, seconds=5)
BEFORE = TimeWindow(start=WINDOW.start, end=START)
INCIDENT = TimeWindow(start=START, end=WINDOW.end)


def _logs(tmp_path: Path, moments: list[datetime]) -> LogsBackend:
    """A bundle of one INFO line of ``api`` at each of ``moments``, over :data:`WINDOW`."""
    rows: list[dict[str, Any]] = [
        {"ts": iso(m), "service": "api", "level": "INFO", "message": "handled"}
        for m in sorted(moments)
    ]
    write_jsonl(tmp_path / "logs.jsonl", rows)
    manifest = {"window": {"start": iso(WINDOW.start), "end": iso(WINDOW.end)}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    logs = bundle_deps(load_bundle(tmp_path)).logs
    assert logs is not None
    return logs


def _every(seconds: float, start: datetime, end: datetime) -> list[datetime]:
    found, at = [], start
    while at < end:
        found.append(at)
        at += timedelta(seconds=seconds)
    return found


async def test_the_period_before_ends_at_the_start_not_at_the_end_of_its_bucket(
    tmp_path: Path,
) -> None:
    """Logs from 55 s before the start: the 15 s bucket of the first line counts whole (the
    logs' start is known to a bucket), the one holding the start only up to it: 65 s. It had
    counted whole too, 10 s of the incident as normal: 75."""
    logs = _logs(tmp_path, _every(5, START - timedelta(seconds=55), WINDOW.end))
    assert await logged_minutes(logs, BEFORE, ()) * 60 == pytest.approx(65)


async def test_the_incident_starts_at_the_start_not_at_the_start_of_its_bucket(
    tmp_path: Path,
) -> None:
    """Lines every 15 s all through: the incident logs its 4 min 55 s, not the 5 minutes of
    the buckets that hold it; the period before, from its first bucket with a line to the last."""
    logs = _logs(tmp_path, _every(15, WINDOW.start + timedelta(seconds=12), WINDOW.end))
    assert await logged_minutes(logs, INCIDENT, ()) * 60 == pytest.approx(295)
    assert await logged_minutes(logs, BEFORE, ()) * 60 == pytest.approx(30 * 60)


async def test_no_line_is_no_logged_minute(tmp_path: Path) -> None:
    logs = _logs(tmp_path, _every(1, START, WINDOW.end))
    assert await logged_minutes(logs, BEFORE, ()) == 0.0
    assert await logged_minutes(logs, None, ()) == 0.0
