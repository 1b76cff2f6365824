"""Nezha metric files → bundle rows: every KPI, counts to rates, gaps, nodes, bad rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.importers.nezha_issues import Issues
from bot.importers.nezha_metrics import HEADER, MetricStore, load_metrics
from tests.bot.importers.fake_nezha import FULL_POD_HEADER, minute_stamp, pod_row, write_lines

POD_A = "ts-alpha-service-5f55b6cf68-77cfw"
POD_B = "ts-beta-service-6f6cfc45b-h5m2n"
POD_C = "ts-gamma-service-866bd68c97-xcqfx"
MINUTES = range(35, 45)


def _node(minute: int, host: int) -> dict[str, object]:
    return {
        "NodeCpuUsageRate(%)": 10.0 + minute + host,
        "NodeMemoryUsageRate(%)": 40.0 + host,
        "NodeNetworkReceiveBytes": 1000.0 * host + minute,
    }


def _pod_a(minute: int) -> dict[str, object]:
    return {
        "CpuUsage(m)": 250,
        "CpuUsageRate(%)": 50,
        "MemoryUsage(Mi)": 300,
        "MemoryUsageRate(%)": 15,
        "SyscallRead": 120,  # per 60 s sample → 2/s
        "SyscallWrite": 0,  # 0 all day: not collected
        "NetworkReceiveBytes": 1500.5,
        "NetworkTransmitBytes": 30000.25,
        "PodClientLatencyP90(s)": 0.004,
        "PodClientLatencyP95(s)": 0.0045,
        "PodClientLatencyP99(s)": 3600 if minute == 40 else 0.005,
        "PodServerLatencyP90(s)": "NaN" if minute == 41 else 0.02,
        "PodServerLatencyP95(s)": 0.025,
        "PodServerLatencyP99(s)": 0.03,
        "PodWorkload(Ops)": 0 if minute == 42 else 1.5,
        "PodSuccessRate(%)": 99,
        **_node(minute, 1),
    }


@pytest.fixture
def store(tmp_path: Path) -> MetricStore:
    folder = tmp_path / "metric"
    rows_a = [pod_row(POD_A, 8, m, _pod_a(m)) for m in MINUTES]
    rows_a[3] = rows_a[3].replace(",50,", ",-5,", 1)  # a negative CPU percentage (08:38)
    rows_a.append("2023-01-29 08:45:09,1674981909,too,few")
    write_lines(folder / f"{POD_A}_metric.csv", [FULL_POD_HEADER, *rows_a])
    # the same node as A: its figures differ from A's only in float noise
    noisy = {m: {k: float(str(v)) + 1e-13 for k, v in _node(m, 1).items()} for m in MINUTES}
    write_lines(
        folder / f"{POD_B}_metric.csv",
        [FULL_POD_HEADER, *(pod_row(POD_B, 8, m, {"CpuUsage(m)": 5, **noisy[m]}) for m in MINUTES)],
    )
    header_c = FULL_POD_HEADER + ",GpuUsage(%)"
    write_lines(
        folder / f"{POD_C}_metric.csv",
        [
            header_c,
            *(pod_row(POD_C, 8, m, {"CpuUsage(m)": 7, **_node(m, 2)}) + ",3" for m in MINUTES),
        ],
    )
    return load_metrics(folder, "metric/")


def _write(store: MetricStore, start: float, end: float) -> tuple[list[dict[str, str]], Issues]:
    sink, issues = io.StringIO(), Issues()
    store.write(sink, start, end, issues)
    sink.seek(0)
    return list(csv.DictReader(sink)), issues


def _window() -> tuple[float, float]:
    return float(minute_stamp(8, 30)[1]), float(minute_stamp(8, 50)[1])


def test_every_kpi_is_written_in_bundle_units(store: MetricStore) -> None:
    rows, _ = _write(store, *_window())
    assert tuple(rows[0]) == HEADER
    a = {(r["timestamp"][11:16], r["metric"]): r for r in rows if r["instance"] == POD_A}
    at = {key: float(r["value"]) for key, r in a.items()}
    assert at[("08:36", "cpu_usage_cores")] == pytest.approx(0.25)
    assert at[("08:36", "cpu_usage_ratio")] == pytest.approx(0.5)
    assert at[("08:36", "memory_usage_bytes")] == 300 * 2**20
    assert at[("08:36", "memory_usage_ratio")] == pytest.approx(0.15)
    assert at[("08:36", "syscall_reads_per_second")] == pytest.approx(2.0)
    assert at[("08:36", "network_receive_bytes_per_second")] == 1500.5
    assert at[("08:36", "network_transmit_bytes_per_second")] == 30000.25
    assert at[("08:36", "client_latency_p90_seconds")] == pytest.approx(0.004)
    assert at[("08:36", "client_latency_p99_seconds")] == pytest.approx(0.005)
    assert at[("08:36", "latency_p95_seconds")] == pytest.approx(0.025)
    assert at[("08:36", "requests_per_second")] == 1.5
    assert at[("08:36", "error_ratio")] == pytest.approx(0.01)
    assert at[("08:36", "node_cpu_usage_ratio")] == pytest.approx((10 + 36 + 1) / 100)
    assert at[("08:36", "node_memory_usage_ratio")] == pytest.approx(0.41)
    assert at[("08:36", "node_network_receive_bytes_per_second")] == 1036.0
    assert all(r["service"] == "ts-alpha-service" for r in a.values())
    # gaps: the histogram ceiling, NaN, no traffic for the success rate; nothing of a dead column
    assert ("08:40", "client_latency_p99_seconds") not in at
    assert ("08:41", "latency_p90_seconds") not in at
    assert ("08:42", "error_ratio") not in at
    assert ("08:42", "requests_per_second") in at
    assert not any(metric == "syscall_writes_per_second" for _, metric in at)


def test_node_metrics_carry_the_host_shared_by_colocated_pods(store: MetricStore) -> None:
    rows, _ = _write(store, *_window())
    nodes: dict[str, set[str]] = {}
    for row in rows:
        if row["metric"].startswith("node_"):
            nodes.setdefault(row["instance"], set()).add(row["node"])
        else:
            assert row["node"] == "", row
    assert set(nodes) == {POD_A, POD_B, POD_C}
    assert all(len(names) == 1 and "" not in names for names in nodes.values())
    assert nodes[POD_A] == nodes[POD_B] != nodes[POD_C]


def test_findings_are_one_warning_per_column_and_bad_rows_keep_file_and_line(
    store: MetricStore,
) -> None:
    _, issues = _write(store, *_window())
    text = "\n".join(issues.as_tuple())
    assert "SyscallWrite is 0 in every sample of 3 of 3 files" in text
    assert "SyscallRead is 0 in every sample of 2 of 3 files" in text
    assert "PodClientLatencyP99(s): 1 samples at the 3600 s histogram ceiling" in text
    assert "column 'GpuUsage(%)' of 1 files is not a known Nezha KPI" in text
    assert f"metric/{POD_A}_metric.csv:5: CpuUsageRate(%): negative percentage -5" in text
    assert f"metric/{POD_A}_metric.csv:12: expected 22 columns, got 4; skipped" in text
    assert text.count("is 0 in every sample of") == len(
        {w for w in issues.as_tuple() if "is 0 in every sample of" in w}
    )
    assert issues.skipped == 2


def test_a_window_gets_only_its_rows_and_its_bad_lines(store: MetricStore) -> None:
    start, end = float(minute_stamp(8, 39)[1]), float(minute_stamp(8, 41)[1])
    rows, issues = _write(store, start, end)
    assert {r["timestamp"][11:16] for r in rows} == {"08:39", "08:40", "08:41"}
    text = "\n".join(issues.as_tuple())
    assert "negative percentage" not in text  # 08:38: outside this window
    assert "expected 22 columns" in text  # no time known: reported in every window


def test_per_sample_counts_use_the_files_own_step(tmp_path: Path) -> None:
    folder = tmp_path / "metric"
    rows = [pod_row(POD_A, 9, m, {"SyscallRead": 300, "CpuUsage(m)": 1}) for m in (0, 5, 10)]
    write_lines(folder / f"{POD_A}_metric.csv", [FULL_POD_HEADER, *rows])
    store = load_metrics(folder, "metric/")
    assert store.step == 300
    written, _ = _write(store, 0, 2e9)
    reads = {float(r["value"]) for r in written if r["metric"] == "syscall_reads_per_second"}
    assert reads == {1.0}
