"""Nezha's per-edge call latencies (``metric/source_50.csv``, ``metric/destination_50.csv``) →
the bundle's call-edge series.

Nezha's OnlineBoutique days carry, beside the per-pod files, the median duration of the calls
on each client → server edge, one row a minute, as each end of the call measured it: Istio's
``istio_request_duration_milliseconds`` with ``reporter="source"`` (the client's proxy) in
``source_50.csv`` and ``reporter="destination"`` (the server's proxy) in
``destination_50.csv``; one column per edge, named ``<client>_<server>``, in seconds.

They become the client's series labelled with the ``server`` it calls
(``tools/bundle/FORMAT.md``, "Calls between services"):

| file | bundle metric (label ``server``) | unit | conversion |
|---|---|---|---|
| ``source_50.csv`` | ``call_client_latency_p50_seconds`` | s | none; NaN, empty = gap (a) |
| ``destination_50.csv`` | ``call_server_latency_p50_seconds`` | s | none; NaN, empty = gap (a) |

(a) A histogram quantile, like the pods' latencies: the 3,600 s ceiling is a gap too. An empty
    cell is a minute without a call on that edge.

What they add: a delay on a pod's network is outside both proxies' view of its own requests
(the pod's ``PodServerLatency`` is measured after the delay), but the client's median of the
calls into it grows while the server's does not. On 2022-08-22 05:43 (emailservice's network
delayed) ``checkoutservice_emailservice`` went from 3 ms to 750 ms in ``source_50.csv`` and
stayed at 3 ms in ``destination_50.csv``; no pod file shows it.

A column is split into the client and server by the day's services (the pods' files): the one
split whose halves are both services, else the only ``_`` in it; anything else is left out
with a warning. The TrainTicket days have no such files; nothing is written for them.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from bot.importers.nezha_kpis import HISTOGRAM_CEILING_S
from bot.importers.nezha_series import Series

EDGE_FILES = {  # file → bundle metric (tools/analysis/call_edges.py)
    "source_50.csv": "call_client_latency_p50_seconds",
    "destination_50.csv": "call_server_latency_p50_seconds",
}
TIME_COLUMNS = frozenset({"time", "timestamp"})


class EdgeFindings:
    """What reading the edge files found: series (the client's, with the ``server`` it calls;
    one metric each), and notes (one per finding, not per line)."""

    def __init__(self) -> None:
        self.series: list[Series] = []
        self.notes: list[str] = []
        self.line_issues: list[tuple[str, int, str]] = []  # (file, line, reason)


def split_edge(column: str, services: set[str]) -> tuple[str, str] | None:
    """``<client>_<server>`` → (client, server): the split whose halves are both ``services``,
    else the only ``_``; ``None`` when neither names one edge."""
    cuts = [i for i, c in enumerate(column) if c == "_"]
    known = [
        (column[:i], column[i + 1 :])
        for i in cuts
        if column[:i] in services and column[i + 1 :] in services
    ]
    if len(known) == 1:
        return known[0]
    if not known and len(cuts) == 1 and 0 < cuts[0] < len(column) - 1:
        return column[: cuts[0]], column[cuts[0] + 1 :]
    return None


def load_edges(metric_dir: Path, prefix: str, services: set[str]) -> EdgeFindings:
    """Read the day's edge files under ``metric_dir`` (none: nothing, no note)."""
    found = EdgeFindings()
    for file, metric in EDGE_FILES.items():
        path = metric_dir / file
        if path.is_file():
            _read(path, prefix + file, metric, services, found)
    return found


def _read(path: Path, name: str, metric: str, services: set[str], found: EdgeFindings) -> None:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        rows = csv.reader(handle)
        try:
            header = [c.strip() for c in next(rows, [])]
        except csv.Error as exc:
            found.notes.append(f"{name}:1: unreadable header ({exc}); file skipped")
            return
        lowered = [c.lower() for c in header]
        if "timestamp" not in lowered:
            found.notes.append(f"{name}:1: no timestamp column; file skipped")
            return
        stamp_at = lowered.index("timestamp")
        columns = _edge_columns(header, name, services, found)
        ceilings = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                found.line_issues.append((name, rows.line_num, f"malformed row ({exc})"))
                continue
            if row:
                problem, at_ceiling = _add_row(row, len(header), stamp_at, metric, columns)
                ceilings += at_ceiling
                if problem:
                    found.line_issues.append((name, rows.line_num, problem))
    if ceilings:
        found.notes.append(
            f"{name}: {ceilings} samples at the {HISTOGRAM_CEILING_S:.0f} s histogram ceiling "
            "(above the last bucket) written as gaps"
        )
    for _, series in columns:
        if series.stamps:
            series.sort()
            found.series.append(series)


def _edge_columns(
    header: list[str], name: str, services: set[str], found: EdgeFindings
) -> list[tuple[int, Series]]:
    columns: list[tuple[int, Series]] = []
    for i, column in enumerate(header):
        if not column or column.lower() in TIME_COLUMNS:
            continue
        edge = split_edge(column, services)
        if edge is None:
            found.notes.append(
                f"{name}: column {column!r} is not <client>_<server> of one edge; left out"
            )
        else:
            client, server = edge
            columns.append((i, Series(service=client, instance="", server=server)))
    return columns


def _add_row(
    row: list[str], width: int, stamp_at: int, metric: str, columns: list[tuple[int, Series]]
) -> tuple[str | None, int]:
    """Add one row's samples; (what was wrong with the row or a cell, samples at the ceiling)."""
    if len(row) != width:
        return f"expected {width} columns, got {len(row)}", 0
    try:
        stamp = float(int(row[stamp_at]))
    except ValueError:
        return "unparsable timestamp", 0
    problems: list[str] = []
    ceilings = 0
    for i, series in columns:
        text = row[i].strip()
        try:
            value = float(text) if text else math.nan
        except ValueError:
            problems.append(f"{series.service}_{series.server}: not a number {text!r}")
            continue
        if math.isnan(value):
            continue
        if value < 0:
            problems.append(f"{series.service}_{series.server}: negative latency {value}")
        elif value >= HISTOGRAM_CEILING_S:
            ceilings += 1
        else:
            series.stamps.append(stamp)
            series.rows.append([(metric, value)])
    return ("; ".join(problems) or None), ceilings
