"""OTLP/JSON decoding and encoding, and ids (tools/otlp.py)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest

from tests.bundles import jaeger_fixture
from tools.otlp import (
    WireFormatError,
    decode_spans,
    encode_spans,
    iter_spans,
    otlp_span_id,
    otlp_trace_id,
    wire_id,
)
from tools.records import Span

ATTRS: dict[str, Any] = {
    "peer.service": "api",
    "http.status_code": 503,
    "ratio": 0.25,
    "retry": True,
    "tags": ["a", 1],
    "nested": {"k": "v"},
}


def test_encoded_spans_decode_to_the_same_spans() -> None:
    spans = [
        Span("ab" * 16, "01" * 8, None, "web", "GET /", 1772442000.123456, 60.0, kind="server"),
        Span("ab" * 16, "02" * 8, "01" * 8, "api", "POST", 1772442000.2, 0.5, True, "client"),
    ]
    spans[1] = replace(spans[1], attrs=MappingProxyType(ATTRS))
    payload = json.loads(json.dumps(encode_spans(spans)))
    assert [rs["resource"]["attributes"][0]["value"] for rs in payload["resourceSpans"]] == [
        {"stringValue": "web"},
        {"stringValue": "api"},
    ]
    encoded = payload["resourceSpans"][1]["scopeSpans"][0]["spans"][0]
    assert encoded["kind"] == 3 and encoded["status"] == {"code": 2}
    assert encoded["startTimeUnixNano"] == "1772442000200000000"
    assert encoded["endTimeUnixNano"] == "1772442000200500000"
    assert {"key": "http.status_code", "value": {"intValue": "503"}} in encoded["attributes"]
    back = decode_spans(payload)
    for want, got in zip(spans, back, strict=True):
        assert (got.trace_id, got.span_id, got.parent_id) == (
            want.trace_id,
            want.span_id,
            want.parent_id,
        )
        assert (got.service, got.operation, got.error, got.kind) == (
            want.service,
            want.operation,
            want.error,
            want.kind,
        )
        assert dict(got.attrs) == dict(want.attrs)
        assert abs(got.start - want.start) < 1e-6
        assert abs(got.duration_ms - want.duration_ms) < 1e-6


def test_ids_become_fixed_width_lowercase_hex() -> None:
    assert otlp_trace_id("AB") == "0" * 30 + "ab"
    assert otlp_span_id("a1") == "00000000000000a1"
    assert otlp_trace_id("f" * 32) == "f" * 32
    hashed = otlp_trace_id("trace-1")
    assert len(hashed) == 32 and hashed == otlp_trace_id("trace-1") != otlp_trace_id("trace-2")
    assert len(otlp_span_id("a" * 17)) == 16 and otlp_span_id("a" * 17) != "a" * 16


def test_wire_ids_are_read_as_hex_or_base64() -> None:
    raw = bytes(range(16))
    assert wire_id(raw.hex().upper(), "id") == raw.hex()
    assert wire_id(base64.b64encode(raw).decode(), "id") == raw.hex()
    assert wire_id(base64.urlsafe_b64encode(raw[:8]).decode().rstrip("="), "id") == raw[:8].hex()
    assert wire_id(None, "id") == ""
    with pytest.raises(WireFormatError, match="neither hex nor base64"):
        wire_id("not an id!", "id")


def _tempo_style(spans: list[dict[str, Any]], key: str = "batches") -> dict[str, Any]:
    scope = "instrumentationLibrarySpans" if key == "old" else "scopeSpans"
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]}
    return {"batches" if key == "old" else key: [{"resource": resource, scope: [{"spans": spans}]}]}


@pytest.mark.parametrize("shape", ["batches", "resourceSpans", "old"])
def test_tempo_shapes_enum_names_and_base64_ids(shape: str) -> None:
    span = {
        "traceId": base64.b64encode(bytes.fromhex("0a" * 16)).decode(),
        "spanId": base64.b64encode(bytes.fromhex("0b" * 8)).decode(),
        "parentSpanId": "",
        "name": "checkout",
        "kind": "SPAN_KIND_CONSUMER",
        "startTimeUnixNano": "1000000000",
        "endTimeUnixNano": "1250000000",
        "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
        "attributes": [{"key": "n", "value": {"intValue": 7}}, {"key": "e", "value": {}}],
    }
    (got,) = decode_spans(_tempo_style([span], shape))
    assert (got.trace_id, got.span_id, got.parent_id) == ("0a" * 16, "0b" * 8, None)
    assert (got.service, got.kind, got.error, got.start, got.duration_ms) == (
        "cart",
        "consumer",
        True,
        1.0,
        250.0,
    )
    assert dict(got.attrs) == {"n": 7, "e": None}


def test_proto3_defaults_and_envelopes() -> None:
    """Jaeger's own api/v3 fixture: no resource, no times, kind and status as numbers."""
    (span,) = decode_spans(jaeger_fixture("apiv3_GetTrace.json"))
    assert span.trace_id == "0" * 31 + "1" and span.span_id == "0" * 15 + "2"
    assert (span.service, span.operation, span.kind, span.error) == (
        "unknown_service",
        "foobar",
        "server",
        True,
    )
    assert (span.start, span.duration_ms, span.parent_id) == (0.0, 0.0, None)
    assert decode_spans({"trace": {"resourceSpans": []}}) == decode_spans({}) == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "trace payload is not an object"),
        ({"spans": []}, "no resourceSpans or batches"),
        ({"batches": "x"}, "batches is not an array"),
        (_tempo_style([{"spanId": "0b" * 8}]), "without traceId"),
        (_tempo_style([{"traceId": "0a" * 16, "spanId": "0b" * 8, "kind": "SIDEWAYS"}]), "kind"),
        (
            _tempo_style(
                [
                    {
                        "traceId": "0a" * 16,
                        "spanId": "0b" * 8,
                        "attributes": [{"key": "n", "value": {"intValue": "x"}}],
                    }
                ]
            ),
            "not an integer",
        ),
    ],
)
def test_malformed_payloads_say_what_is_wrong(payload: object, message: str) -> None:
    with pytest.raises(WireFormatError, match=message):
        list(iter_spans(payload))
