"""Read a bundle's metrics: ``metrics.csv`` (long format) and ``metrics.om`` (OpenMetrics text),
each sample checked against the unit its metric's name states (``tools/bundle/FORMAT.md``)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from tools.bundle import fields
from tools.bundle.fields import LineError
from tools.bundle.file_report import FileReport, fail_if_all_bad
from tools.bundle.files import numbered_lines, parsed_rows, present
from tools.bundle.openmetrics import read_openmetrics
from tools.bundle.timestamps import parse_timestamp
from tools.errors import BundleError
from tools.records import MetricSeries


def check_unit(metric: str, value: float) -> None:
    """Raise :class:`LineError` for a value that cannot be in the unit the name states."""
    if value != value:  # NaN: a gap, not an error
        return
    if not abs(value) <= fields.MAX_VALUE:
        raise LineError(f"{metric} value {value} is not a usable number")
    if metric.endswith("_ratio") and not -1e-9 <= value <= 1 + 1e-9:
        raise LineError(f"{metric} must be a ratio in [0, 1], got {value} (a percentage?)")
    if metric.endswith(("_seconds", "_bytes", "_per_second")) and value < 0:
        raise LineError(f"{metric} cannot be negative, got {value}")


def read_metrics(path: Path, files: list[FileReport]) -> list[MetricSeries] | None:
    csv_path, om_path = path / "metrics.csv", path / "metrics.om"
    has_csv, has_om = present(csv_path), present(om_path)
    if not has_csv and not has_om:
        return None
    points: dict[SeriesKey, list[tuple[float, float]]] = {}
    if has_csv:
        report = FileReport(csv_path.name)
        files.append(report)
        _read_metrics_csv(csv_path, report, points)
        fail_if_all_bad(csv_path, report)
    if has_om:
        report = FileReport(om_path.name)
        files.append(report)
        for number, sample in read_openmetrics(om_path, report.skip):
            try:
                check_unit(sample.metric, sample.value)
            except LineError as exc:
                report.skip(number, str(exc))
                continue
            labels = tuple(sorted(sample.labels.items()))
            points.setdefault((sample.metric, sample.service, labels), []).append(
                (sample.timestamp, sample.value)
            )
            report.read += 1
        fail_if_all_bad(om_path, report)
    return series_of(points)


SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]  # metric, service, sorted labels


def series_of(points: Mapping[SeriesKey, list[tuple[float, float]]]) -> list[MetricSeries]:
    """One :class:`MetricSeries` per key, its samples in time order (sorted in place)."""
    out: list[MetricSeries] = []
    for (metric, service, labels), samples in sorted(points.items()):
        samples.sort()
        shown = MappingProxyType(dict(labels))
        out.append(MetricSeries.of_samples(metric, service, samples, shown))
    return out


def _read_metrics_csv(
    path: Path,
    report: FileReport,
    points: dict[SeriesKey, list[tuple[float, float]]],
) -> None:
    reader = csv.reader(line for _, line in numbered_lines(path, report.skip))
    required = ("timestamp", "service", "metric", "value")
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BundleError(f"{path}:1: bad header: {exc}") from exc
    if header is None or any(col not in header for col in required):
        shown = None if header is None else [h[:40] for h in header[:20]]
        raise BundleError(f"{path}:1: header must contain {', '.join(required)}; got {shown}")
    index = {name: i for i, name in enumerate(header)}
    extra = [name for name in header if name not in required]
    # every series shares the same few sampling instants: each is parsed once
    stamps: dict[str, tuple[float, str | None]] = {}
    for row in parsed_rows(reader, report.skip):  # e.g. a field over csv.field_size_limit()
        number = reader.line_num
        if not row:
            continue
        try:
            if len(row) != len(header):
                raise LineError(f"expected {len(header)} columns, got {len(row)}")
            stamp = row[index["timestamp"]]
            if stamp not in stamps:
                moment, unit = parse_timestamp(stamp)
                stamps[stamp] = (moment.timestamp(), unit)
            at, unit = stamps[stamp]
            if unit:
                report.units.add(unit)
            metric, service = row[index["metric"]], row[index["service"]]
            if not metric or not service:
                raise LineError("empty metric or service")
            if len(metric) > fields.MAX_NAME or len(service) > fields.MAX_NAME:
                raise LineError(f"metric or service name over {fields.MAX_NAME} characters")
            value = fields.number(row[index["value"]], "value", nan_ok=True)
            check_unit(metric, value)
        except ValueError as exc:  # LineError, a bad timestamp
            report.skip(number, str(exc))
            continue
        labels = tuple(sorted((k, row[index[k]][: fields.MAX_ID]) for k in extra if row[index[k]]))
        points.setdefault((metric, service, labels), []).append((at, value))
        report.read += 1
