"""Read a telemetry bundle directory (format: ``tools/bundle/FORMAT.md``).

Bad lines are skipped and counted, each with a warning naming file and line; a file in which
every data line is bad raises :class:`BundleError`. Every field is checked for type, length and
range (:mod:`tools.bundle.fields`); over-long lines, JSON nested too deeply, non-finite numbers
and timestamps outside 1970..2100 are bad lines. A bundle file that is not a regular file (a
directory, pipe, device, dangling link), an unreadable or invalid ``manifest.json`` or
``alerts.json`` raises :class:`BundleError` naming the file; a bad alert among good ones in
``alerts.json`` is skipped with a warning. Nothing is written.

Metrics (``metrics.csv``, ``metrics.om``) are read by :mod:`tools.bundle.metrics_file`, an
optional ``service_map.csv`` (who may call whom) by :mod:`tools.service_map`, by the same rules.

An optional ``reference/`` directory (:mod:`tools.bundle.reference`) is read by the same rules,
its warnings prefixed ``reference/``; where it cannot be used it is left out with a warning
instead of failing the bundle: a reference is never required.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from tools.alerts import read_alertmanager_payload
from tools.bundle import fields
from tools.bundle.fields import LineError
from tools.bundle.file_report import FileReport, fail_if_all_bad
from tools.bundle.files import numbered_lines, parse_json, present, read_json
from tools.bundle.manifest import check_manifest
from tools.bundle.metrics_file import check_unit, read_metrics
from tools.bundle.reference import (
    DIRECTORY,
    NOT_READ,
    TELEMETRY_FILES,
    Reference,
    declared_window,
    telemetry_window,
)
from tools.errors import BundleError
from tools.evidence import TimeWindow
from tools.records import Alert, Change, LogLevel, LogRecord, MetricSeries, Span, log_source
from tools.service_map import FILE_NAME as SERVICE_MAP
from tools.service_map import ServiceMap, read_service_map

T = TypeVar("T")
SPAN_KINDS = frozenset({"server", "client", "internal", "producer", "consumer"})
CHANGE_KINDS = frozenset({"deploy", "rollback", "config", "flag", "scale", "infra"})

__all__ = ["Bundle", "FileReport", "LineError", "Reference", "check_unit", "load_bundle"]


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
    reference: Reference | None = None  # the healthy period in reference/, when usable
    service_map: ServiceMap | None = None  # who may call whom (service_map.csv)
    reference_warnings: list[str] = field(default_factory=list)

    @property
    def traces_missing(self) -> bool:
        return self.spans is None

    @property
    def warnings(self) -> list[str]:
        return [w for report in self.files for w in report.summary()] + self.reference_warnings

    @property
    def reference_window(self) -> TimeWindow | None:
        """The reference period's window; ``None`` without a usable ``reference/``."""
        return self.reference.window if self.reference else None

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
        try:
            declared = declared_window(self.manifest)
        except ValueError as exc:
            raise BundleError(f"{self.path / 'manifest.json'}: bad window: {exc}") from exc
        found = declared or telemetry_window(self.logs, self.metrics, self.spans)
        if found is None:
            raise BundleError(f"{self.path}: bundle holds no timestamped data")
        return found


def load_bundle(path: Path) -> Bundle:
    """Read every file of the bundle at ``path``."""
    try:
        is_dir = path.is_dir()
    except OSError as exc:
        raise BundleError(f"bundle directory {path} cannot be read: {exc}") from exc
    if not is_dir:
        raise BundleError(f"bundle directory {path} does not exist or is not a directory")
    files: list[FileReport] = []
    manifest = _read_manifest(path / "manifest.json")
    logs, metrics, spans = _read_telemetry(path, files)
    changes = _read_jsonl(path / "changes.jsonl", _change, files)
    alerts = _read_alerts(path / "alerts.json", files)
    if not any(present(path / name) for name in (*TELEMETRY_FILES, *NOT_READ)):
        raise BundleError(
            f"{path} holds none of the bundle files (logs.jsonl, metrics.csv or metrics.om, "
            "traces.jsonl, alerts.json, changes.jsonl); see tools/bundle/FORMAT.md"
        )
    bundle = Bundle(path, manifest, logs, metrics, spans, alerts, changes, files)
    bundle.service_map = _read_service_map(path / SERVICE_MAP, files)
    bundle.reference, bundle.reference_warnings = _read_reference(path / DIRECTORY)
    return bundle


def _read_telemetry(
    path: Path, files: list[FileReport]
) -> tuple[list[LogRecord] | None, list[MetricSeries] | None, list[Span] | None]:
    logs = _read_jsonl(path / "logs.jsonl", _log_record, files)
    if logs is not None:
        logs.sort(key=lambda r: r.ts)
    return logs, read_metrics(path, files), _read_jsonl(path / "traces.jsonl", _span, files)


def _read_reference(directory: Path) -> tuple[Reference | None, list[str]]:
    """The usable reference period in ``directory`` and the warnings reading it gave."""
    where = f"{DIRECTORY}/"
    try:
        if directory.is_symlink() and not directory.exists():
            raise BundleError(f"{directory}: a dangling symbolic link or a link loop")
        if not directory.exists():
            return None, []
        if not directory.is_dir():
            raise BundleError(f"{directory}: not a directory")
        files: list[FileReport] = []
        manifest = _read_manifest(directory / "manifest.json")
        logs, metrics, spans = _read_telemetry(directory, files)
        window = declared_window(manifest) or telemetry_window(logs, metrics, spans)
    except (BundleError, OSError, ValueError) as exc:
        return None, [f"{where} not used: {exc}"]
    warnings = [f"{where}{w}" for report in files for w in report.summary()]
    warnings += [
        f"{where}{name} is not read: a reference holds logs, metrics and traces"
        for name in NOT_READ
        if (directory / name).exists()
    ]
    if window is None:
        return None, [*warnings, f"{where} not used: it holds no timestamped telemetry"]
    return Reference(directory, manifest, logs, metrics, spans, window), warnings


def _read_service_map(path: Path, files: list[FileReport]) -> ServiceMap | None:
    if not present(path):
        return None
    service_map, report = read_service_map(path)
    files.append(report)
    return service_map


def _read_manifest(path: Path) -> dict[str, Any]:
    if not present(path):
        return {}
    data = read_json(path)
    try:
        return check_manifest(data)
    except ValueError as exc:
        raise BundleError(f"{path}: {exc}") from exc


def _read_alerts(path: Path, files: list[FileReport]) -> list[Alert] | None:
    if not present(path):
        return None
    payload = read_json(path)
    try:
        parsed = read_alertmanager_payload(payload)
    except ValueError as exc:
        raise BundleError(f"{path}: {exc}") from exc
    report = FileReport(path.name, read=len(parsed.alerts))
    report.warnings = [f"{path.name}: {w}" for w in parsed.warnings]
    files.append(report)
    return parsed.alerts


def _read_jsonl(
    path: Path, parse: Callable[[dict[str, Any], FileReport], T], files: list[FileReport]
) -> list[T] | None:
    if not present(path):
        return None
    report = FileReport(path.name)
    files.append(report)
    out: list[T] = []
    for number, line in numbered_lines(path, report.skip):
        if not line.strip():
            continue
        try:
            obj = parse_json(line)
            if not isinstance(obj, dict):
                raise LineError("expected a JSON object")
            out.append(parse(obj, report))
        except ValueError as exc:  # LineError, a bad timestamp, bad JSON
            report.skip(number, str(exc))
    report.read = len(out)
    fail_if_all_bad(path, report)
    return out


def _log_record(obj: dict[str, Any], report: FileReport) -> LogRecord:
    return LogRecord(
        ts=fields.timestamp(obj, "ts", report.units),
        service=fields.name(obj, "service"),
        level=LogLevel.parse(fields.name(obj, "level")),
        message=fields.text(obj, "message", report.clipped),
        trace_id=fields.optional(obj, "trace_id"),
        span_id=fields.optional(obj, "span_id"),
        instance=fields.optional(obj, "instance"),
        source=log_source(fields.attrs(obj).get),
    )


def _span(obj: dict[str, Any], report: FileReport) -> Span:
    duration = fields.duration_ms(obj)
    status = (fields.optional(obj, "status", fields.MAX_NAME) or "ok").lower()
    if status not in ("ok", "error", "unset"):
        raise LineError(f"status must be 'ok' or 'error', got {status[:40]!r}")
    kind = (fields.optional(obj, "kind", fields.MAX_NAME) or "internal").lower()
    if kind not in SPAN_KINDS:
        raise LineError(f"unknown span kind {kind[:40]!r}")
    parent = fields.optional(obj, "parent_id")
    return Span(
        trace_id=fields.name(obj, "trace_id", fields.MAX_ID),
        span_id=fields.name(obj, "span_id", fields.MAX_ID),
        parent_id=None if parent in (None, "root", "0") else parent,
        service=fields.name(obj, "service"),
        operation=fields.name(obj, "operation"),
        start=fields.timestamp(obj, "start", report.units).timestamp(),
        duration_ms=duration,
        error=status == "error",
        kind=kind,
        attrs=MappingProxyType(fields.attrs(obj)),
    )


def _change(obj: dict[str, Any], report: FileReport) -> Change:
    kind = fields.name(obj, "kind").lower()
    if kind not in CHANGE_KINDS:
        raise LineError(f"unknown change kind {kind[:40]!r} (one of {sorted(CHANGE_KINDS)})")
    return Change(
        ts=fields.timestamp(obj, "ts", report.units),
        service=fields.name(obj, "service"),
        kind=kind,
        description=fields.text(obj, "description", report.clipped),
        version=fields.optional(obj, "version"),
        author=fields.optional(obj, "author"),
        link=fields.optional(obj, "link", fields.MAX_LINK),
    )
