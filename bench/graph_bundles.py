"""Bundles with only metrics and something derived from their spans: the service graph, what a
team exporting the OpenTelemetry Collector's servicegraph connector (or a mesh's call figures)
has in Prometheus without reading its traces (``tools.analysis.service_graph``); or a service
map, who calls whom as a service catalogue lists it (``tools.service_map``)."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

from tools.analysis.call_edges import SERVER_LABEL
from tools.analysis.service_graph import service_graph
from tools.bundle.reader import load_bundle
from tools.records import Span
from tools.service_map import FILE_NAME, write_service_map

# what metrics-only bundles lack (a service map too: its own variant adds it)
NOT_METRICS = ("logs.jsonl", "traces.jsonl", "changes.jsonl", "service_map.csv")


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _append_graph(metrics_csv: Path, spans: list[Span]) -> None:
    """Add the service graph of ``spans`` to ``metrics_csv`` (a ``server`` column where the
    file has none)."""
    with metrics_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    if SERVER_LABEL not in header:
        header = [*header, SERVER_LABEL]
        body = [[*row, ""] for row in body if row]
    column = {name: i for i, name in enumerate(header)}
    for series in service_graph(spans):
        for t, v in zip(series.timestamps, series.values, strict=True):
            row = [""] * len(header)
            row[column["timestamp"]] = _stamp(t)
            row[column["service"]] = series.service
            row[column["metric"]] = series.metric
            row[column["value"]] = repr(v)
            row[column[SERVER_LABEL]] = series.labels[SERVER_LABEL]
            body.append(row)
    with metrics_csv.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *body])


def with_service_graph(bundle: Path, into: Path) -> Path:
    """A copy of ``bundle`` at ``into`` with logs, traces and changes removed and the service
    graph of its spans (and of its reference's) in its ``metrics.csv``. A bundle whose metrics
    are not a ``metrics.csv`` (``metrics.om``) keeps them as they are, without a graph."""
    loaded = load_bundle(bundle)
    shutil.copytree(bundle, into, ignore=shutil.ignore_patterns(*NOT_METRICS))
    if loaded.spans and (into / "metrics.csv").is_file():
        _append_graph(into / "metrics.csv", loaded.spans)
    reference = loaded.reference
    if reference is not None and reference.spans and (into / "reference" / "metrics.csv").is_file():
        _append_graph(into / "reference" / "metrics.csv", reference.spans)
    return into


def with_service_map(bundle: Path, into: Path) -> Path:
    """A copy of ``bundle`` at ``into`` with logs, traces and changes removed and a service
    map: the bundle's own ``service_map.csv`` where it has one (Nezha's OnlineBoutique days
    ship one), else every caller → callee its spans (and its reference's) show."""
    loaded = load_bundle(bundle)
    shutil.copytree(bundle, into, ignore=shutil.ignore_patterns(*NOT_METRICS))
    if loaded.service_map is not None:
        pairs = loaded.service_map.pairs
    else:
        spans = [*(loaded.spans or []), *(loaded.reference.spans or [] if loaded.reference else [])]
        pairs = [(s.service, s.labels[SERVER_LABEL]) for s in service_graph(spans)]
    write_service_map(into / FILE_NAME, pairs)
    return into
