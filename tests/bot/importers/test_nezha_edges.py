"""Nezha's per-edge call latencies (``source_50.csv``, ``destination_50.csv``) → edge series."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.importers.nezha_edges import load_edges, split_edge
from bot.importers.nezha_issues import Issues
from bot.importers.nezha_metrics import HEADER, SERVER_COLUMN, load_metrics
from tests.bot.importers.fake_nezha import FULL_POD_HEADER, minute_stamp, pod_row, write_lines
from tools.analysis.call_edges import CLIENT_TIME, SERVER_TIME, is_edge_series
from tools.bundle.metrics_file import read_metrics

CLIENT_POD = "checkoutservice-578fcf4766-9csqn"
SERVER_POD = "emailservice-55fdc5b988-f6xth"
SERVICES = {"checkoutservice", "emailservice", "frontend"}
# the real files' header: time, timestamp, one column per edge, and a trailing comma
EDGE_HEADER = "time,timestamp,checkoutservice_emailservice,frontend_checkoutservice,"


def _edge_row(minute: int, *cells: str) -> str:
    time, stamp = minute_stamp(8, minute)
    return ",".join((time, str(stamp), *cells, ""))


def _day(tmp_path: Path, source: list[str], destination: list[str]) -> Path:
    folder = tmp_path / "metric"
    for pod in (CLIENT_POD, SERVER_POD):
        rows = [pod_row(pod, 8, m, {"CpuUsage(m)": 5}) for m in range(40, 45)]
        write_lines(folder / f"{pod}_metric.csv", [FULL_POD_HEADER, *rows])
    write_lines(folder / "source_50.csv", [EDGE_HEADER, *source])
    write_lines(folder / "destination_50.csv", [EDGE_HEADER, *destination])
    return folder


def _source() -> list[str]:
    return [
        _edge_row(40, "0.003", "0.2"),
        _edge_row(41, "0.75", ""),  # no call from the front end that minute
        _edge_row(42, "NaN", "3600"),  # a gap, and the histogram ceiling
        _edge_row(43, "-1", "0.25"),
        "2023-01-29 08:44:09,1674982000,too,few",
    ]


def _destination() -> list[str]:
    return [_edge_row(m, "0.003", "0.19") for m in (40, 41, 42, 43)]


def test_a_column_splits_into_the_client_and_server_the_day_knows() -> None:
    assert split_edge("checkoutservice_emailservice", SERVICES) == (
        "checkoutservice",
        "emailservice",
    )
    both = {"order", "order_history", "history_api", "api"}
    assert split_edge("order_history_api", both) is None  # two readings
    assert split_edge("order_history_api", {"order", "history_api"}) == ("order", "history_api")
    assert split_edge("cart_redis", SERVICES) == ("cart", "redis")  # the only "_"
    assert split_edge("a_b_c", SERVICES) is None
    assert split_edge("_emailservice", SERVICES) is None


def test_each_side_of_an_edge_becomes_the_clients_series_labelled_with_the_server(
    tmp_path: Path,
) -> None:
    found = load_edges(_day(tmp_path, _source(), _destination()), "metric/", SERVICES)
    got: dict[tuple[str, str, str], dict[float, float]] = {}
    for s in found.series:
        for stamp, row in zip(s.stamps, s.rows, strict=True):
            (metric, value), *more = row
            assert not more  # one metric a series
            got.setdefault((s.service, s.server, metric), {})[stamp] = value
    at = {m: float(minute_stamp(8, m)[1]) for m in range(40, 44)}
    assert got[("checkoutservice", "emailservice", CLIENT_TIME)] == {at[40]: 0.003, at[41]: 0.75}
    assert got[("checkoutservice", "emailservice", SERVER_TIME)] == {
        at[m]: 0.003 for m in (40, 41, 42, 43)
    }
    # empty cells and NaN are gaps, the ceiling is a gap with a note, a negative value a warning
    assert got[("frontend", "checkoutservice", CLIENT_TIME)] == {at[40]: 0.2, at[43]: 0.25}
    assert "metric/source_50.csv: 1 samples at the 3600 s histogram ceiling" in found.notes[0]
    reasons = [(file, line, why) for file, line, why in found.line_issues]
    assert (
        "metric/source_50.csv",
        5,
        "checkoutservice_emailservice: negative latency -1.0",
    ) in reasons
    assert ("metric/source_50.csv", 6, "expected 5 columns, got 4") in reasons


def test_bad_headers_and_columns_are_warnings_not_failures(tmp_path: Path) -> None:
    folder = tmp_path / "metric"
    write_lines(folder / "source_50.csv", ["when,a_b_c,checkoutservice_emailservice", "1,2,3"])
    write_lines(
        folder / "destination_50.csv",
        ["time,timestamp,a_b_c,checkoutservice_emailservice", _edge_row(40, "1", "0.01")[:-1]],
    )
    found = load_edges(folder, "metric/", SERVICES)
    assert found.notes == [
        "metric/source_50.csv:1: no timestamp column; file skipped",
        "metric/destination_50.csv: column 'a_b_c' is not <client>_<server> of one edge; left out",
    ]
    assert [(s.service, s.server, s.rows) for s in found.series] == [
        ("checkoutservice", "emailservice", [[(SERVER_TIME, 0.01)]])
    ]
    assert not load_edges(tmp_path / "nothing", "metric/", SERVICES).notes  # TrainTicket's days


def test_the_bundle_rows_carry_a_server_column_the_reader_reads_as_edges(tmp_path: Path) -> None:
    store = load_metrics(_day(tmp_path, _source(), _destination()), "metric/")
    sink, issues = io.StringIO(), Issues()
    start, end = float(minute_stamp(8, 41)[1]), float(minute_stamp(8, 44)[1])
    store.write(sink, start, end, issues)
    rows = list(csv.DictReader(io.StringIO(sink.getvalue())))
    assert tuple(rows[0]) == (*HEADER, SERVER_COLUMN)
    own = [r for r in rows if not r["metric"].startswith("call_")]
    assert own and all(r[SERVER_COLUMN] == "" for r in own)
    edges = {(r["service"], r[SERVER_COLUMN], r["metric"], r["timestamp"][11:16]) for r in rows} - {
        (r["service"], "", r["metric"], r["timestamp"][11:16]) for r in own
    }
    assert ("checkoutservice", "emailservice", CLIENT_TIME, "08:41") in edges
    assert ("checkoutservice", "emailservice", CLIENT_TIME, "08:40") not in edges  # outside
    assert "negative latency" in "\n".join(issues.as_tuple())

    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "metrics.csv").write_text(sink.getvalue(), encoding="utf-8")
    series = read_metrics(tmp_path / "bundle", [])
    assert series is not None
    edge = [s for s in series if is_edge_series(s)]
    assert {(s.service, s.labels[SERVER_COLUMN], s.metric) for s in edge} >= {
        ("checkoutservice", "emailservice", CLIENT_TIME),
        ("checkoutservice", "emailservice", SERVER_TIME),
    }
    assert not any(is_edge_series(s) for s in series if s.metric == "cpu_usage_cores")


def test_a_day_without_edge_files_writes_the_header_it_always_had(tmp_path: Path) -> None:
    folder = tmp_path / "metric"
    write_lines(
        folder / f"{CLIENT_POD}_metric.csv",
        [FULL_POD_HEADER, pod_row(CLIENT_POD, 8, 40, {"CpuUsage(m)": 5})],
    )
    sink = io.StringIO()
    load_metrics(folder, "metric/").write(sink, 0, 2e9, Issues())
    assert sink.getvalue().splitlines()[0] == ",".join(HEADER)


@pytest.mark.parametrize("file", ["source_50.csv", "destination_50.csv"])
def test_an_unreadable_header_skips_that_file_only(tmp_path: Path, file: str) -> None:
    folder = _day(tmp_path, _source(), _destination())
    (folder / file).write_bytes(b"time,time\x00stamp\n")
    found = load_edges(folder, "metric/", SERVICES)
    assert any(file in note and "file skipped" in note for note in found.notes)
    assert found.series  # the other file's
