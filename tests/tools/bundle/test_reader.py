from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bundles import small_incident, write_jsonl
from tools.bundle.reader import load_bundle
from tools.errors import BundleError
from tools.records import LogLevel

GOOD_LOG = {"ts": "2026-03-02T09:00:00Z", "service": "api", "level": "info", "message": "hi"}


def test_reads_every_file_of_a_bundle(small_bundle: Path) -> None:
    bundle = load_bundle(small_bundle)
    assert bundle.logs and bundle.metrics and bundle.spans and bundle.alerts and bundle.changes
    assert bundle.services == ["web", "api", "db"]
    assert bundle.window.duration.total_seconds() == 3600
    assert bundle.warnings == []
    assert {s.metric for s in bundle.metrics} == {"error_ratio", "latency_p99_seconds"}
    assert all(len(s.timestamps) == 60 for s in bundle.metrics)


def test_bad_log_lines_are_skipped_with_file_and_line(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "logs.jsonl",
        [
            GOOD_LOG,
            "{not json",
            {"ts": "2026-03-02T09:00:01Z", "level": "info", "message": "no service"},
            {**GOOD_LOG, "ts": "half past nine"},
            {**GOOD_LOG, "ts": "2026-03-02T09:00:02"},  # no offset
            {**GOOD_LOG, "level": "loud"},
            "[1, 2]",
        ],
    )
    bundle = load_bundle(tmp_path)
    assert bundle.logs is not None and len(bundle.logs) == 1
    warnings = "\n".join(bundle.warnings)
    assert "logs.jsonl:2: not valid JSON" in warnings
    assert "logs.jsonl:3: missing key 'service'" in warnings
    assert "logs.jsonl:4: unparsable timestamp 'half past nine'" in warnings
    assert "logs.jsonl:5: timestamp '2026-03-02T09:00:02' has no UTC offset" in warnings
    assert "logs.jsonl:6: unknown log level 'loud'" in warnings
    assert "logs.jsonl:7: expected a JSON object" in warnings


def test_a_log_lines_attrs_may_name_the_statement_that_wrote_it(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "logs.jsonl",
        [
            {**GOOD_LOG, "attrs": {"logger": "t.s.TravelServiceImpl#372", "node": "n1"}},
            {**GOOD_LOG, "attrs": {"code.filepath": "pay.py", "code.lineno": 88}},
            GOOD_LOG,
            {**GOOD_LOG, "attrs": ["not", "an", "object"]},
        ],
    )
    bundle = load_bundle(tmp_path)
    assert bundle.logs is not None
    assert [r.source for r in bundle.logs] == ["t.s.TravelServiceImpl#372", "pay.py:88", None]
    assert bundle.warnings == ["logs.jsonl:4: attrs must be an object"]


def test_epoch_milliseconds_are_converted_with_one_warning(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "logs.jsonl", [{**GOOD_LOG, "ts": 1772442000000 + i} for i in range(3)])
    bundle = load_bundle(tmp_path)
    assert bundle.logs is not None
    assert bundle.logs[0].ts.isoformat() == "2026-03-02T09:00:00+00:00"
    assert bundle.warnings == [
        "logs.jsonl: timestamps given in epoch milliseconds; converted to seconds"
    ]


def test_metric_rows_with_wrong_units_or_columns_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text(
        "timestamp,service,metric,value\n"
        "2026-03-02T09:00:00Z,api,error_ratio,0.01\n"
        "2026-03-02T09:00:15Z,api,error_ratio,12.5\n"
        "2026-03-02T09:00:30Z,api,latency_p99_seconds,-1\n"
        "2026-03-02T09:00:45Z,api,error_ratio\n"
        "2026-03-02T09:01:00Z,api,error_ratio,lots\n"
    )
    bundle = load_bundle(tmp_path)
    assert bundle.metrics is not None
    assert [s.values for s in bundle.metrics] == [(0.01,)]
    warnings = "\n".join(bundle.warnings)
    assert "metrics.csv:3: error_ratio must be a ratio in [0, 1], got 12.5" in warnings
    assert "metrics.csv:4: latency_p99_seconds cannot be negative" in warnings
    assert "metrics.csv:5: expected 4 columns, got 3" in warnings
    assert "metrics.csv:6: value must be a number, got 'lots'" in warnings


def test_metrics_csv_without_required_header_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("time,svc,value\n1,a,2\n")
    with pytest.raises(BundleError, match=r"metrics.csv:1: header must contain"):
        load_bundle(tmp_path)


def test_a_file_with_only_bad_lines_is_an_error(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "traces.jsonl", ["nope", "{}"])
    with pytest.raises(BundleError, match=r"traces.jsonl: every line is bad \(2 lines\)"):
        load_bundle(tmp_path)


def test_bad_spans_are_skipped(tmp_path: Path) -> None:
    span = {
        "trace_id": "t",
        "span_id": "s",
        "service": "a",
        "operation": "op",
        "start": 1772442000,
        "duration_ms": 5,
    }
    write_jsonl(
        tmp_path / "traces.jsonl",
        [
            span,
            {**span, "duration_ms": -3},
            {**span, "status": "weird"},
            {**span, "kind": "x"},
            {**span, "parent_id": "root", "span_id": "r"},
        ],
    )
    bundle = load_bundle(tmp_path)
    assert bundle.spans is not None and len(bundle.spans) == 2
    assert bundle.spans[1].parent_id is None
    assert len(bundle.warnings) == 3


def test_openmetrics_samples(tmp_path: Path) -> None:
    (tmp_path / "metrics.om").write_text(
        "# TYPE latency_p99_seconds gauge\n"
        'latency_p99_seconds{service="api",instance="api-1"} 0.25 1772442000\n'
        'latency_p99_seconds{service="api",instance="api-1"} 0.5 1772442015\n'
        "latency_p99_seconds 0.3 1772442030\n"
        'error_ratio{service="api"} 0.1\n'
        "# EOF\n"
        'error_ratio{service="api"} 0.2 1772442000\n'
    )
    bundle = load_bundle(tmp_path)
    assert bundle.metrics is not None
    (series,) = bundle.metrics
    assert series.values == (0.25, 0.5)
    assert dict(series.labels) == {"instance": "api-1"}
    warnings = "\n".join(bundle.warnings)
    assert "metrics.om:4: sample has no 'service' label" in warnings
    assert "metrics.om:5: sample has no timestamp" in warnings


def test_missing_or_empty_directories_are_errors(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="does not exist"):
        load_bundle(tmp_path / "absent")
    with pytest.raises(BundleError, match="holds none of the bundle files"):
        load_bundle(tmp_path)


def test_bad_manifest_and_alerts_name_the_file(tmp_path: Path) -> None:
    small_incident(tmp_path)
    (tmp_path / "alerts.json").write_text(json.dumps({"alerts": [{"labels": {}}]}))
    with pytest.raises(BundleError, match=r"alerts.json: .*alertname"):
        load_bundle(tmp_path)
    (tmp_path / "alerts.json").unlink()
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(BundleError, match=r"manifest.json: not valid JSON"):
        load_bundle(tmp_path)


def test_level_aliases() -> None:
    assert LogLevel.parse("Warning") is LogLevel.WARN
    assert LogLevel.parse("CRITICAL") is LogLevel.FATAL
    assert LogLevel.parse("err") is LogLevel.ERROR


def test_a_service_map_is_read_with_the_bundle(tmp_path: Path) -> None:
    small_incident(tmp_path)
    (tmp_path / "service_map.csv").write_text("caller,callee\nweb,api\napi,\napi,db\n")
    bundle = load_bundle(tmp_path)
    assert bundle.service_map is not None
    assert bundle.service_map.calls == {"web": {"api"}, "api": {"db"}}
    assert bundle.warnings == ["service_map.csv:3: empty caller or callee"]


def test_a_service_map_that_is_none_fails_the_bundle_naming_it(tmp_path: Path) -> None:
    small_incident(tmp_path)
    (tmp_path / "service_map.csv").write_text("from,to\nweb,api\n")
    with pytest.raises(BundleError, match=r"service_map\.csv:1: header must contain caller"):
        load_bundle(tmp_path)
