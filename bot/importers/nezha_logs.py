"""Nezha ``log/HH_MM_log.csv`` files → bundle ``logs.jsonl``.

Columns: ``Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log``. ``Log`` is the
docker json-file line, ``{"log":"16:42:22.382 INFO  t.s.TravelServiceImpl#532 TraceID: ...
SpanID: ... [message]\\n","stream":"stdout","time":...}``; the clock inside the text is the
pods' local time (UTC+8), so the record time comes from ``Timestamp`` (UTC; ``TimeUnixNano``
when ``Timestamp`` is unusable — it overflowed for some rows of this dataset). The text itself
is read by :func:`bot.importers.log_line.parse_log_line`: TrainTicket's logback lines, and the
JSON and other layouts of OnlineBoutique's services (the Nezha days of 2022-08), keep their
level, message, logger and ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bot.importers.log_line import parse_log_line
from bot.importers.nezha_csv import csv_rows
from bot.importers.nezha_issues import Issues
from bot.importers.nezha_layout import service_of
from bot.importers.nezha_time import epoch_ns_to_seconds, iso_utc, parse_iso_z

LOG_COLUMNS = (
    "Timestamp",
    "TimeUnixNano",
    "Node",
    "PodName",
    "Container",
    "TraceID",
    "SpanID",
    "Log",
)
ERROR_LEVELS = frozenset({"error", "fatal"})
_DOCKER_PREFIX = '{"log":"'
MAX_ERROR_MESSAGE = 300


@dataclass
class LogResult:
    """What converting one case's log files found."""

    written: int = 0
    duplicates: int = 0
    services: set[str] = field(default_factory=set)
    error_spans: dict[tuple[str, str], str] = field(default_factory=dict)  # → first message
    error_traces: set[str] = field(default_factory=set)
    first: float | None = None
    last: float | None = None


def convert_logs(
    files: Sequence[tuple[Path, str]],
    out: Path,
    issues: Issues,
    valid: tuple[float, float],
) -> LogResult:
    """Convert ``files`` (path, name for warnings) into ``out``; rows whose time lies outside
    ``valid`` (epoch seconds) are skipped. Rows repeated in overlapping files are written once.
    """
    result = LogResult()
    seen: set[tuple[str, str, str]] = set()
    with out.open("w", encoding="utf-8") as sink:
        for path, name in files:
            for line, row in csv_rows(path, name, issues, LOG_COLUMNS):
                key = (row[0], row[3], row[7])
                if key in seen:
                    result.duplicates += 1
                    continue
                seen.add(key)
                try:
                    record = _record(row, valid, name, line, issues)
                except ValueError as exc:
                    issues.skip(name, line, str(exc))
                    continue
                _emit(record, sink, result)
    return result


def _record(
    row: list[str],
    valid: tuple[float, float],
    name: str,
    line: int,
    issues: Issues,
) -> dict[str, Any]:
    stamp, nanos, node, pod, container, trace_id, span_id, raw = row
    ts = _timestamp(stamp, nanos)
    if not valid[0] <= ts <= valid[1]:
        raise ValueError(f"timestamp {stamp or nanos} lies outside the span of the minute files")
    if not pod:
        raise ValueError("empty PodName")
    parsed = parse_log_line(_docker_text(raw, name, line, issues))
    trace_id = trace_id or parsed.trace_id
    span_id = span_id or parsed.span_id
    attrs = {"node": node, "container": container}
    if parsed.logger:
        attrs["logger"] = parsed.logger
    record: dict[str, Any] = {
        "ts": ts,
        "service": service_of(pod),
        "level": parsed.level.label,
        "message": parsed.message,
        "instance": pod,
    }
    if trace_id:
        record["trace_id"] = trace_id
    if span_id:
        record["span_id"] = span_id
    record["attrs"] = attrs
    return record


def _timestamp(stamp: str, nanos: str) -> float:
    try:
        return parse_iso_z(stamp)
    except ValueError:
        pass
    try:
        return epoch_ns_to_seconds(nanos)
    except ValueError:
        raise ValueError(
            f"unparsable timestamp (Timestamp {stamp!r}, TimeUnixNano {nanos!r})"
        ) from None


def _docker_text(raw: str, name: str, line: int, issues: Issues) -> str:
    """The ``log`` field of a docker json-file line (or the raw text if it is not one)."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("log"), str):
        return str(obj["log"]).rstrip("\n")
    if raw.startswith(_DOCKER_PREFIX):
        issues.flag(name, line, "Log is truncated docker JSON; message recovered from raw text")
        body = raw[len(_DOCKER_PREFIX) :]
        return body.replace('\\"', '"').replace("\\n", "\n").replace("\\t", "\t").rstrip("\n")
    return raw.rstrip("\n")


def _emit(record: dict[str, Any], sink: IO[str], result: LogResult) -> None:
    ts: float = record["ts"]
    record["ts"] = iso_utc(ts)
    sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    result.written += 1
    result.services.add(record["service"])
    result.first = ts if result.first is None else min(result.first, ts)
    result.last = ts if result.last is None else max(result.last, ts)
    if record["level"] in ERROR_LEVELS and "trace_id" in record:
        result.error_traces.add(record["trace_id"])
        if "span_id" in record:
            key = (record["trace_id"], record["span_id"])
            result.error_spans.setdefault(key, record["message"][:MAX_ERROR_MESSAGE])
