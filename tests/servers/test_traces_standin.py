"""The traces stand-in answers in the real products' shapes: its Jaeger JSON has the structure
of Jaeger's own fixture ``ui_01.json``; its Tempo JSON follows Tempo's documented HTTP API; its
OTLP receiver refuses what a collector refuses."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import httpx
import pytest

from bot.loader.traces import export_spans
from tests.bundles import T0, jaeger_fixture
from tests.servers.traces import TracesStandIn
from tools.otlp import decode_spans
from tools.records import Span

START = T0.timestamp()
SPANS = [
    Span("0a" * 16, "01", None, "web", "GET /", START, 60.0, kind="server"),
    Span(
        "0a" * 16,
        "02",
        "01",
        "web",
        "call api",
        START + 0.001,
        50.0,
        error=True,
        kind="client",
        attrs=MappingProxyType(
            {"peer.service": "api", "http.status_code": 503, "ratio": 0.5, "retry": True}
        ),
    ),
    Span("0b" * 16, "01", None, "api", "POST /order", START + 10, 5.0, kind="server"),
]


@pytest.fixture
async def standin(traces_standin: TracesStandIn, http: httpx.AsyncClient) -> TracesStandIn:
    traces_standin.reset()
    await export_spans(http, traces_standin.url, SPANS)
    return traces_standin


def _types(values: list[Any]) -> set[str]:
    return {type(v).__name__ for v in values if v is not None}


async def test_jaeger_trace_has_the_structure_of_jaegers_fixture(
    standin: TracesStandIn, http: httpx.AsyncClient
) -> None:
    real = jaeger_fixture("ui_01.json")
    answer = (await http.get(f"{standin.jaeger_url}/api/traces/{'0a' * 16}")).json()
    assert set(answer) == {"data", "total", "limit", "offset", "errors"}
    (ours,) = answer["data"]

    assert set(ours) == set(real)  # traceID, spans, processes, warnings
    real_span = real["spans"][0]
    assert all(set(s) == set(real_span) for s in real["spans"])
    for span in ours["spans"]:
        assert set(span) == set(real_span)
        for key in ("traceID", "spanID", "operationName", "processID"):
            assert type(span[key]) is type(real_span[key]) is str
        assert type(span["startTime"]) is type(real_span["startTime"]) is int
        assert type(span["duration"]) is type(real_span["duration"]) is int
        assert span["processID"] in ours["processes"]

    real_refs = [r for s in real["spans"] for r in s["references"]]
    our_refs = [r for s in ours["spans"] for r in s["references"]]
    assert our_refs and all(set(r) == set(real_refs[0]) for r in our_refs)
    assert {r["refType"] for r in our_refs} <= {r["refType"] for r in real_refs}

    real_tags = [t for s in real["spans"] for t in s["tags"]]
    our_tags = [t for s in ours["spans"] for t in s["tags"]]
    for tag in our_tags:
        assert set(tag) == {"key", "type", "value"}
        same_type = [t["value"] for t in real_tags if t["type"] == tag["type"]]
        assert same_type, f"Jaeger's fixture has no tag of type {tag['type']}"
        assert type(tag["value"]).__name__ in _types(same_type)
    assert {t["type"] for t in our_tags} == {"string", "int64", "bool", "float64"}

    real_process = next(iter(real["processes"].values()))
    for process in ours["processes"].values():
        assert set(process) == set(real_process) and isinstance(process["serviceName"], str)
    assert sorted(p["serviceName"] for p in ours["processes"].values()) == ["web"]


async def test_jaeger_errors_look_like_jaegers(
    standin: TracesStandIn, http: httpx.AsyncClient
) -> None:
    missing = await http.get(f"{standin.jaeger_url}/api/traces", params={"limit": 1})
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"code": 400, "msg": "parameter 'service' is required"}]
    unknown = await http.get(f"{standin.jaeger_url}/api/traces/{'ff' * 16}")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": 404, "msg": "trace not found"}],
    }
    services = (await http.get(f"{standin.jaeger_url}/api/services")).json()
    assert services["data"] == ["api", "web"]
    operations = (await http.get(f"{standin.jaeger_url}/api/services/web/operations")).json()
    assert operations["data"] == ["GET /", "call api"]


async def test_jaeger_search_filters(standin: TracesStandIn, http: httpx.AsyncClient) -> None:
    async def ids(**params: str | int) -> list[str]:
        answer = await http.get(f"{standin.jaeger_url}/api/traces", params=params)
        return [t["traceID"] for t in answer.json()["data"]]

    micros = int(START * 1e6)
    assert await ids(service="web") == ["0a" * 16]
    assert await ids(service="web", tags='{"error":"true"}') == ["0a" * 16]
    assert await ids(service="web", operation="GET /", tags='{"error":"true"}') == []
    assert await ids(service="web", minDuration="60ms") == ["0a" * 16]
    assert await ids(service="web", minDuration="61ms") == []
    assert await ids(service="web", start=micros + 1000, end=micros + 1000) == ["0a" * 16]
    assert await ids(service="web", start=micros + 1001) == []
    assert await ids(service="api", limit=0) == ["0b" * 16]


async def test_tempo_search_and_trace_follow_tempos_api(
    standin: TracesStandIn, http: httpx.AsyncClient
) -> None:
    start = int(START)
    params: dict[str, str | int] = {"q": "{ status = error }", "start": start, "end": start + 60}
    answer = (await http.get(f"{standin.tempo_url}/api/search", params=params)).json()
    (hit,) = answer["traces"]
    assert set(hit) >= {
        "traceID",
        "rootServiceName",
        "rootTraceName",
        "startTimeUnixNano",
        "durationMs",
        "spanSets",
    }
    assert hit["traceID"] == "a" + "0a" * 15  # Tempo drops leading zeros
    assert (hit["rootServiceName"], hit["rootTraceName"]) == ("web", "GET /")
    assert hit["spanSets"][0]["matched"] == 1 and hit["durationMs"] == 60
    trace = (await http.get(f"{standin.tempo_url}/api/traces/{hit['traceID']}")).json()
    span = trace["batches"][0]["scopeSpans"][0]["spans"][1]
    assert span["kind"] == "SPAN_KIND_CLIENT" and span["status"] == {"code": "STATUS_CODE_ERROR"}
    assert len(span["traceId"]) == 24  # base64, as Tempo's jsonpb writes bytes
    assert [s.span_id for s in decode_spans(trace)] == ["0" * 15 + "1", "0" * 15 + "2"]

    bad = await http.get(f"{standin.tempo_url}/api/search", params={"q": "{ .x = 1 }"})
    assert bad.status_code == 400
    missing = await http.get(f"{standin.tempo_url}/api/traces/{'ff' * 16}")
    assert (missing.status_code, missing.text) == (404, "trace not found")
    assert (await http.get(f"{standin.tempo_url}/api/echo")).text == "echo"
    assert "version" in (await http.get(f"{standin.tempo_url}/api/status/buildinfo")).json()
    assert (await http.get(f"{standin.url}/ready")).text == "ready"


async def test_otlp_receiver_refuses_what_a_collector_refuses(
    traces_standin: TracesStandIn, http: httpx.AsyncClient
) -> None:
    url = f"{traces_standin.url}/v1/traces"
    protobuf = await http.post(
        url, content=b"\x0a", headers={"content-type": "application/x-protobuf"}
    )
    assert protobuf.status_code == 415
    short_ids = {
        "resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "ab", "spanId": "cd"}]}]}]
    }
    assert (await http.post(url, json=short_ids)).status_code == 400
    assert (
        await http.post(url, content=b"{", headers={"content-type": "application/json"})
    ).status_code == 400
