"""Nezha ``trace/HH_MM_trace.csv`` files → bundle ``traces.jsonl``.

Columns: ``TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,
Duration``; ``ParentID`` is ``root`` for a root span and ``Duration`` is in microseconds (it
equals end − start; ``duration_ms`` is computed from start/end nanoseconds).

The data has no status column. A span is marked ``error`` when the same pod logged an ERROR
line carrying its trace and span id (every ERROR log line of this dataset matches a span of
the same pod); its first such message becomes ``attrs["error.message"]``.

The data has no span kind either; it comes from the span's place in the trace, else its
name. A root, or a span whose parent is another service's, is a ``server`` span (a request
entering the service); a span whose children are all another service's is a ``client`` call
(``peer.service`` = that service): OnlineBoutique's gRPC calls are named
``hipstershop.CartService/GetCart`` on the caller's side, with no ``HTTP`` to tell, and its
Python services name them ``/hipstershop.…``, like a server's URL path. Else by name: URL paths
are ``server`` spans, ``HTTP GET``/``HTTP POST``/... ``client`` calls (with no child: a call
that never reached a traced server), SQL statements ``client`` calls to the database, anything
else ``internal``. Messaging spans named as OpenTelemetry names them (``<destination> send``,
``… process``) are ``producer`` and ``consumer`` spans: TrainTicket's food service hands
deliveries to a queue.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.importers.nezha_csv import csv_rows
from bot.importers.nezha_issues import Issues
from bot.importers.nezha_layout import service_of
from bot.importers.nezha_time import iso_utc_ns

TRACE_COLUMNS = (
    "TraceID",
    "SpanID",
    "ParentID",
    "PodName",
    "OperationName",
    "StartTimeUnixNano",
    "EndTimeUnixNano",
)
_ROOT_PARENTS = frozenset({"", "root", "0", "null", "None"})
_HTTP_CLIENT = ("HTTP ",)
_PRODUCE = frozenset({"send", "publish", "create"})
_CONSUME = frozenset({"process", "receive", "deliver", "settle"})
_SQL = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "REPLACE ")


@dataclass(frozen=True, slots=True)
class _Span:
    parent: str | None
    pod: str
    operation: str
    start_ns: int
    end_ns: int


@dataclass
class TraceResult:
    """What converting one case's trace files found."""

    written: int = 0
    duplicates: int = 0
    orphans: int = 0
    errors: int = 0
    services: set[str] = field(default_factory=set)
    roots: list[tuple[float, str]] = field(default_factory=list)  # (start s, trace id)
    root_service: str | None = None  # the service most root spans belong to (the entry)
    first: float | None = None
    last: float | None = None


def convert_traces(
    files: Sequence[tuple[Path, str]],
    out: Path,
    issues: Issues,
    valid: tuple[float, float],
    error_spans: dict[tuple[str, str], str],
) -> TraceResult:
    """Convert ``files`` (path, name for warnings) into ``out``.

    Spans starting outside ``valid`` (epoch seconds) are skipped; spans repeated in overlapping
    files are written once; a span whose parent is in none of the files becomes a root
    (``attrs["nezha.missing_parent"]`` keeps the id) so every parent resolves in the bundle.
    """
    result = TraceResult()
    spans: dict[tuple[str, str], _Span] = {}
    lo, hi = int(valid[0] * 1e9), int(valid[1] * 1e9)
    for path, name in files:
        for line, key, span in _rows(path, name, issues):
            if not lo <= span.start_ns <= hi:
                issues.skip(name, line, "span start lies outside the span of the minute files")
            elif key in spans:
                result.duplicates += 1
                if spans[key] != span:
                    issues.skip(name, line, f"span {key[1]} repeats with different fields")
            else:
                spans[key] = span
    # per span, the services its children belong to (the first one: its peer, if a call)
    peers: dict[tuple[str, str], dict[str, None]] = {}
    for (trace_id, _), span in spans.items():
        if span.parent is not None:
            peers.setdefault((trace_id, span.parent), {})[service_of(span.pod)] = None
    with out.open("w", encoding="utf-8") as sink:
        for key, span in spans.items():
            record = _record(key, span, spans, peers, error_spans, result)
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    roots = Counter(service_of(s.pod) for s in spans.values() if s.parent is None)
    result.root_service = roots.most_common(1)[0][0] if roots else None
    if spans:
        result.first = min(s.start_ns for s in spans.values()) / 1e9
        result.last = max(s.end_ns for s in spans.values()) / 1e9
    if result.orphans:
        issues.note(
            f"traces: {result.orphans} spans whose parent is in none of the case's "
            "trace files were made roots"
        )
    return result


def _rows(path: Path, name: str, issues: Issues) -> Iterator[tuple[int, tuple[str, str], _Span]]:
    for line, row in csv_rows(path, name, issues, TRACE_COLUMNS):
        tid, sid, pid, pod, op, start, end = row
        try:
            start_ns, end_ns = int(start), int(end)
        except ValueError:
            issues.skip(name, line, f"unparsable start/end {start!r}/{end!r}")
            continue
        if end_ns < start_ns:
            issues.skip(name, line, "span ends before it starts")
            continue
        if not (tid and sid and pod and op):
            issues.skip(name, line, "empty TraceID, SpanID, PodName or OperationName")
            continue
        parent = None if pid in _ROOT_PARENTS else pid
        yield line, (tid, sid), _Span(parent, pod, op, start_ns, end_ns)


def _record(
    key: tuple[str, str],
    span: _Span,
    spans: dict[tuple[str, str], _Span],
    peers: dict[tuple[str, str], dict[str, None]],
    error_spans: dict[tuple[str, str], str],
    result: TraceResult,
) -> dict[str, Any]:
    trace_id, span_id = key
    service = service_of(span.pod)
    attrs: dict[str, Any] = {}
    parent = span.parent
    if parent is not None and (trace_id, parent) not in spans:
        attrs["nezha.missing_parent"] = parent
        parent = None
        result.orphans += 1
    callees = [c for c in peers.get(key, {}) if c != service]
    called = parent is not None and service_of(spans[(trace_id, parent)].pod) != service
    if (messaging := _messaging(span.operation)) is not None:
        kind = messaging  # a message sent or handled: no one waits on the other side
    elif parent is None or called:
        kind = "server"  # a request entering the service: a root, or a call from another
    elif callees and len(callees) == len(peers[key]):
        kind = "client"  # its children are all another service's: the caller's side of a call
    else:
        kind = _kind(span.operation)
    if kind == "client":
        if span.operation.startswith(_SQL):
            attrs["db.statement"] = span.operation
        elif callees:
            attrs["peer.service"] = callees[0]
    error = error_spans.get(key)
    if error is not None:
        attrs["error.message"] = error
        result.errors += 1
    start = span.start_ns / 1e9
    result.written += 1
    result.services.add(service)
    if span.parent is None:  # a real root: one user request entering the system
        result.roots.append((start, trace_id))
    record: dict[str, Any] = {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_id": parent,
        "service": service,
        "operation": span.operation,
        "start": iso_utc_ns(span.start_ns),
        "duration_ms": (span.end_ns - span.start_ns) / 1e6,
        "status": "error" if error is not None else "ok",
        "kind": kind,
        "instance": span.pod,
    }
    if attrs:
        record["attrs"] = attrs
    return record


def _messaging(operation: str) -> str | None:
    """``producer`` or ``consumer`` for OpenTelemetry's messaging span names (``<destination>
    send``, ``… process``), else None."""
    verb = operation.rsplit(" ", 1)[-1] if " " in operation else ""
    if verb in _PRODUCE:
        return "producer"
    return "consumer" if verb in _CONSUME else None


def _kind(operation: str) -> str:
    """The kind a span's name says, for a span whose place in the trace does not."""
    if operation.startswith("/"):
        return "server"
    if operation.startswith(_HTTP_CLIENT) or operation.startswith(_SQL):
        return "client"
    return "internal"
