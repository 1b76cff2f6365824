"""Nezha ``metric/*.csv`` files → bundle ``metrics.csv`` rows (read once a day, sliced per case).

What each column becomes — name, unit, conversion, sentinels — is the table in
:mod:`bot.importers.nezha_kpis`. This module reads the files once, leaves out what was not
collected (with one warning per column, not per file), names the nodes, and writes the rows
of one time window: a case's, or its reference phase's.

``front_service.csv`` holds the user-facing latency; its P90 and P99 equal
``PodServerLatencyP90/P99`` of one pod (``ts-ui-dashboard`` on 2023-01-29), found by comparing
the series, so its rows are written under that pod's service and only the P50 (which no pod
file has) is added. When no pod matches, it is written as the service ``frontend``.
"""

from __future__ import annotations

import csv
import math
import statistics
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from bot.importers.nezha_edges import load_edges
from bot.importers.nezha_issues import Issues
from bot.importers.nezha_kpis import (
    FRONT_KPIS,
    HISTOGRAM_CEILING_S,
    META_COLUMNS,
    NODE_METRICS,
    POD_KPIS,
    WORKLOAD_COLUMN,
    Kpi,
)
from bot.importers.nezha_layout import service_of
from bot.importers.nezha_series import Sample, Series
from bot.importers.nezha_time import iso_utc_seconds

FRONT_FILE = "front_service.csv"
FALLBACK_FRONT_SERVICE = "frontend"
HEADER = ("timestamp", "service", "metric", "value", "instance", "node")
SERVER_COLUMN = "server"  # the callee of a call-edge series (bot.importers.nezha_edges)
DEFAULT_STEP_S = 60.0  # a file with fewer than two samples: Nezha's resolution
_FRONT_ONLY = frozenset({"latency_p50_seconds", "error_ratio"})  # what no pod file already has


@dataclass
class _Findings:
    """What reading a day's files found, summed over files so each finding is one warning."""

    files: int = 0
    not_collected: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    untrusted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    ceilings: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unknown: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def notes(self, prefix: str) -> list[str]:
        out = [
            f"{prefix}{column} is 0 in every sample with traffic in {len(names)} of "
            f"{self.files} files (e.g. {names[0]}): treated as missing, no error_ratio "
            "written for those"
            for column, names in sorted(self.untrusted.items())
        ]
        out += [
            f"{prefix}{column} is 0 in every sample of {len(names)} of {self.files} files "
            f"(e.g. {names[0]}): not collected there, left out"
            for column, names in sorted(self.not_collected.items())
        ]
        out += [
            f"{prefix}{column}: {count} samples at the {HISTOGRAM_CEILING_S:.0f} s histogram "
            "ceiling (above the last bucket) written as gaps"
            for column, count in sorted(self.ceilings.items())
        ]
        out += [
            f"{prefix}column {column!r} of {len(names)} files is not a known Nezha KPI; left out"
            for column, names in sorted(self.unknown.items())
        ]
        return out


@dataclass
class MetricStore:
    """Every metric file of a day, converted; ``write`` slices it for one window."""

    pods: list[Series] = field(default_factory=list)
    front: Series | None = None
    edges: list[Series] = field(default_factory=list)  # per client → server call (``server``)
    front_latency: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    line_issues: list[tuple[float | None, str, int, str]] = field(default_factory=list)
    step: float = DEFAULT_STEP_S  # the median spacing of the samples

    @property
    def front_service(self) -> str | None:
        return self.front.service if self.front else None

    def next_stamp(self, moment: float) -> float | None:
        """The earliest sample time at or after ``moment`` in any file (None: none)."""
        after = [
            series.stamps[i]
            for series in [*self.pods, *([self.front] if self.front else [])]
            if (i := bisect_left(series.stamps, moment)) < len(series.stamps)
        ]
        return min(after, default=None)

    def write(
        self, sink: IO[str], start: float, end: float, issues: Issues, *, notes: bool = True
    ) -> set[str]:
        """Write the rows in [start, end] to ``sink`` (header included); return the services.

        The file-level ``notes`` go to ``issues`` too unless told (already reported)."""
        writer = csv.writer(sink, lineterminator="\n")
        edge_column = (SERVER_COLUMN,) if self.edges else ()
        writer.writerow((*HEADER, *edge_column))
        services: set[str] = set()
        for series in [*self.pods, *([self.front] if self.front else []), *self.edges]:
            server = (series.server,) if edge_column else ()  # "": a service's own series
            for ts, row in series.between(start, end):
                stamp = iso_utc_seconds(datetime.fromtimestamp(ts, UTC))
                for metric, value in row:
                    node = series.node if metric in NODE_METRICS else ""
                    writer.writerow(
                        (stamp, series.service, metric, repr(value), series.instance, node, *server)
                    )
                if row and not series.server:
                    services.add(series.service)
        if notes:
            issues.extend(self.notes)
        for when, file, line, reason in self.line_issues:
            if when is None or start <= when <= end:
                issues.skip(file, line, reason)
        return services


def load_metrics(metric_dir: Path, prefix: str) -> MetricStore:
    """Read every ``*_metric.csv`` and ``front_service.csv`` under ``metric_dir`` once;
    ``prefix`` (``"metric/"``) names the files in warnings."""
    store = MetricStore()
    found = _Findings()
    steps: list[float] = []
    for path in sorted(metric_dir.glob("*_metric.csv")):
        pod = path.name.removesuffix("_metric.csv")
        series = Series(service=service_of(pod), instance=pod)
        if _read(path, prefix + path.name, POD_KPIS, series, store, found):
            store.pods.append(series)
            steps += [b - a for a, b in zip(series.stamps, series.stamps[1:], strict=False)]
    if steps:
        store.step = statistics.median(steps) or DEFAULT_STEP_S
    _name_nodes(store.pods)
    edges = load_edges(metric_dir, prefix, {series.service for series in store.pods})
    store.edges = edges.series
    store.notes += edges.notes
    store.line_issues += [(None, file, line, why) for file, line, why in edges.line_issues]
    front_path = metric_dir / FRONT_FILE
    if front_path.is_file():
        _load_front(front_path, prefix + FRONT_FILE, store, found)
    else:
        store.notes.append(f"{prefix}{FRONT_FILE}: missing; no front-end latency")
    store.notes[:0] = found.notes(prefix.rstrip("/") + ": ")
    return store


def _load_front(path: Path, name: str, store: MetricStore, found: _Findings) -> None:
    front = Series(service=FALLBACK_FRONT_SERVICE, instance="")
    if not _read(path, name, FRONT_KPIS, front, store, found):
        return
    store.front_latency = {
        q: [
            (ts, v)
            for ts, row in zip(front.stamps, front.rows, strict=True)
            for m, v in row
            if m == f"latency_{q}_seconds"
        ]
        for q in ("p90", "p99")
    }
    twin = _matching_pod(front, store.pods)
    if twin is not None:
        front.service = twin.service
        front.rows = [[(m, v) for m, v in row if m in _FRONT_ONLY] for row in front.rows]
    else:
        store.notes.append(
            f"{name}: no pod's server latency matches it; written as service "
            f"{FALLBACK_FRONT_SERVICE!r}"
        )
    store.front = front


def _matching_pod(front: Series, pods: list[Series]) -> Series | None:
    """The pod whose server P90 latency equals the front P90 in ≥ 90 % of shared minutes."""
    wanted = front.value_at("latency_p90_seconds")
    best, best_share = None, 0.9
    for series in pods:
        mine = series.value_at("latency_p90_seconds")
        shared = [m for m in wanted if m in mine]
        if len(shared) < 10:
            continue
        share = sum(math.isclose(wanted[m], mine[m], abs_tol=1e-9) for m in shared) / len(shared)
        if share >= best_share:
            best, best_share = series, share
    return best


def _name_nodes(pods: list[Series]) -> None:
    """Pods whose node_* series are identical all day run on one node: ``node-1``, ..."""
    names: dict[tuple[tuple[tuple[str, str], ...], ...], str] = {}
    for series in pods:
        # files are sampled a second or two apart and the same query sums in another order
        # (differences of 1e-14): compare values to 9 digits, not stamps
        signature = tuple(
            samples
            for row in series.rows
            if (samples := tuple(sorted((m, f"{v:.9g}") for m, v in row if m in NODE_METRICS)))
        )
        if signature:
            series.node = names.setdefault(signature, f"node-{len(names) + 1}")


def _read(
    path: Path,
    name: str,
    kpis: dict[str, Kpi],
    series: Series,
    store: MetricStore,
    found: _Findings,
) -> bool:
    """Fill ``series`` from ``path``; False (with a note) when the file is unusable."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            store.notes.append(f"{name}:1: unreadable header ({exc}); file skipped")
            return False
        if header is None or ("TimeStamp" not in header and "Time" not in header):
            store.notes.append(f"{name}:1: no TimeStamp/Time column; file skipped")
            return False
        index = {c: i for i, c in enumerate(header)}
        wanted = [(index[c], c, kpi) for c, kpi in kpis.items() if c in index]
        for column in header:
            if column not in kpis and column not in META_COLUMNS:
                found.unknown[column].append(name)
        workload = index.get(WORKLOAD_COLUMN)
        offered: set[str] = set()  # needs_traffic metrics with a sample under traffic
        trusted: set[str] = set()  # ... and with some value above 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                store.line_issues.append((None, name, reader.line_num, f"malformed row ({exc})"))
                continue
            if not row:
                continue
            line = reader.line_num
            if len(row) != len(header):
                store.line_issues.append(
                    (None, name, line, f"expected {len(header)} columns, got {len(row)}")
                )
                continue
            ts = _row_time(row, index)
            if ts is None:
                store.line_issues.append((None, name, line, "unparsable TimeStamp/Time"))
                continue
            busy = workload is None or (_float(row[workload]) or 0.0) > 0
            samples: list[Sample] = []
            for i, column, kpi in wanted:
                try:
                    value = float(row[i])
                    if math.isnan(value) or (kpi.needs_traffic and not busy):
                        continue
                    converted = kpi.convert(value)
                except ValueError as exc:
                    store.line_issues.append((ts, name, line, f"{column}: {exc}"))
                    continue
                if converted is None:
                    found.ceilings[column] += 1
                    continue
                if kpi.needs_traffic:
                    offered.add(kpi.metric)
                    if value > 0:
                        trusted.add(kpi.metric)
                samples.append((kpi.metric, converted))
            series.stamps.append(ts)
            series.rows.append(samples)
    found.files += 1
    series.sort()
    _finish(series, name, [(c, k) for _, c, k in wanted], offered - trusted, found)
    return True


def _finish(
    series: Series,
    name: str,
    columns: list[tuple[str, Kpi]],
    untrusted: set[str],
    found: _Findings,
) -> None:
    """Per-step counts → rates; drop untrusted and never-collected metrics (noted once)."""
    gaps = [b - a for a, b in zip(series.stamps, series.stamps[1:], strict=False)]
    step = statistics.median(gaps) if gaps else DEFAULT_STEP_S
    per_step = {k.metric for _, k in columns if k.per_step}
    if per_step and step > 0:
        series.rows = [[(m, v / step if m in per_step else v) for m, v in r] for r in series.rows]
    nonzero = {m for row in series.rows for m, v in row if v != 0}
    present = {m for row in series.rows for m, _ in row}
    dropped: set[str] = set()
    for column, kpi in columns:
        if kpi.needs_traffic:
            if kpi.metric in untrusted:
                found.untrusted[column].append(name)
                dropped.add(kpi.metric)
        elif not kpi.zero_is_data and kpi.metric in present - nonzero:
            found.not_collected[column].append(name)
            dropped.add(kpi.metric)
    if dropped:
        series.drop(dropped)


def _row_time(row: list[str], index: dict[str, int]) -> float | None:
    if "TimeStamp" in index:
        try:
            return float(int(row[index["TimeStamp"]]))
        except ValueError:
            pass
    if "Time" in index:  # "2023-01-29 08:41:09.043078357 +0000 UTC m=+0.119240217"
        try:
            text = row[index["Time"]][:19]
            return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
        except ValueError:
            pass
    return None


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value
