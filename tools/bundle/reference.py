"""A bundle's reference period: telemetry of a healthy period to learn normal behaviour from.

The minutes before an incident are a thin picture of normal, and sometimes already faulty (a
slow leak, chronic background errors). A bundle may therefore carry ``reference/``: logs,
metrics and traces of a healthy period in the bundle's own format, with an optional
``manifest.json`` giving its window (``tools/bundle/FORMAT.md``, *Reference period*).

A reference is an aid, never a requirement: one that cannot be used (not a directory, a file
that cannot be read, every line bad, no data) is left out with a warning saying why, and the
investigation compares against the part of the window before the incident, as it does without
one. Whether its window suits the incident (it must not reach into it) is the investigation's
scope's decision (:func:`bot.investigation.scope.resolve_reference`), where the alert is known.
This module holds the period and its window rules; the reader (:mod:`tools.bundle.reader`)
parses its files exactly as the bundle's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.bundle.timestamps import parse_timestamp
from tools.evidence import TimeWindow
from tools.records import LogRecord, MetricSeries, Span

DIRECTORY = "reference"
TELEMETRY_FILES = ("logs.jsonl", "metrics.csv", "metrics.om", "traces.jsonl")
NOT_READ = ("alerts.json", "changes.jsonl")  # describe an incident, not normal behaviour


@dataclass
class Reference:
    """The healthy period a bundle carries; ``None`` lists mean the file is absent."""

    path: Path
    manifest: dict[str, Any]
    logs: list[LogRecord] | None
    metrics: list[MetricSeries] | None
    spans: list[Span] | None
    window: TimeWindow


def telemetry_window(
    logs: Sequence[LogRecord] | None,
    metrics: Sequence[MetricSeries] | None,
    spans: Sequence[Span] | None,
) -> TimeWindow | None:
    """From the earliest to the latest timestamp in the data (``logs`` sorted by time);
    ``None`` when there is none. A single instant becomes a one-second window."""
    stamps = [logs[0].ts.timestamp(), logs[-1].ts.timestamp()] if logs else []
    for series in metrics or ():
        if series.timestamps:
            stamps += [series.timestamps[0], series.timestamps[-1]]
    for span in spans or ():
        stamps += [span.start, span.end]
    if not stamps:
        return None
    lo, hi = min(stamps), max(stamps)
    return TimeWindow(
        start=datetime.fromtimestamp(lo, UTC), end=datetime.fromtimestamp(max(hi, lo + 1), UTC)
    )


def declared_window(manifest: dict[str, Any]) -> TimeWindow | None:
    """The manifest's ``window`` (already checked by ``check_manifest``), if it has one."""
    declared = manifest.get("window")
    if not isinstance(declared, dict):
        return None
    start, _ = parse_timestamp(declared.get("start"))
    end, _ = parse_timestamp(declared.get("end"))
    return TimeWindow(start=start, end=end)
