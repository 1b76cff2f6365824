"""Read a telemetry bundle directory (format: ``tools/bundle/FORMAT.md``).

Bad lines are skipped and counted, each with a warning naming file and line; a file in which
every data line is bad raises :class:`BundleError`. Nothing is written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from tools.alerts import parse_alertmanager_payload
from tools.bundle.openmetrics import read_openmetrics
from tools.bundle.timestamps import parse_timestamp
from tools.errors import BundleError
from tools.evidence import TimeWindow
from tools.records import Alert, Change, LogLevel, LogRecord, MetricSeries, Span

T = TypeVar("T")
MAX_WARNINGS_PER_FILE = 20
SPAN_KINDS = frozenset({"server", "client", "internal", "producer", "consumer"})
CHANGE_KINDS = frozenset({"deploy", "rollback", "config", "flag", "scale", "infra"})


class LineError(ValueError):
    """A data line is bad; the message says why (file and line are added by the reader)."""


@dataclass
class FileReport:
    """What reading one file found: how many lines were used and skipped, and why."""

    name: str
    read: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    units: set[str] = field(default_factory=set)

    def skip(self, line: int, reason: str) -> None:
        self.skipped += 1
        if len(self.warnings) < MAX_WARNINGS_PER_FILE:
            self.warnings.append(f"{self.name}:{line}: {reason}")

    def summary(self) -> list[str]:
        out = list(self.warnings)
        hidden = self.skipped - len(self.warnings)
        if hidden > 0:
            out.append(f"{self.name}: {hidden} more bad lines skipped")
        out.extend(
            f"{self.name}: timestamps given in epoch {unit}; converted to seconds"
            for unit in sorted(self.units)
        )
        return out


@dataclass
class Bundle:
    path: Path
    manifest: dict[str, Any]
    logs: list[LogRecord] | None
    metrics: list[MetricSeries] | None
    spans: list[Span] | None
    alerts: list[Alert] | None
    changes: list[Change] | None
    files: list[FileReport]

    @property
    def traces_missing(self) -> bool:
        return self.spans is None

    @property
    def warnings(self) -> list[str]:
        return [w for report in self.files for w in report.summary()]

    @property
    def services(self) -> list[str]:
        listed = self.manifest.get("services")
        if isinstance(listed, list) and listed:
            return [str(s) for s in listed]
        seen: set[str] = set()
        seen.update(r.service for r in self.logs or ())
        seen.update(s.service for s in self.metrics or ())
        seen.update(s.service for s in self.spans or ())
        return sorted(seen)

    @property
    def window(self) -> TimeWindow:
        declared = self.manifest.get("window")
        if isinstance(declared, dict):
            try:
                start, _ = parse_timestamp(declared.get("start"))
                end, _ = parse_timestamp(declared.get("end"))
                return TimeWindow(start=start, end=end)
            except ValueError as exc:
                raise BundleError(f"{self.path / 'manifest.json'}: bad window: {exc}") from exc
        return self._data_window()

    def _data_window(self) -> TimeWindow:
        logs = self.logs or []
        stamps = [record.ts.timestamp() for record in logs[:1] + logs[-1:]]
        for series in self.metrics or ():
            if series.timestamps:
                stamps += [series.timestamps[0], series.timestamps[-1]]
        for span in self.spans or ():
            stamps += [span.start, span.end]
        if not stamps:
            raise BundleError(f"{self.path}: bundle holds no timestamped data")
        lo, hi = min(stamps), max(stamps)
        return TimeWindow(
            start=datetime.fromtimestamp(lo, UTC), end=datetime.fromtimestamp(max(hi, lo + 1), UTC)
        )


def load_bundle(path: Path) -> Bundle:
    """Read every file of the bundle at ``path``."""
    if not path.is_dir():
        raise BundleError(f"bundle directory {path} does not exist or is not a directory")
    files: list[FileReport] = []
    manifest = _read_manifest(path / "manifest.json")
    logs = _read_jsonl(path / "logs.jsonl", _log_record, files)
    if logs is not None:
        logs.sort(key=lambda r: r.ts)
    metrics = _read_metrics(path, files)
    spans = _read_jsonl(path / "traces.jsonl", _span, files)
    changes = _read_jsonl(path / "changes.jsonl", _change, files)
    alerts = _read_alerts(path / "alerts.json")
    known = {
        "manifest.json",
        "logs.jsonl",
        "metrics.csv",
        "metrics.om",
        "traces.jsonl",
        "alerts.json",
        "changes.jsonl",
    }
    if not any((path / name).exists() for name in known - {"manifest.json"}):
        raise BundleError(
            f"{path} holds none of the bundle files (logs.jsonl, metrics.csv or metrics.om, "
            "traces.jsonl, alerts.json, changes.jsonl); see tools/bundle/FORMAT.md"
        )
    return Bundle(
        path=path,
        manifest=manifest,
        logs=logs,
        metrics=metrics,
        spans=spans,
        alerts=alerts,
        changes=changes,
        files=files,
    )


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BundleError(f"{path}: expected a JSON object")
    return data


def _read_alerts(path: Path) -> list[Alert] | None:
    if not path.exists():
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return parse_alertmanager_payload(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: not valid JSON: {exc}") from exc
    except ValueError as exc:
        raise BundleError(f"{path}: {exc}") from exc


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _read_jsonl(
    path: Path, parse: Callable[[dict[str, Any], FileReport], T], files: list[FileReport]
) -> list[T] | None:
    if not path.exists():
        return None
    report = FileReport(path.name)
    files.append(report)
    out: list[T] = []
    for number, line in _lines(path):
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise LineError("expected a JSON object")
            out.append(parse(obj, report))
        except json.JSONDecodeError as exc:
            report.skip(number, f"not valid JSON ({exc.msg})")
        except (LineError, ValueError, TypeError) as exc:
            report.skip(number, str(exc))
    report.read = len(out)
    _fail_if_all_bad(path, report)
    return out


def _fail_if_all_bad(path: Path, report: FileReport) -> None:
    if report.read == 0 and report.skipped > 0:
        first = report.warnings[0] if report.warnings else ""
        raise BundleError(f"{path}: every line is bad ({report.skipped} lines); first: {first}")


def _need(obj: dict[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        raise LineError(f"missing key {key!r}")
    return value


def _ts(obj: dict[str, Any], key: str, report: FileReport) -> datetime:
    moment, unit = parse_timestamp(_need(obj, key))
    if unit:
        report.units.add(unit)
    return moment


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return None if value is None or value == "" else str(value)


def _log_record(obj: dict[str, Any], report: FileReport) -> LogRecord:
    return LogRecord(
        ts=_ts(obj, "ts", report),
        service=str(_need(obj, "service")),
        level=LogLevel.parse(str(_need(obj, "level"))),
        message=str(_need(obj, "message")),
        trace_id=_opt_str(obj, "trace_id"),
        span_id=_opt_str(obj, "span_id"),
        instance=_opt_str(obj, "instance"),
    )


def _span(obj: dict[str, Any], report: FileReport) -> Span:
    duration = float(_need(obj, "duration_ms"))
    if duration < 0:
        raise LineError(f"negative duration_ms {duration}")
    status = str(obj.get("status") or "ok").lower()
    if status not in ("ok", "error", "unset"):
        raise LineError(f"status must be 'ok' or 'error', got {status!r}")
    kind = str(obj.get("kind") or "internal").lower()
    if kind not in SPAN_KINDS:
        raise LineError(f"unknown span kind {kind!r}")
    attrs = obj.get("attrs") or {}
    if not isinstance(attrs, dict):
        raise LineError("attrs must be an object")
    parent = _opt_str(obj, "parent_id")
    return Span(
        trace_id=str(_need(obj, "trace_id")),
        span_id=str(_need(obj, "span_id")),
        parent_id=None if parent in (None, "root", "0") else parent,
        service=str(_need(obj, "service")),
        operation=str(_need(obj, "operation")),
        start=_ts(obj, "start", report).timestamp(),
        duration_ms=duration,
        error=status == "error",
        kind=kind,
        attrs=MappingProxyType(attrs),
    )


def _change(obj: dict[str, Any], report: FileReport) -> Change:
    kind = str(_need(obj, "kind")).lower()
    if kind not in CHANGE_KINDS:
        raise LineError(f"unknown change kind {kind!r} (one of {sorted(CHANGE_KINDS)})")
    return Change(
        ts=_ts(obj, "ts", report),
        service=str(_need(obj, "service")),
        kind=kind,
        description=str(_need(obj, "description")),
        version=_opt_str(obj, "version"),
        author=_opt_str(obj, "author"),
        link=_opt_str(obj, "link"),
    )


def check_unit(metric: str, value: float) -> None:
    """Raise :class:`LineError` for a value that cannot be in the unit the name states."""
    if value != value:  # NaN: a gap, not an error
        return
    if metric.endswith("_ratio") and not -1e-9 <= value <= 1 + 1e-9:
        raise LineError(f"{metric} must be a ratio in [0, 1], got {value} (a percentage?)")
    if metric.endswith(("_seconds", "_bytes", "_per_second")) and value < 0:
        raise LineError(f"{metric} cannot be negative, got {value}")


def _read_metrics(path: Path, files: list[FileReport]) -> list[MetricSeries] | None:
    csv_path, om_path = path / "metrics.csv", path / "metrics.om"
    if not csv_path.exists() and not om_path.exists():
        return None
    points: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[float, float]]] = {}
    if csv_path.exists():
        report = FileReport(csv_path.name)
        files.append(report)
        _read_metrics_csv(csv_path, report, points)
        _fail_if_all_bad(csv_path, report)
    if om_path.exists():
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
        _fail_if_all_bad(om_path, report)
    out: list[MetricSeries] = []
    for (metric, service, labels), samples in sorted(points.items()):
        samples.sort()
        out.append(
            MetricSeries(
                metric=metric,
                service=service,
                timestamps=tuple(t for t, _ in samples),
                values=tuple(v for _, v in samples),
                labels=MappingProxyType(dict(labels)),
            )
        )
    return out


def _read_metrics_csv(
    path: Path,
    report: FileReport,
    points: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[float, float]]],
) -> None:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        required = ("timestamp", "service", "metric", "value")
        if header is None or any(col not in header for col in required):
            raise BundleError(f"{path}:1: header must contain {', '.join(required)}; got {header}")
        index = {name: i for i, name in enumerate(header)}
        extra = [name for name in header if name not in required]
        for row in reader:
            number = reader.line_num
            if not row:
                continue
            try:
                if len(row) != len(header):
                    raise LineError(f"expected {len(header)} columns, got {len(row)}")
                moment, unit = parse_timestamp(row[index["timestamp"]])
                if unit:
                    report.units.add(unit)
                metric, service = row[index["metric"]], row[index["service"]]
                if not metric or not service:
                    raise LineError("empty metric or service")
                value = float(row[index["value"]])
                check_unit(metric, value)
            except (LineError, ValueError) as exc:
                report.skip(number, str(exc))
                continue
            labels = tuple(sorted((k, row[index[k]]) for k in extra if row[index[k]]))
            points.setdefault((metric, service, labels), []).append((moment.timestamp(), value))
            report.read += 1
