"""A Nezha day's fault-free phase (``construct_data/<date>/``) as each case bundle's ``reference/``.

Why: a case's own window holds about one minute of logs and traces before the injection — too
little to know what is normal (chronic errors look new, a quiet minute looks like an outage).
Upstream Nezha learns normal behaviour from a recorded fault-free phase of the same day; a
production user has the same thing in yesterday's telemetry. The importer puts that phase into
every bundle of the day, in the bundle format itself (``tools/bundle/FORMAT.md``)::

    BUNDLE/reference/
      manifest.json   window = the phase, services, stats — nothing about any fault
      logs.jsonl      construct_data/<date>/log/*.csv, converted like a case's logs
      traces.jsonl    construct_data/<date>/trace/*.csv, converted like a case's traces
      metrics.csv     the day's metric files sliced to the window (the phase's own metric/
                      folder, else the incident day's: the files cover the whole day)

The window is the span of the phase's logs and traces, its end moved to the first metric
sample at or after it (within one step): a sample describes the step before its stamp, so that
one covers the phase's last minute. Windows are closed-open (``tools/bundle/FORMAT.md``), so the
end is half a step past that sample, past the same minute's samples of every file (their
stamps differ by a second or two) and short of the next: on 2023-01-29 08:48:16–08:51:39,
three per-minute samples per series (08:49:09, 08:50:09, 08:51:09; a second or two later in
some files). An end *at* the sample had left it out: two samples are fewer than a metric
baseline needs, so no metric was compared with the phase at all. The start is not moved back:
the 08:48:09 sample describes the minute before the phase, and a window reaching into a case's
own window makes the reader set the reference aside (the 08:43 case's window ends at 08:48:04).
A phase with no logs or traces has no known window and gives no reference (its metric files
alone cover the whole day, faults included).

Size: the phase's files are taken as they are, earliest first, up to ``MAX_REFERENCE_CSV_BYTES``
of log and trace CSV (more is left out with a warning). The reference is converted once per
day and hard-linked into each case's bundle (copied where links are impossible), so the 28
cases of a day hold one copy on disk.

Only a phase of the same date is used; without one, the latest earlier date's (a "yesterday"
reference), said in the warnings; with none, the case has no ``reference/`` and says so.
"""

from __future__ import annotations

import filecmp
import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.importers.nezha_issues import Issues
from bot.importers.nezha_logs import convert_logs
from bot.importers.nezha_metrics import MetricStore, load_metrics
from bot.importers.nezha_time import iso_utc_seconds
from bot.importers.nezha_traces import convert_traces
from tools.bundle.manifest import new_manifest

REFERENCE = "reference"
MAX_REFERENCE_CSV_BYTES = 256 * 1024 * 1024
FILES = ("logs.jsonl", "traces.jsonl", "metrics.csv", "manifest.json")


@dataclass(frozen=True)
class Reference:
    """One converted fault-free phase, ready to be linked into case bundles."""

    directory: Path  # the converted files (a staging directory under the output)
    source: str  # "construct_data/2023-01-29"
    window: tuple[float, float]
    warnings: tuple[str, ...]


def choose_reference(references: dict[str, Path], date: str) -> tuple[Path | None, str | None]:
    """The phase to use for ``date`` and a note when it is not that day's own."""
    if date in references:
        return references[date], None
    earlier = sorted(d for d in references if d < date)
    if not earlier:
        return None, None
    return references[earlier[-1]], (
        f"reference: no fault-free phase recorded on {date}; using the latest earlier one, "
        f"{earlier[-1]}"
    )


def missing_reference_note(date: str) -> str:
    return (
        f"reference: no construct_data/{date}/ (the fault-free phase) was given beside "
        f"rca_data/{date}/; the bundle has no reference/ telemetry"
    )


def build_reference(
    phase: Path,
    into: Path,
    day_metrics: tuple[Path, MetricStore] | None,
    name: str,
) -> tuple[Reference | None, list[str]]:
    """Convert the phase directory ``phase`` into ``into``; (None, why) when it has no window.

    ``day_metrics`` (the incident day's metric/ folder and its files, read) serves when
    ``phase`` has no metric/ of its own or the same files (as upstream ships them: each
    folder holds the whole day); ``name`` is the manifest's name.
    """
    issues = Issues()
    source = f"{phase.parent.name}/{phase.name}"
    into.mkdir(parents=True, exist_ok=True)
    valid = _day_bounds(phase.name)
    logs = convert_logs(_files(phase, "log", source, issues), into / "logs.jsonl", issues, valid)
    traces = convert_traces(
        _files(phase, "trace", source, issues),
        into / "traces.jsonl",
        issues,
        valid,
        logs.error_spans,
    )
    stamps = [t for t in (logs.first, logs.last, traces.first, traces.last) if t is not None]
    if not stamps:
        shutil.rmtree(into)
        return None, [
            f"reference: {source} has no usable logs or traces, so the fault-free phase's "
            "window is unknown; no reference/ written"
        ]
    store = _phase_metrics(phase / "metric", f"{source}/metric/", day_metrics)
    # closed-open, as every window: it ends a second past what it must hold
    window = (float(math.floor(min(stamps))), float(math.floor(max(stamps))) + 1.0)
    closing = store.next_stamp(window[1]) if store is not None else None
    if store is not None and closing is not None and closing - window[1] <= store.step:
        # the samples covering the phase's last minute: each file's (their stamps differ by a
        # second or two), half a step past the first, nothing of the minute after
        window = (window[0], closing + store.step / 2)
    metric_services: set[str] = set()
    if store is not None:
        with (into / "metrics.csv").open("w", encoding="utf-8", newline="") as sink:
            shared = day_metrics is not None and store is day_metrics[1]
            metric_services = store.write(sink, *window, issues, notes=not shared)
    for file, count in (
        ("logs.jsonl", logs.written),
        ("traces.jsonl", traces.written),
        ("metrics.csv", len(metric_services)),
    ):
        if not count and (into / file).exists():
            (into / file).unlink()
    services = sorted(logs.services | traces.services | metric_services)
    stats = {
        "log_records": logs.written,
        "spans": traces.written,
        "error_spans": traces.errors,
        "bad_lines_skipped": issues.skipped,
    }
    manifest = _manifest(name, source, window, services, stats)
    (into / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    warnings = [f"reference: {w}" for w in issues.as_tuple()]
    return Reference(into, source, window, tuple(warnings)), []


def attach_reference(reference: Reference, bundle: Path) -> Path:
    """``bundle/reference/`` holding the converted files: hard links, else copies."""
    target = bundle / REFERENCE
    target.mkdir()
    for name in FILES:
        source = reference.directory / name
        if source.is_file():
            try:
                os.link(source, target / name)
            except OSError:
                shutil.copyfile(source, target / name)
    return target


def overlapping(reference: Reference, moments: Sequence[datetime]) -> int:
    """How many of ``moments`` (the day's fault injections) lie in the reference window."""
    lo, hi = reference.window
    return sum(lo <= m.timestamp() <= hi for m in moments)


def _phase_metrics(
    folder: Path, prefix: str, day: tuple[Path, MetricStore] | None
) -> MetricStore | None:
    if not folder.is_dir():
        return day[1] if day is not None else None
    if day is not None and _same_files(folder, day[0]):
        return day[1]
    return load_metrics(folder, prefix)


def _same_files(one: Path, other: Path) -> bool:
    names = sorted(p.name for p in one.glob("*.csv"))
    if names != sorted(p.name for p in other.glob("*.csv")):
        return False
    return all(filecmp.cmp(one / n, other / n, shallow=False) for n in names)


def _files(phase: Path, kind: str, source: str, issues: Issues) -> list[tuple[Path, str]]:
    chosen: list[tuple[Path, str]] = []
    budget = MAX_REFERENCE_CSV_BYTES // 2  # half for logs, half for traces
    for path in sorted((phase / kind).glob("*.csv")) if (phase / kind).is_dir() else []:
        size = path.stat().st_size
        if size > budget:
            issues.note(
                f"{source}/{kind}/{path.name}: over the reference's size bound "
                f"({MAX_REFERENCE_CSV_BYTES // 2**20} MiB of CSV); left out with any later file"
            )
            break
        budget -= size
        chosen.append((path, f"{source}/{kind}/{path.name}"))
    if not chosen:
        issues.note(f"{source}/{kind}/: no files; the reference has no {kind}s")
    return chosen


def _day_bounds(name: str) -> tuple[float, float]:
    """Plausible record times for a phase directory named like ``2023-01-29``."""
    try:
        day = datetime.strptime(name, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return 0.0, math.inf
    return (day - timedelta(hours=12)).timestamp(), (day + timedelta(hours=36)).timestamp()


def _manifest(
    name: str,
    source: str,
    window: tuple[float, float],
    services: list[str],
    stats: dict[str, int],
) -> dict[str, Any]:
    def iso(seconds: float) -> str:
        return iso_utc_seconds(datetime.fromtimestamp(seconds, UTC))

    return new_manifest(
        name=name,
        source=f"{source} (the fault-free phase), imported by rcabot import nezha",
        window=(iso(window[0]), iso(window[1])),
        services=services,
        description="The same system while healthy, recorded for learning normal "
        "behaviour: logs and traces of the phase, per-pod metrics of its minutes.",
        stats=stats,
    )
