"""Nezha ``metric/*.csv`` files → bundle ``metrics.csv`` rows (read once, sliced per case).

Per-pod files (``<pod>_metric.csv``, one row a minute for the whole day) map to:

| Nezha column | bundle metric | conversion |
|---|---|---|
| ``CpuUsageRate(%)`` | ``cpu_usage_ratio`` | ÷ 100, clamped to [0, 1] (peaks of 100.2 % occur) |
| ``MemoryUsageRate(%)`` | ``memory_usage_ratio`` | ÷ 100 |
| ``MemoryUsage(Mi)`` | ``memory_usage_bytes`` | × 2^20 |
| ``PodServerLatencyP90/95/99(s)`` | ``latency_p90/p95/p99_seconds`` | NaN (no traffic) = gap |
| ``PodWorkload(Ops)`` | ``requests_per_second`` | none: it is a per-second rate |
| ``PodSuccessRate(%)`` | ``error_ratio`` | 1 − rate/100 where workload > 0 |

``PodSuccessRate(%)`` is only trusted in a file where some sample with traffic has a rate
above 0; on 2023-01-29 it is 0 in every sample of every pod (also under traffic, while the
traces show requests succeeding), so no ``error_ratio`` is written and a note says so. Client
latencies (3600 s sentinels), syscall/network counters and node-level columns are left out.

``front_service.csv`` (``ServiceName`` = ``Frontend``) holds the user-facing latency; its P90
and P99 equal ``PodServerLatencyP90/P99`` of one pod (``ts-ui-dashboard`` on 2023-01-29), found
by comparing the series, so its rows are written under that pod's service and only the P50
(which no pod file has) is added. Its ``SuccessRate(%)`` is 0 throughout and gets the same
treatment as ``PodSuccessRate(%)``. CPU and memory columns that are 0 in every sample of a
file were not collected for that pod and are left out too.
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from bot.importers.nezha_issues import Issues
from bot.importers.nezha_layout import service_of
from bot.importers.nezha_time import iso_utc_seconds

FRONT_FILE = "front_service.csv"
FALLBACK_FRONT_SERVICE = "frontend"
HEADER = ("timestamp", "service", "metric", "value", "instance")
_MIB = 1024 * 1024


def _ratio(value: float) -> float:
    if value < 0:
        raise ValueError(f"negative percentage {value}")
    return min(value / 100.0, 1.0)


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"negative value {value}")
    return value


POD_COLUMNS: dict[str, tuple[str, Callable[[float], float]]] = {
    "CpuUsageRate(%)": ("cpu_usage_ratio", _ratio),
    "MemoryUsageRate(%)": ("memory_usage_ratio", _ratio),
    "MemoryUsage(Mi)": ("memory_usage_bytes", lambda v: _non_negative(v) * _MIB),
    "PodServerLatencyP90(s)": ("latency_p90_seconds", _non_negative),
    "PodServerLatencyP95(s)": ("latency_p95_seconds", _non_negative),
    "PodServerLatencyP99(s)": ("latency_p99_seconds", _non_negative),
    "PodWorkload(Ops)": ("requests_per_second", _non_negative),
}
FRONT_COLUMNS: dict[str, tuple[str, Callable[[float], float]]] = {
    "LatencyP50(s)": ("latency_p50_seconds", _non_negative),
    "LatencyP90(s)": ("latency_p90_seconds", _non_negative),
    "LatencyP95(s)": ("latency_p95_seconds", _non_negative),
    "LatencyP99(s)": ("latency_p99_seconds", _non_negative),
}
_NEVER_ZERO = frozenset({"cpu_usage_ratio", "memory_usage_ratio", "memory_usage_bytes"})
_FRONT_ONLY = frozenset({"latency_p50_seconds"})  # what no pod file already has
SUCCESS_POD, WORKLOAD_POD, SUCCESS_FRONT = "PodSuccessRate(%)", "PodWorkload(Ops)", "SuccessRate(%)"

Sample = tuple[str, float]  # (metric, value)


@dataclass
class Series:
    """All samples of one metric file: ``rows[i]`` were taken at ``stamps[i]`` (ascending)."""

    service: str
    instance: str
    stamps: list[float] = field(default_factory=list)
    rows: list[list[Sample]] = field(default_factory=list)

    def value_at(self, metric: str) -> dict[int, float]:
        """``{minute: value}`` of ``metric``."""
        return {
            int(ts // 60): v
            for ts, row in zip(self.stamps, self.rows, strict=True)
            for name, v in row
            if name == metric
        }

    def between(self, start: float, end: float) -> Iterator[tuple[float, list[Sample]]]:
        lo, hi = bisect_left(self.stamps, start), bisect_right(self.stamps, end)
        yield from zip(self.stamps[lo:hi], self.rows[lo:hi], strict=True)


@dataclass
class MetricStore:
    """Every metric file of a day, converted; ``write`` slices it for one case."""

    pods: list[Series] = field(default_factory=list)
    front: Series | None = None
    front_latency: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    line_issues: list[tuple[float | None, str, int, str]] = field(default_factory=list)

    @property
    def front_service(self) -> str | None:
        return self.front.service if self.front else None

    def write(self, sink: IO[str], start: float, end: float, issues: Issues) -> set[str]:
        """Write the rows in [start, end] to ``sink`` (header included); return the services."""
        writer = csv.writer(sink, lineterminator="\n")
        writer.writerow(HEADER)
        services: set[str] = set()
        for series in [*self.pods, *([self.front] if self.front else [])]:
            for ts, row in series.between(start, end):
                stamp = iso_utc_seconds(datetime.fromtimestamp(ts, UTC))
                for metric, value in row:
                    writer.writerow((stamp, series.service, metric, repr(value), series.instance))
                if row:
                    services.add(series.service)
        issues.extend(self.notes)
        for when, file, line, reason in self.line_issues:
            if when is None or start <= when <= end:
                issues.skip(file, line, reason)
        return services


def load_metrics(metric_dir: Path, prefix: str) -> MetricStore:
    """Read every ``*_metric.csv`` and ``front_service.csv`` under ``metric_dir`` once."""
    store = MetricStore()
    dead: list[str] = []
    for path in sorted(metric_dir.glob("*_metric.csv")):
        pod = path.name.removesuffix("_metric.csv")
        series = Series(service=service_of(pod), instance=pod)
        if _read(path, prefix + path.name, POD_COLUMNS, series, store, dead):
            store.pods.append(series)
    if dead:
        store.notes.append(
            f"metric: {SUCCESS_POD} is 0 in every sample with traffic in {len(dead)} of "
            f"{len(store.pods)} pod files (e.g. {dead[0]}): treated as missing, no error_ratio "
            "written for those pods"
        )
    front_path = metric_dir / FRONT_FILE
    if front_path.is_file():
        _load_front(front_path, prefix + FRONT_FILE, store)
    else:
        store.notes.append(f"{prefix}{FRONT_FILE}: missing; no front-end latency")
    return store


def _load_front(path: Path, name: str, store: MetricStore) -> None:
    front = Series(service=FALLBACK_FRONT_SERVICE, instance="")
    dead: list[str] = []
    if not _read(path, name, FRONT_COLUMNS, front, store, dead):
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
        front.rows = [
            [(m, v) for m, v in row if m in _FRONT_ONLY or m == "error_ratio"] for row in front.rows
        ]
    else:
        store.notes.append(
            f"{name}: no pod's server latency matches it; written as service "
            f"{FALLBACK_FRONT_SERVICE!r}"
        )
    if dead:
        store.notes.append(
            f"{name}: {SUCCESS_FRONT} is 0 in every sample: treated as missing, "
            "no front-end error_ratio written"
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


def _read(
    path: Path,
    name: str,
    columns: dict[str, tuple[str, Callable[[float], float]]],
    series: Series,
    store: MetricStore,
    dead: list[str],
) -> bool:
    """Fill ``series`` from ``path``; False (with a note) when the file is unusable."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            header = None
            store.notes.append(f"{name}:1: unreadable header ({exc}); file skipped")
        if header is None or ("TimeStamp" not in header and "Time" not in header):
            store.notes.append(f"{name}:1: no TimeStamp/Time column; file skipped")
            return False
        index = {c: i for i, c in enumerate(header)}
        wanted = [
            (index[c], metric, convert) for c, (metric, convert) in columns.items() if c in index
        ]
        success = index.get(SUCCESS_POD, index.get(SUCCESS_FRONT))
        workload = index.get(WORKLOAD_POD)
        rates: list[tuple[int, float, float]] = []  # (row index, success %, workload)
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
            samples: list[Sample] = []
            for i, metric, convert in wanted:
                try:
                    value = float(row[i])
                    if not math.isnan(value):
                        samples.append((metric, convert(value)))
                except ValueError as exc:
                    store.line_issues.append((ts, name, line, f"{header[i]}: {exc}"))
            if success is not None:
                rate = _float(row[success])
                load = _float(row[workload]) if workload is not None else 1.0
                if rate is not None and load is not None and load > 0:
                    rates.append((len(series.rows), rate, load))
            series.stamps.append(ts)
            series.rows.append(samples)
    _add_error_ratio(series, rates, name, dead)
    _drop_uncollected(series, name, store)
    _sort(series)
    return True


def _drop_uncollected(series: Series, name: str, store: MetricStore) -> None:
    """Remove resource metrics that are 0 in every sample: they were not collected (on
    2023-01-29 CPU and memory of ts-avatar-service and ts-security-service, whose container
    is not named like the others)."""
    present = {m for row in series.rows for m, _ in row if m in _NEVER_ZERO}
    nonzero = {m for row in series.rows for m, v in row if m in _NEVER_ZERO and v != 0}
    if dead := sorted(present - nonzero):
        series.rows = [[(m, v) for m, v in row if m not in dead] for row in series.rows]
        store.notes.append(
            f"{name}: {', '.join(dead)}: 0 in every sample (not collected); left out"
        )


def _add_error_ratio(
    series: Series, rates: list[tuple[int, float, float]], name: str, dead: list[str]
) -> None:
    if not rates:
        return
    if not any(rate > 0 for _, rate, _ in rates):
        dead.append(name)
        return
    for row, rate, _ in rates:
        if 0 <= rate <= 100:
            series.rows[row].append(("error_ratio", 1.0 - rate / 100.0))


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


def _sort(series: Series) -> None:
    if any(a > b for a, b in zip(series.stamps, series.stamps[1:], strict=False)):
        order = sorted(range(len(series.stamps)), key=series.stamps.__getitem__)
        series.stamps = [series.stamps[i] for i in order]
        series.rows = [series.rows[i] for i in order]
