"""Importer fixtures: a tiny hand-written Nezha layout, and the fault-free archive unpacked."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.bot.importers.fake_nezha import (
    FULL_POD_HEADER,
    GATEWAY,
    LOG_HEADER,
    POD,
    TRACE_HEADER,
    fault_list,
    log_row,
    minute_stamp,
    phase_files,
    pod_row,
    span_row,
    write_lines,
)
from tests.bundles import SHARED_DATASETS

NEZHA_NORMAL_ARCHIVE = SHARED_DATASETS / "nezha-tt-2023-01-29-normal.tar.xz"
METRIC_HEADER = (
    "Time,TimeStamp,PodName,CpuUsageRate(%),MemoryUsage(Mi),MemoryUsageRate(%),"
    "PodServerLatencyP90(s),PodServerLatencyP99(s),PodWorkload(Ops),"
    "PodSuccessRate(%)"
)
FRONT_HEADER = (
    "Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP50(s),LatencyP90(s),"
    "LatencyP95(s),LatencyP99(s)"
)


@pytest.fixture(scope="session")
def nezha_normal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same day's fault-free phase (construct_data/), unpacked once per session."""
    if not NEZHA_NORMAL_ARCHIVE.is_file():
        pytest.skip(f"dataset {NEZHA_NORMAL_ARCHIVE} is not available")
    root = tmp_path_factory.mktemp("nezha-normal")
    with tarfile.open(NEZHA_NORMAL_ARCHIVE, "r:xz") as tar:
        tar.extractall(root, filter="data")
    return root


def _metric_rows(front: bool) -> list[str]:
    rows = []
    for minute in range(35, 48):
        time, stamp = minute_stamp(8, minute)
        slow = 2.0 if minute == 44 else 0.2
        if front:
            rows.append(f"{time},{stamp},Frontend,0,0.05,{slow},{slow},{slow * 2}")
        elif minute == 40:
            rows.append(f"garbage,bad,{POD},1,400,20,0.01,0.02,0.5,100")
        else:
            cpu, success, load = (100.2, 50, 0.5) if minute == 44 else (3.0, 100, 0.5)
            if minute == 46:
                success, load = 0, 0
            rows.append(f"{time},{stamp},{POD},{cpu},400,20,0.01,NaN,{load},{success}")
    return rows


@pytest.fixture
def fake_nezha(tmp_path: Path) -> Path:
    """``src/rca_data/2023-01-29/`` with one exception case at 08:43:04 and bad rows."""
    day = tmp_path / "src" / "rca_data" / "2023-01-29"
    fault_list(day)
    good = log_row("08:42:30.123456", GATEWAY, "s1", "INFO", "[login][ok]")
    error = log_row("08:43:30.5", POD, "s2", "ERROR", "[foo][Foo failed][id: 7]")
    write_lines(
        day / "log" / "08_43_log.csv",
        [
            LOG_HEADER,
            good,
            "a,b,c,d,e",
            log_row("08:42:31", GATEWAY, "s1", "INFO", "x")
            .replace("2023-01-29T08:42:31.000Z", "yesterday", 1)
            .replace(",1674981751000000000,", ",-6795364578871345152,", 1),
            error,
            good,
        ],
    )
    write_lines(
        day / "log" / "08_44_log.csv",
        [LOG_HEADER, error, log_row("08:44:10.25", POD, "s2", "WARN", "[foo][slow]")],
    )
    write_lines(
        day / "trace" / "08_43_trace.csv",
        [
            TRACE_HEADER,
            span_row("t1", "s1", "root", GATEWAY, "/*", "08:42:30", 300),
            span_row("t1", "s2", "s1", POD, "/api/v1/foo", "08:42:30", 250),
            "t1,s3,s1,pod,HTTP GET,abc,def,1",
            span_row("t2", "s9", "gone", POD, "FooRepository.find", "08:43:10", 5),
        ],
    )
    write_lines(
        day / "trace" / "08_44_trace.csv",
        [TRACE_HEADER, span_row("t1", "s2", "s1", POD, "/api/v1/foo", "08:42:30", 250)],
    )
    write_lines(day / "trace" / "08_45_trace.csv", [TRACE_HEADER])
    write_lines(day / "metric" / f"{POD}_metric.csv", [METRIC_HEADER, *_metric_rows(front=False)])
    write_lines(day / "metric" / "front_service.csv", [FRONT_HEADER, *_metric_rows(front=True)])
    return tmp_path / "src"


@pytest.fixture
def fake_phase(fake_nezha: Path) -> Path:
    """``src/construct_data/2023-01-29/``: a healthy phase 08:50:10–08:51:30 beside the case,
    with its own metric file (the same pod, calm, per-minute samples 08:49–08:52)."""
    phase = phase_files(fake_nezha, ["08:50:10.5", "08:50:40", "08:51:30.25"])
    rows = [
        pod_row(POD, 8, minute, {"CpuUsageRate(%)": 2.5, "PodWorkload(Ops)": 0.5})
        for minute in range(49, 53)
    ]
    write_lines(phase / "metric" / f"{POD}_metric.csv", [FULL_POD_HEADER, *rows])
    return phase
