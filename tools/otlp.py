"""Trace wire formats shared by the Jaeger and Tempo backends and the loader: OTLP/JSON, ids.

- **Decoding** OTLP/JSON into :class:`~tools.records.Span`: Tempo answers a trace lookup with it
  (``{"batches": [...]}``; ``resourceSpans`` in newer versions, ``instrumentationLibrarySpans``
  in older ones, ``{"trace": ...}`` / ``{"result": ...}`` envelopes), and the traces stand-in
  decodes what the loader sends. Proto3 JSON omits default values (kind 0, no parent, no
  status, time 0), so every field but the ids is optional here. Ids arrive hex (the OTLP/JSON
  spec) or base64 (Tempo marshals the proto with gogo jsonpb); both become lowercase hex.
- **Encoding** spans as an OTLP/JSON ``ExportTraceServiceRequest`` (what ``rcabot load`` POSTs
  to ``/v1/traces``): one ``resourceSpans`` entry per service carrying ``service.name``. OTLP
  ids have a fixed width (16-byte trace ids, 8-byte span ids), so shorter hex ids from a bundle
  are zero-padded and ids that are not hex are replaced by a stable hash: the loaded trace
  keeps its shape, and :func:`otlp_trace_id` / :func:`otlp_span_id` say what it is called.

Malformed input raises :class:`WireFormatError`; a backend turns it into its ``BackendError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from tools.records import Span

T = TypeVar("T")

TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8
UNKNOWN_SERVICE = "unknown_service"  # OTel's name for a resource without service.name

KIND_CODES = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_KINDS = {code: name for name, code in KIND_CODES.items()} | {0: "internal"}
_KIND_ENUMS = {f"SPAN_KIND_{name.upper()}": code for name, code in KIND_CODES.items()} | {
    "SPAN_KIND_UNSPECIFIED": 0
}
STATUS_ERROR = 2
_STATUS_ENUMS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
_HEX = re.compile(r"[0-9a-fA-F]*")


class WireFormatError(ValueError):
    """A trace payload does not have the shape its format documents."""


# --- JSON shape checks -------------------------------------------------------------------------


def obj(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireFormatError(f"{what} is not an object but {_kind(value)}")
    return value


def items(value: object, what: str) -> list[Any]:
    """A JSON array; ``null``/absent (proto3 and Go's empty slices) is empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise WireFormatError(f"{what} is not an array but {_kind(value)}")
    return value


def text(value: object, what: str, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise WireFormatError(f"{what} is not a string but {_kind(value)}")
    return value


def integer(value: object, what: str) -> int:
    """An integer, also as a decimal string (proto3 JSON writes 64-bit integers as strings)."""
    if isinstance(value, bool):
        raise WireFormatError(f"{what} is not an integer but a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise WireFormatError(f"{what} is not an integer: {str(value)[:40]!r}")


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


# --- ids ---------------------------------------------------------------------------------------


def wire_id(value: object, what: str) -> str:
    """A trace or span id as lowercase hex, from hex or base64 (empty stays empty)."""
    raw = text(value, what, default="")
    if _HEX.fullmatch(raw) and len(raw) % 2 == 0:
        return raw.lower()
    try:
        data = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WireFormatError(f"{what} {raw[:40]!r} is neither hex nor base64") from exc
    return data.hex()


def _fixed_hex(value: str, nbytes: int) -> str:
    lowered = value.lower()
    if lowered and _HEX.fullmatch(lowered) and len(lowered) <= nbytes * 2:
        return lowered.rjust(nbytes * 2, "0")
    return hashlib.blake2b(value.encode("utf-8"), digest_size=nbytes).hexdigest()


def otlp_trace_id(value: str) -> str:
    """The 32-hex-digit OTLP trace id a bundle's ``trace_id`` is loaded as."""
    return _fixed_hex(value, TRACE_ID_BYTES)


def otlp_span_id(value: str) -> str:
    """The 16-hex-digit OTLP span id a bundle's ``span_id``/``parent_id`` is loaded as."""
    return _fixed_hex(value, SPAN_ID_BYTES)


# --- decoding ----------------------------------------------------------------------------------


def any_value(value: object, what: str = "attribute value") -> Any:
    """An OTLP ``AnyValue`` as a Python value (``bytesValue`` stays base64 text)."""
    v = obj(value, what)
    if "stringValue" in v:
        return text(v["stringValue"], what)
    if "boolValue" in v:
        if not isinstance(v["boolValue"], bool):
            raise WireFormatError(f"{what}: boolValue is not a boolean")
        return v["boolValue"]
    if "intValue" in v:
        return integer(v["intValue"], what)
    if "doubleValue" in v:
        number = v["doubleValue"]
        if isinstance(number, bool) or not isinstance(number, int | float | str):
            raise WireFormatError(f"{what}: doubleValue is not a number")
        try:
            return float(number)
        except ValueError as exc:
            raise WireFormatError(f"{what}: doubleValue {number!r} is not a number") from exc
    if "arrayValue" in v:
        values = obj(v["arrayValue"], what).get("values")
        return [any_value(item, what) for item in items(values, what)]
    if "kvlistValue" in v:
        return attributes(obj(v["kvlistValue"], what).get("values"), what)
    if "bytesValue" in v:
        return text(v["bytesValue"], what)
    return None


def attributes(value: object, what: str = "attributes") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in items(value, what):
        kv = obj(entry, what)
        key = text(kv.get("key"), f"{what} key")
        out[key] = any_value(kv.get("value", {}), f"{what}[{key}]")
    return out


def _enum(value: object, names: Mapping[str, int], what: str) -> int:
    if isinstance(value, str) and value in names:
        return names[value]
    if value is None:
        return 0
    return integer(value, what)


@dataclass(frozen=True, slots=True)
class OtlpSpan:
    """One decoded OTLP span, keeping what :class:`Span` drops (nanoseconds, resource)."""

    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    error: bool
    attrs: Mapping[str, Any]
    resource: Mapping[str, Any]
    scope: str

    def to_span(self) -> Span:
        return Span(
            trace_id=self.trace_id,
            span_id=self.span_id,
            parent_id=self.parent_id,
            service=self.service,
            operation=self.name,
            start=self.start_ns / 1e9,
            duration_ms=max(0, self.end_ns - self.start_ns) / 1e6,
            error=self.error,
            kind=self.kind,
            attrs=MappingProxyType(dict(self.attrs)),
        )


def _resource_spans(payload: object) -> list[Any]:
    body = obj(payload, "trace payload")
    for envelope in ("trace", "result"):  # Tempo /api/v2/traces, Jaeger /api/v3
        if isinstance(body.get(envelope), dict):
            body = body[envelope]
    if "resourceSpans" in body:
        return items(body["resourceSpans"], "resourceSpans")
    if "batches" in body:
        return items(body["batches"], "batches")
    if not body:
        return []  # proto3 JSON of an empty trace
    raise WireFormatError(f"trace payload has no resourceSpans or batches (keys: {sorted(body)})")


def iter_spans(payload: object) -> Iterator[OtlpSpan]:
    """The spans of an OTLP/JSON trace payload, in document order."""
    for i, entry in enumerate(_resource_spans(payload)):
        resource_spans = obj(entry, f"resourceSpans[{i}]")
        resource = attributes(
            obj(resource_spans.get("resource") or {}, "resource").get("attributes")
        )
        service = str(resource.get("service.name") or UNKNOWN_SERVICE)
        scopes = resource_spans.get("scopeSpans", resource_spans.get("instrumentationLibrarySpans"))
        for scope_spans in items(scopes, "scopeSpans"):
            scope_obj = obj(scope_spans, "scopeSpans[]")
            scope = obj(
                scope_obj.get("scope") or scope_obj.get("instrumentationLibrary") or {}, "scope"
            )
            scope_name = text(scope.get("name"), "scope name", default="")
            for raw in items(scope_obj.get("spans"), "spans"):
                yield _span(obj(raw, "span"), service, resource, scope_name)


def _span(raw: dict[str, Any], service: str, resource: dict[str, Any], scope: str) -> OtlpSpan:
    trace_id = wire_id(raw.get("traceId"), "traceId")
    span_id = wire_id(raw.get("spanId"), "spanId")
    if not trace_id or not span_id:
        raise WireFormatError("span without traceId or spanId")
    parent = wire_id(raw.get("parentSpanId"), "parentSpanId")
    kind = _enum(raw.get("kind"), _KIND_ENUMS, "span kind")
    status = obj(raw.get("status") or {}, "span status")
    code = _enum(status.get("code"), _STATUS_ENUMS, "status code")
    return OtlpSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent if parent.strip("0") else None,
        service=service,
        name=text(raw.get("name"), "span name", default=""),
        kind=_KINDS.get(kind, "internal"),
        start_ns=integer(raw.get("startTimeUnixNano", 0), "startTimeUnixNano"),
        end_ns=integer(raw.get("endTimeUnixNano", 0), "endTimeUnixNano"),
        error=code == STATUS_ERROR,
        attrs=attributes(raw.get("attributes")),
        resource=resource,
        scope=scope,
    )


def decode_spans(payload: object) -> list[Span]:
    """The spans of an OTLP/JSON trace payload as :class:`Span`\\ s."""
    return [span.to_span() for span in iter_spans(payload)]


# --- encoding ----------------------------------------------------------------------------------


def encode_value(value: object) -> dict[str, Any]:
    """A Python value as an OTLP ``AnyValue`` (bool before int: ``True`` is an int)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"doubleValue": value}
        return {"doubleValue": "NaN" if math.isnan(value) else ("Infinity", "-Infinity")[value < 0]}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": encode_attributes(value)}}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [encode_value(v) for v in value]}}
    return {"stringValue": str(value)}


def encode_attributes(attrs: Mapping[Any, Any]) -> list[dict[str, Any]]:
    return [{"key": str(key), "value": encode_value(value)} for key, value in attrs.items()]


def _encode_span(span: Span) -> dict[str, Any]:
    # Bundle timestamps carry microseconds at most: rounding there removes float noise.
    start_ns = round(span.start * 1e6) * 1000
    out: dict[str, Any] = {
        "traceId": otlp_trace_id(span.trace_id),
        "spanId": otlp_span_id(span.span_id),
        "name": span.operation,
        "kind": KIND_CODES.get(span.kind, 1),
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + round(span.duration_ms * 1e6)),
        "attributes": encode_attributes(span.attrs),
    }
    if span.parent_id:
        out["parentSpanId"] = otlp_span_id(span.parent_id)
    if span.error:
        out["status"] = {"code": STATUS_ERROR}
    return out


def encode_spans(spans: Iterable[Span], scope: str = "rcabot") -> dict[str, Any]:
    """An OTLP/JSON ``ExportTraceServiceRequest``: one ``resourceSpans`` per service."""
    by_service: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_service.setdefault(span.service, []).append(_encode_span(span))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": encode_attributes({"service.name": service})},
                "scopeSpans": [{"scope": {"name": scope}, "spans": encoded}],
            }
            for service, encoded in by_service.items()
        ]
    }
