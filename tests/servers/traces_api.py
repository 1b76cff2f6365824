"""What the traces stand-in (tests/servers/traces.py) answers: Jaeger's and Tempo's JSON, as
those products write it for spans received over OTLP, and the TraceQL subset it understands.

Jaeger's shapes are checked against Jaeger's own fixture ``ui_01.json``
(tests/servers/test_traces_standin.py); Tempo's follow its documented HTTP API.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from tools.otlp import KIND_CODES, OtlpSpan, encode_attributes

_DURATION = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}


def go_duration_ns(value: str) -> int:
    """Nanoseconds of a Go duration (``250ms``, ``1h30m``); ValueError otherwise."""
    pos, total = 0, 0.0
    while pos < len(value):
        match = _DURATION.match(value, pos)
        if not match:
            raise ValueError(f"invalid duration {value!r}")
        total += float(match.group(1)) * _UNIT_NS[match.group(2)]
        pos = match.end()
    if not value:
        raise ValueError("empty duration")
    return round(total)


# --- Jaeger ------------------------------------------------------------------------------------


def tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):  # beyond 2**53 Jaeger writes the digits (JavaScript numbers)
        return {"key": key, "type": "int64", "value": value if abs(value) < 2**53 else str(value)}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if isinstance(value, str):
        return {"key": key, "type": "string", "value": value}
    return {"key": key, "type": "string", "value": json.dumps(value)}


def span_tags(span: OtlpSpan) -> list[dict[str, Any]]:
    """Tags as Jaeger's OTLP translator writes them: attributes, span.kind, error, scope."""
    tags = [tag(k, v) for k, v in span.attrs.items()]
    tags.append(tag("span.kind", span.kind))
    if span.error:
        tags += [tag("otel.status_code", "ERROR"), tag("error", True)]
    if span.scope:
        tags.append(tag("otel.scope.name", span.scope))
    return tags


def _jaeger_id(trace_id: str) -> str:
    """Jaeger prints a trace id with a zero high half as 16 hex digits."""
    return trace_id[16:] if trace_id[:16] == "0" * 16 else trace_id


def jaeger_trace(spans: Sequence[OtlpSpan]) -> dict[str, Any]:
    """A trace as ``/api/traces`` returns it inside ``data[]`` (the shape of ``ui_01.json``)."""
    processes: dict[str, dict[str, Any]] = {}
    pids: dict[str, str] = {}
    out = []
    for span in spans:
        if span.service not in pids:
            pids[span.service] = f"p{len(pids) + 1}"
            tags = [tag(k, v) for k, v in span.resource.items() if k != "service.name"]
            processes[pids[span.service]] = {"serviceName": span.service, "tags": tags}
        trace_id = _jaeger_id(span.trace_id)
        refs = []
        if span.parent_id:
            refs.append({"refType": "CHILD_OF", "traceID": trace_id, "spanID": span.parent_id})
        out.append(
            {
                "traceID": trace_id,
                "spanID": span.span_id,
                "operationName": span.name,
                "references": refs,
                "startTime": span.start_ns // 1000,
                "duration": (span.end_ns - span.start_ns) // 1000,
                "tags": span_tags(span),
                "logs": [],
                "processID": pids[span.service],
                "warnings": None,
            }
        )
    return {
        "traceID": _jaeger_id(spans[0].trace_id),
        "spans": out,
        "processes": processes,
        "warnings": None,
    }


def tag_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def jaeger_match(span: OtlpSpan, q: dict[str, str], tags: dict[str, str]) -> bool:
    us = span.start_ns // 1000
    duration_ns = span.end_ns - span.start_ns
    if span.service != q["service"] or q.get("operation", span.name) != span.name:
        return False
    if ("start" in q and us < int(q["start"])) or ("end" in q and us > int(q["end"])):
        return False
    if "minDuration" in q and duration_ns // 1000 < go_duration_ns(q["minDuration"]) // 1000:
        return False
    if "maxDuration" in q and duration_ns // 1000 > go_duration_ns(q["maxDuration"]) // 1000:
        return False
    have = {
        (t["key"], tag_text(t["value"]))
        for t in [*span_tags(span), *(tag(k, v) for k, v in span.resource.items())]
    }
    return all((k, v) in have for k, v in tags.items())


# --- Tempo -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(&&|>=|[{}=>]|"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*|[\d.]+(?:ns|us|µs|ms|s|m|h))'
)
Condition = Callable[[OtlpSpan], bool]


def parse_traceql(query: str) -> list[Condition]:
    """The spanset filter ``{ c && c ... }`` of the conditions ``tools.tempo`` writes."""
    tokens, pos = [], 0
    while query[pos:].strip():
        match = _TOKEN.match(query, pos)
        if not match:
            raise ValueError(f"parse error at col {pos + 1}: unexpected {query[pos:][:20]!r}")
        tokens.append(match.group(1))
        pos = match.end()
    if tokens[:1] != ["{"] or tokens[-1:] != ["}"]:
        raise ValueError("parse error: a query is one spanset filter { ... }")
    body = tokens[1:-1]
    if body and (len(body) % 4 != 3 or any(body[i] != "&&" for i in range(3, len(body), 4))):
        raise ValueError(f"parse error: expected conditions joined by &&, got {query!r}")
    return [_condition(*body[i : i + 3]) for i in range(0, len(body), 4)]


def _condition(field_: str, op: str, value: str) -> Condition:
    if field_ in ("resource.service.name", "name") and op == "=" and value.startswith('"'):
        wanted = json.loads(value)
        if field_ == "name":
            return lambda s: s.name == wanted
        return lambda s: s.service == wanted
    if (field_, op, value) == ("status", "=", "error"):
        return lambda s: s.error
    if field_ == "duration" and op in (">", ">="):
        least = go_duration_ns(value)
        if op == ">":
            return lambda s: s.end_ns - s.start_ns > least
        return lambda s: s.end_ns - s.start_ns >= least
    raise ValueError(f"unsupported condition {field_} {op} {value}".strip())


def search_span(span: OtlpSpan) -> dict[str, Any]:
    return {
        "spanID": span.span_id,
        "name": span.name,
        "startTimeUnixNano": str(span.start_ns),
        "durationNanos": str(span.end_ns - span.start_ns),
        "attributes": encode_attributes({"service.name": span.service}),
    }


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def tempo_trace(spans: list[OtlpSpan]) -> dict[str, Any]:
    """A trace as Tempo's ``/api/traces/{id}`` writes it (gogo jsonpb: base64 ids, enum names)."""
    kinds = {code: f"SPAN_KIND_{name.upper()}" for name, code in KIND_CODES.items()}
    batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
    resources: dict[str, dict[str, Any]] = {}
    for s in spans:
        resources[s.service] = dict(s.resource)
        out: dict[str, Any] = {
            "traceId": _b64(s.trace_id),
            "spanId": _b64(s.span_id),
            "name": s.name,
            "kind": kinds[KIND_CODES[s.kind]],
            "startTimeUnixNano": str(s.start_ns),
            "endTimeUnixNano": str(s.end_ns),
            "attributes": encode_attributes(s.attrs),
            "status": {"code": "STATUS_CODE_ERROR"} if s.error else {},
        }
        if s.parent_id:
            out["parentSpanId"] = _b64(s.parent_id)
        batches.setdefault((s.service, s.scope), []).append(out)
    return {
        "batches": [
            {
                "resource": {"attributes": encode_attributes(resources[service])},
                "scopeSpans": [{"scope": {"name": scope}, "spans": batch}],
            }
            for (service, scope), batch in batches.items()
        ]
    }
