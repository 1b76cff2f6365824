"""Nezha importer on the real TrainTicket day (../shared/datasets/nezha-tt-2023-01-29.tar.xz).

The archive is unpacked once per session; all 28 cases are imported once (about 25 s) for the
cheap checks, and three bundles are read back in full for the expensive ones.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.importers.nezha import ImportedCase, import_nezha
from bot.importers.nezha_kpis import FRONT_KPIS, META_COLUMNS, POD_KPIS
from bot.importers.nezha_layout import service_of
from tests.bundles import NEZHA_ARCHIVE as ARCHIVE
from tools.alerts import parse_alertmanager_payload
from tools.bundle.reader import load_bundle

DAY = Path("rca_data") / "2023-01-29"
POD_HASHES = re.compile(r"-[a-z0-9]{6,10}-[a-z0-9]{5}$")
SAMPLE = ("08-43", "09-34", "13-31")  # return / return with few traces / cpu_contention

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not ARCHIVE.is_file(), reason=f"dataset {ARCHIVE} is not available"),
]


@pytest.fixture(scope="session")
def fault_list(nezha_dir: Path) -> list[dict[str, str]]:
    data = json.loads((nezha_dir / DAY / "2023-01-29-fault_list.json").read_text())
    return [entry for entries in data.values() for entry in entries]


@pytest.fixture(scope="session")
def all_cases(nezha_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[ImportedCase]:
    return import_nezha(nezha_dir, tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="session")
def sample(all_cases: list[ImportedCase]) -> list[ImportedCase]:
    return [c for c in all_cases if any(key in c.case_id for key in SAMPLE)]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_case_is_imported_with_its_label_outside_the_bundle(
    all_cases: list[ImportedCase],
    fault_list: list[dict[str, str]],
) -> None:
    assert len(all_cases) == len(fault_list) == 28
    expected = {
        (f"{e['inject_time'].replace(' ', 'T')}Z", e["inject_pod"], e["inject_type"])
        for e in fault_list
    }
    seen = set()
    for case in all_cases:
        assert case.bundle_dir == case.case_dir / "bundle"
        assert case.label_path == case.case_dir / "label.json"
        assert case.label_path.is_file()
        assert not any(p.name == "label.json" for p in case.bundle_dir.rglob("*"))
        label = _json(case.label_path)
        seen.add((label["inject_time"], label["instance"], label["fault_type"]))
        assert label["service"] == service_of(label["instance"])
        assert label["source"] == "nezha-tt-2023-01-29"
        assert label["case_id"] == case.case_id
        assert case.case_id == (
            f"{label['inject_time'][:10]}_{label['inject_time'][11:16]}".replace(":", "-")
            + f"_{label['service']}_{label['fault_type']}"
        )
    assert seen == expected


def test_case_ids_and_services_are_derived_from_pod_names(all_cases: list[ImportedCase]) -> None:
    ids = {c.case_id for c in all_cases}
    assert "2023-01-29_08-43_ts-contacts-service_return" in ids
    assert "2023-01-29_15-42_ts-preserve-service_cpu_contention" in ids
    assert service_of("ts-contacts-service-866bd68c97-xcqfx") == "ts-contacts-service"
    assert service_of("ts-consign-price-service-df498d7fb-725nt") == "ts-consign-price-service"
    assert service_of("ts-station-food-service-dc4d75dd-fw6ft") == "ts-station-food-service"
    for case in all_cases:
        manifest = _json(case.bundle_dir / "manifest.json")
        assert manifest["services"], case.case_id
        for service in manifest["services"]:
            assert service.startswith("ts-")
            assert not POD_HASHES.search(service), service


def test_manifest_window_holds_the_injection_and_reveals_no_fault(
    all_cases: list[ImportedCase],
) -> None:
    for case in all_cases:
        label = _json(case.label_path)
        manifest = _json(case.bundle_dir / "manifest.json")
        assert manifest["format"] == "rcabot-bundle"
        assert manifest["version"] == 1
        start, end = (_when(manifest["window"][k]) for k in ("start", "end"))
        inject = _when(label["inject_time"])
        assert start < inject < end
        assert (inject - start).total_seconds() >= 30 * 60
        text = json.dumps({k: v for k, v in manifest.items() if k != "services"})
        assert label["service"] not in text
        assert label["instance"] not in text
        assert label["fault_type"] not in text


def test_alert_is_a_webhook_payload_that_names_a_symptom_not_the_fault(
    all_cases: list[ImportedCase],
) -> None:
    real = 0
    for case in all_cases:
        label = _json(case.label_path)
        text = (case.bundle_dir / "alerts.json").read_text()
        payload = json.loads(text)
        assert payload["version"] == "4"
        assert payload["status"] == "firing"
        assert payload["receiver"] == "rcabot"
        assert payload["groupLabels"] == {"alertname": payload["commonLabels"]["alertname"]}
        assert set(payload) >= {"commonAnnotations", "externalURL", "groupKey", "truncatedAlerts"}
        (alert,) = payload["alerts"]
        assert set(alert) >= {
            "status",
            "labels",
            "annotations",
            "startsAt",
            "endsAt",
            "generatorURL",
            "fingerprint",
        }
        assert alert["labels"]["alertname"] in {"FrontendLatencyHigh", "FrontendErrorRateHigh"}
        assert alert["labels"]["service"] in {"ts-ui-dashboard", "ts-gateway-service"}
        assert label["service"] not in text
        assert label["instance"] not in text
        (parsed,) = parse_alertmanager_payload(payload)
        inject = _when(label["inject_time"])
        delay = (parsed.starts_at - inject).total_seconds()
        assert 0 < delay <= 6 * 60, case.case_id
        real += "synthetic" not in alert["annotations"]
    assert real >= 14  # most cases show a front-end symptom; the rest get a marked fallback


def test_metrics_are_converted_to_format_units(sample: list[ImportedCase]) -> None:
    for case in sample:
        inject = _when(_json(case.label_path)["inject_time"]).timestamp()
        names: set[str] = set()
        with (case.bundle_dir / "metrics.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                value, metric = float(row["value"]), row["metric"]
                names.add(metric)
                if metric.endswith("_ratio"):
                    assert 0.0 <= value <= 1.0, row
                if metric == "memory_usage_bytes":
                    assert value > 1024 * 1024, row
                if metric.endswith(("_seconds", "_per_second", "_bytes")):
                    assert value >= 0, row
                ts = _when(row["timestamp"]).timestamp()
                assert inject - 30 * 60 <= ts <= inject + 5 * 60
                assert row["service"] == (
                    service_of(row["instance"]) if row["instance"] else "ts-ui-dashboard"
                )
        # every per-pod KPI of the files, and the front end's P50
        expected = {kpi.metric for kpi in POD_KPIS.values()} | {"latency_p50_seconds"}
        # PodSuccessRate(%) is 0 everywhere in this dataset: no bogus error_ratio = 1
        assert names == expected - {"error_ratio"}
        assert any("PodSuccessRate(%)" in w for w in case.warnings)


def test_node_metrics_name_their_node(sample: list[ImportedCase]) -> None:
    with (sample[0].bundle_dir / "metrics.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    hosts: dict[str, set[str]] = {}
    for row in rows:
        if row["metric"].startswith("node_"):
            hosts.setdefault(row["instance"], set()).add(row["node"])
        else:
            assert not row["node"]
    assert all(len(names) == 1 and "" not in names for names in hosts.values())
    assert 1 < len(set().union(*hosts.values())) < len(hosts)  # pods share nodes


def test_every_kpi_column_of_the_real_files_is_known(nezha_dir: Path) -> None:
    for path in sorted((nezha_dir / DAY / "metric").glob("*.csv")):
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        table = FRONT_KPIS if path.name == "front_service.csv" else POD_KPIS
        assert set(header) - META_COLUMNS == set(table), path.name


def test_cases_without_the_fault_free_phase_say_so(all_cases: list[ImportedCase]) -> None:
    for case in all_cases:
        assert case.reference_dir is None
        assert not (case.bundle_dir / "reference").exists()
        assert any(w.startswith("reference: no construct_data/2023-01-29/") for w in case.warnings)


def test_logs_and_traces_are_valid_and_cover_before_and_after(
    sample: list[ImportedCase],
) -> None:
    for case in sample:
        inject = _when(_json(case.label_path)["inject_time"])
        logs = list(_jsonl(case.bundle_dir / "logs.jsonl"))
        stamps = [_when(r["ts"]) for r in logs]
        assert min(stamps) < inject < max(stamps)
        assert {r["level"] for r in logs} <= {"info", "warn", "error", "debug"}
        assert all(r["service"] == service_of(r["instance"]) for r in logs)
        assert not any(r["message"].startswith(("{", "TraceID")) for r in logs)
        spans = list(_jsonl(case.bundle_dir / "traces.jsonl"))
        ids = {(s["trace_id"], s["span_id"]) for s in spans}
        assert len(ids) == len(spans)  # repeated rows of overlapping files written once
        for span in spans:
            parent = span["parent_id"]
            assert parent is None or (span["trace_id"], parent) in ids
            assert span["duration_ms"] >= 0
            assert span["kind"] in {"server", "client", "internal", "producer", "consumer"}
        errors = [s for s in spans if s["status"] == "error"]
        assert errors
        assert all(s["attrs"]["error.message"] for s in errors)
        assert any(s["parent_id"] is None and s["service"] == "ts-gateway-service" for s in spans)


def test_bundles_load_cleanly_with_the_bundle_reader(sample: list[ImportedCase]) -> None:
    for case in sample:
        bundle = load_bundle(case.bundle_dir)
        assert bundle.warnings == []
        assert bundle.logs
        assert bundle.spans
        assert bundle.metrics
        assert bundle.alerts
        inject = _when(_json(case.label_path)["inject_time"])
        assert bundle.window.start < inject < bundle.window.end


def test_real_malformed_rows_of_the_dataset_are_reported(all_cases: list[ImportedCase]) -> None:
    (case,) = [c for c in all_cases if "10-04" in c.case_id]
    assert any(w.startswith("log/10_06_log.csv:631: expected 8 columns") for w in case.warnings)


def test_archive_is_unpacked_to_a_temporary_directory_and_removed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    (case,) = import_nezha(ARCHIVE, tmp_path / "out", cases=["08-43"])
    assert case.case_id == "2023-01-29_08-43_ts-contacts-service_return"
    assert (case.bundle_dir / "traces.jsonl").is_file()
    assert list(scratch.iterdir()) == []


def test_a_directory_below_rca_data_is_found(nezha_dir: Path, tmp_path: Path) -> None:
    (case,) = import_nezha(
        nezha_dir / DAY,
        tmp_path,
        cases=["14-23"],
        metrics_before=timedelta(minutes=10),
        metrics_after=timedelta(minutes=2),
    )
    label = _json(case.label_path)
    assert label["service"] == "ts-verification-code-service"
    assert label["fault_type"] == "cpu_contention"
    with (case.bundle_dir / "metrics.csv").open(newline="") as handle:
        stamps = {row["timestamp"] for row in csv.DictReader(handle)}
    inject = _when(label["inject_time"]).timestamp()
    assert all(inject - 600 <= _when(s).timestamp() <= inject + 120 for s in stamps)
    assert datetime.fromtimestamp(inject, UTC).hour == 14
