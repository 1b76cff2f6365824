"""Nezha importer on a tiny hand-written layout: bad rows, missing files, wrong sources."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.importers.nezha import import_nezha
from bot.importers.nezha_alert import (
    alertmanager_payload,
    choose,
    error_symptom,
    fallback_symptom,
    latency_symptom,
)
from bot.importers.nezha_issues import Issues
from bot.importers.nezha_layout import NezhaDay, service_of, system_of
from bot.importers.nezha_traces import convert_traces
from tests.bot.importers.fake_nezha import INJECT, POD, span_row, write_lines
from tools.bundle.reader import load_bundle


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bad_rows_and_missing_files_are_skipped_with_file_and_line(
    fake_nezha: Path,
    tmp_path: Path,
) -> None:
    (case,) = import_nezha(fake_nezha, tmp_path / "out")
    assert case.case_id == "2023-01-29_08-43_ts-foo-service_exception"
    warnings = "\n".join(case.warnings)
    assert "log/08_43_log.csv:3: expected 8 columns, got 5; skipped" in warnings
    assert "log/08_43_log.csv:4: unparsable timestamp" in warnings
    assert "log/08_45_log.csv: missing" in warnings
    assert "trace/08_43_trace.csv:4: unparsable start/end" in warnings
    assert f"metric/{POD}_metric.csv:7: unparsable TimeStamp/Time; skipped" in warnings
    assert "1 spans whose parent is in none of the case's trace files were made roots" in warnings

    logs = _jsonl(case.bundle_dir / "logs.jsonl")
    assert [(r["level"], r["message"]) for r in logs] == [
        ("info", "[login][ok]"),
        ("error", "[foo][Foo failed][id: 7]"),
        ("warn", "[foo][slow]"),
    ]
    assert logs[0]["ts"] == "2023-01-29T08:42:30.123456Z"
    assert logs[0]["service"] == "ts-gateway-service"
    assert logs[1]["instance"] == POD
    assert logs[1]["attrs"]["logger"] == "f.s.FooServiceImpl#42"

    spans = {s["span_id"]: s for s in _jsonl(case.bundle_dir / "traces.jsonl")}
    assert set(spans) == {"s1", "s2", "s9"}
    assert spans["s1"]["parent_id"] is None
    assert spans["s1"]["kind"] == "server"
    assert spans["s2"]["status"] == "error"
    assert spans["s2"]["attrs"]["error.message"] == "[foo][Foo failed][id: 7]"
    assert spans["s2"]["duration_ms"] == pytest.approx(250.0)
    assert spans["s9"]["parent_id"] is None
    assert spans["s9"]["attrs"]["nezha.missing_parent"] == "gone"
    assert load_bundle(case.bundle_dir).warnings == []


def test_metric_units_and_success_rate_without_traffic(fake_nezha: Path, tmp_path: Path) -> None:
    (case,) = import_nezha(fake_nezha, tmp_path / "out")
    with (case.bundle_dir / "metrics.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    by = {(r["timestamp"][11:16], r["service"], r["metric"]): float(r["value"]) for r in rows}
    assert by[("08:44", "ts-foo-service", "cpu_usage_ratio")] == 1.0  # 100.2 % clamped
    assert by[("08:43", "ts-foo-service", "cpu_usage_ratio")] == pytest.approx(0.03)
    assert by[("08:43", "ts-foo-service", "memory_usage_bytes")] == 400 * 1024 * 1024
    assert by[("08:43", "ts-foo-service", "memory_usage_ratio")] == pytest.approx(0.2)
    assert by[("08:44", "ts-foo-service", "error_ratio")] == pytest.approx(0.5)
    assert by[("08:43", "ts-foo-service", "error_ratio")] == 0.0
    assert ("08:46", "ts-foo-service", "error_ratio") not in by  # no traffic: no sample
    assert ("08:43", "ts-foo-service", "latency_p99_seconds") not in by  # NaN: a gap
    assert by[("08:43", "ts-foo-service", "requests_per_second")] == 0.5
    # the front file matches no pod here, so it is written as its own service
    assert by[("08:44", "frontend", "latency_p90_seconds")] == 2.0
    assert ("08:13", "frontend", "latency_p50_seconds") not in by
    assert min(r["timestamp"] for r in rows) >= "2023-01-29T08:13:04Z"
    assert max(r["timestamp"] for r in rows) <= "2023-01-29T08:48:04Z"
    assert any("SuccessRate(%) is 0 in every sample" in w for w in case.warnings)


def test_alert_comes_from_the_front_end_symptom(fake_nezha: Path, tmp_path: Path) -> None:
    (case,) = import_nezha(fake_nezha, tmp_path / "out")
    payload = json.loads((case.bundle_dir / "alerts.json").read_text())
    (alert,) = payload["alerts"]
    assert alert["labels"] == {
        "alertname": "FrontendLatencyHigh",
        "service": "frontend",
        "severity": "page",
    }
    assert alert["startsAt"] == "2023-01-29T08:44:09Z"
    assert "ts-foo-service" not in json.dumps(payload)
    label = json.loads(case.label_path.read_text())
    assert label == {
        "service": "ts-foo-service",
        "fault_type": "exception",
        "inject_time": "2023-01-29T08:43:04Z",
        "instance": POD,
        "source": "nezha-tt-2023-01-29",
        "case_id": case.case_id,
        "description": label["description"],
    }


def test_reimport_replaces_the_bundle(fake_nezha: Path, tmp_path: Path) -> None:
    (first,) = import_nezha(fake_nezha, tmp_path / "out")
    (first.bundle_dir / "stale.txt").write_text("old")
    (again,) = import_nezha(fake_nezha, tmp_path / "out", cases=["ts-foo"])
    assert again.bundle_dir == first.bundle_dir
    assert not (again.bundle_dir / "stale.txt").exists()


def test_unknown_case_filter_is_an_error(fake_nezha: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no case id contains"):
        import_nezha(fake_nezha, tmp_path / "out", cases=["23-59"])


def test_non_nezha_sources_raise_value_error(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"not a Nezha dataset.*fault_list\.json"):
        import_nezha(tmp_path / "notes", tmp_path / "out")
    with pytest.raises(ValueError, match="cannot unpack"):
        import_nezha(tmp_path / "notes" / "readme.txt", tmp_path / "out")
    with pytest.raises(ValueError, match="does not exist"):
        import_nezha(tmp_path / "missing", tmp_path / "out")
    lonely = tmp_path / "lonely" / "2023-01-29"
    lonely.mkdir(parents=True)
    (lonely / "2023-01-29-fault_list.json").write_text("{}")
    with pytest.raises(ValueError, match="none of log, trace, metric"):
        import_nezha(tmp_path / "lonely", tmp_path / "out")


def test_service_names_drop_pod_hashes() -> None:
    assert service_of("ts-ui-dashboard-5477b965f-2chkr") == "ts-ui-dashboard"
    assert service_of("ts-food-service-f5756978c-k8vqf") == "ts-food-service"
    assert service_of("mysql-0") == "mysql"
    assert service_of("standalone") == "standalone"


def test_symptom_rules() -> None:
    flat = [(INJECT - 60 * k, 0.4) for k in range(1, 31)] + [(INJECT + 65, 0.5)]
    assert latency_symptom({"p90": flat}, "web", INJECT, 1800, 300) is None
    spike = [*flat, (INJECT + 125, 1.5)]
    found = latency_symptom({"p90": spike}, "web", INJECT, 1800, 300)
    assert found is not None
    assert found.starts_at == INJECT + 125
    minute = INJECT // 60 * 60
    roots = [(minute - 30 + k / 10, f"a{k}") for k in range(20)]
    roots += [(minute + 70 + k / 10, f"b{k}") for k in range(20)]
    failing = {"a0", *(f"b{k}" for k in range(8))}
    errors = error_symptom(roots, failing, "gw", INJECT)
    assert errors is not None
    assert errors.starts_at == minute + 120
    assert error_symptom(roots, {"a0", "b0"}, "gw", INJECT) is None
    assert choose(None, found, errors) is errors  # earliest wins (08:45:00 < 08:45:09)
    fallback = fallback_symptom("web", INJECT)
    assert choose(None, None) is None
    payload = alertmanager_payload(fallback)
    assert payload["alerts"][0]["annotations"]["synthetic"].startswith("true")
    assert payload["alerts"][0]["startsAt"] == "2023-01-29T08:44:04Z"


def test_json_log_lines_keep_their_level_message_and_ids(fake_nezha: Path, tmp_path: Path) -> None:
    """A service logging JSON (OnlineBoutique's Go and Python services on the Nezha days of
    2022-08): its severity is the level, its message the message, not one INFO line of JSON."""
    day = fake_nezha / "rca_data" / "2023-01-29"
    line = {
        "message": "TraceID: t1 SpanID: s7 failed to charge card",
        "severity": "error",
        "timestamp": "2023-01-29T08:44:20.5Z",
    }
    docker = {"log": json.dumps(line) + "\n", "stream": "stdout", "time": "x"}
    nanos = 1674981860500000000  # 2023-01-29T08:44:20.5Z
    path = day / "log" / "08_44_log.csv"
    with path.open("a", encoding="utf-8", newline="") as out:
        csv.writer(out).writerow(
            ["2023-01-29T08:44:20.5Z", nanos, "10.0.0.1", POD, "server", "", "", json.dumps(docker)]
        )
    (case,) = import_nezha(fake_nezha, tmp_path / "out")
    (record,) = [r for r in _jsonl(case.bundle_dir / "logs.jsonl") if r.get("span_id") == "s7"]
    assert (record["level"], record["message"]) == ("error", "failed to charge card")
    assert record["trace_id"] == "t1" and record["service"] == service_of(POD)


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        (["ts-contacts-service-866bd68c97-xcqfx"], ("tt", "TrainTicket")),
        (
            [
                "frontend-579b9bff58-t2dbm",
                "cartservice-579f59597d-wc2lz",
                "checkoutservice-578fcf4766-9csqn",
            ],
            ("ob", "OnlineBoutique"),
        ),
        (["web-5f6585d649-fnmft"], ("ms", "microservices")),
    ],
)
def test_the_system_is_named_from_the_days_pods(
    pods: list[str], expected: tuple[str, str], tmp_path: Path
) -> None:
    for pod in pods:
        write_lines(tmp_path / "metric" / f"{pod}_metric.csv", ["Time"])
    assert system_of(NezhaDay(tmp_path, "2022-08-22", ())) == expected


def test_span_kinds_come_from_the_trace_s_shape_before_the_names(tmp_path: Path) -> None:
    """The data has no span kind. OnlineBoutique's frontend names its gRPC calls
    ``hipstershop.CartService/GetCart`` and its Python recommender names them
    ``/hipstershop.…`` like a URL path: a span whose children are all another service's is the
    caller's side of a call, and a span whose parent is another service's is a request entering
    it, whatever the names. Messaging spans (``<queue> send``, ``… process``) are a producer
    and a consumer; TrainTicket's names decide where the shape does not (a call with no traced
    server, a database statement)."""
    rows = [
        ("front", "root", "frontend-579b9bff58-t2dbm", "hipstershop.Frontend/Recv.", 100),
        ("cart", "front", "frontend-579b9bff58-t2dbm", "hipstershop.CartService/GetCart", 20),
        ("cartsrv", "cart", "cartservice-7c9d8b6f5-b2x4k", "hipstershop.CartService/GetCart", 5),
        (
            "reco",
            "front",
            "frontend-579b9bff58-t2dbm",
            "hipstershop.RecommendationService/List",
            30,
        ),
        ("recosrv", "reco", "recommendationservice-6f4c8d9b7-c3m5p", "/hipstershop.Reco/List", 25),
        (
            "list",
            "recosrv",
            "recommendationservice-6f4c8d9b7-c3m5p",
            "/hipstershop.Catalog/List",
            20,
        ),
        ("catsrv", "list", "productcatalogservice-8d7f6c5b4-d4q8r", "hipstershop.Catalog/List", 3),
        ("sql", "cartsrv", "cartservice-7c9d8b6f5-b2x4k", "SELECT cart", 1),
        ("lost", "front", "frontend-579b9bff58-t2dbm", "HTTP GET", 9),
        ("send", "front", "frontend-579b9bff58-t2dbm", "orders send", 1),
        ("handle", "send", "emailservice-9a8b7c6d5-e5w2z", "orders process", 4),
    ]
    path = tmp_path / "08_43_trace.csv"
    lines = [",".join(("TraceID", "SpanID", "ParentID", "PodName", "OperationName"))]
    lines[0] += ",StartTimeUnixNano,EndTimeUnixNano,Duration"
    lines += [span_row("t1", s, p, pod, op, "08:43:10.000000", ms) for s, p, pod, op, ms in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "traces.jsonl"
    valid = (datetime(2023, 1, 29, 8, 0, tzinfo=UTC).timestamp(), 1.8e9)
    convert_traces([(path, path.name)], out, Issues(), valid, {})
    spans = {s["span_id"]: s for s in _jsonl(out)}
    kinds = {span: spans[span]["kind"] for span, *_ in rows}
    assert kinds == {
        "front": "server",
        "cart": "client",
        "cartsrv": "server",
        "reco": "client",
        "recosrv": "server",
        "list": "client",
        "catsrv": "server",
        "sql": "client",
        "lost": "client",
        "send": "producer",
        "handle": "consumer",
    }
    assert spans["cart"]["attrs"]["peer.service"] == "cartservice"
    assert spans["list"]["attrs"]["peer.service"] == "productcatalogservice"
    assert spans["sql"]["attrs"]["db.statement"] == "SELECT cart"
    assert "attrs" not in spans["lost"]  # a call no traced server answered: no peer known
