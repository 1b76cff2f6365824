"""Every Nezha KPI column has a documented bundle metric, and its conversion is right."""

from __future__ import annotations

import re

import pytest

from bot.importers import nezha_kpis
from bot.importers.nezha_kpis import FRONT_KPIS, HISTOGRAM_CEILING_S, POD_KPIS
from tests.bot.importers.fake_nezha import FRONT_HEADER, FULL_POD_HEADER
from tests.bundles import REPO

FORMAT = REPO / "tools" / "bundle" / "FORMAT.md"


def _table_rows(doc: str) -> dict[str, str]:
    """``{Nezha column (with P90/95/99 spelled out): bundle metric}`` from the docstring."""
    rows: dict[str, str] = {}
    for line in doc.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"[a-z][a-z0-9_/]+", cells[1]):
            continue
        column, metric = cells[0], cells[1]
        quantiles = re.search(r"P(\d+(?:/\d+)+)\(s\)", column)
        if quantiles:
            for q in quantiles.group(1).split("/"):
                name = column.replace(quantiles.group(0), f"P{q}(s)")
                rows[name] = re.sub(r"p\d+(?:/p\d+)+", f"p{q}", metric)
        else:
            rows[column] = metric
    return rows


def test_every_column_of_the_real_headers_is_mapped_and_documented() -> None:
    documented = _table_rows(nezha_kpis.__doc__ or "")
    for header, table in ((FULL_POD_HEADER, POD_KPIS), (FRONT_HEADER, FRONT_KPIS)):
        for column in header.split(","):
            if column in nezha_kpis.META_COLUMNS:
                continue
            assert column in table, column
            assert documented.get(column) == table[column].metric, column


def test_every_bundle_metric_name_states_its_unit() -> None:
    units = ("_seconds", "_ratio", "_bytes", "_per_second", "_cores")
    for kpi in [*POD_KPIS.values(), *FRONT_KPIS.values()]:
        assert kpi.metric.endswith(units), kpi.metric
        assert re.fullmatch(r"[a-z][a-z0-9_]*", kpi.metric), kpi.metric


def test_every_metric_name_is_in_the_format_table() -> None:
    text = FORMAT.read_text(encoding="utf-8")
    for kpi in [*POD_KPIS.values(), *FRONT_KPIS.values()]:
        assert f"`{kpi.metric}`" in text, kpi.metric


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        ("CpuUsage(m)", 250.0, 0.25),  # millicores → cores
        ("CpuUsageRate(%)", 42.0, 0.42),
        ("CpuUsageRate(%)", 100.2, 1.0),  # clamped
        ("MemoryUsage(Mi)", 3.0, 3.0 * 2**20),
        ("MemoryUsageRate(%)", 5.0, 0.05),
        ("NetworkReceiveBytes", 1472.5, 1472.5),  # already a rate
        ("PodServerLatencyP99(s)", 0.25, 0.25),
        ("PodClientLatencyP90(s)", 264.0, 264.0),  # long calls are real
        ("PodSuccessRate(%)", 97.0, 0.03),  # → error_ratio
        ("NodeCpuUsageRate(%)", 12.5, 0.125),
        ("NodeNetworkReceiveBytes", 387.5, 387.5),
    ],
)
def test_conversions(column: str, raw: float, expected: float) -> None:
    assert POD_KPIS[column].convert(raw) == pytest.approx(expected)


def test_histogram_ceiling_is_a_gap_not_a_latency() -> None:
    for column in ("PodClientLatencyP99(s)", "PodServerLatencyP90(s)"):
        assert POD_KPIS[column].convert(HISTOGRAM_CEILING_S) is None
        assert POD_KPIS[column].convert(HISTOGRAM_CEILING_S - 1) == HISTOGRAM_CEILING_S - 1
    assert FRONT_KPIS["LatencyP50(s)"].convert(HISTOGRAM_CEILING_S) is None


@pytest.mark.parametrize(
    ("column", "raw"),
    [
        ("CpuUsage(m)", -1.0),
        ("CpuUsageRate(%)", -0.5),
        ("MemoryUsage(Mi)", -3.0),
        ("PodServerLatencyP90(s)", -0.1),
        ("PodSuccessRate(%)", 101.0),
        ("SyscallRead", -2.0),
    ],
)
def test_impossible_values_are_errors(column: str, raw: float) -> None:
    with pytest.raises(ValueError, match=r"negative|outside"):
        POD_KPIS[column].convert(raw)


def test_counts_per_sample_node_and_traffic_flags() -> None:
    assert {c for c, k in POD_KPIS.items() if k.per_step} == {"SyscallRead", "SyscallWrite"}
    assert {c for c, k in POD_KPIS.items() if k.node} == {
        "NodeCpuUsageRate(%)",
        "NodeMemoryUsageRate(%)",
        "NodeNetworkReceiveBytes",
    }
    assert POD_KPIS["PodSuccessRate(%)"].needs_traffic
    assert FRONT_KPIS["SuccessRate(%)"].needs_traffic
    assert POD_KPIS["PodWorkload(Ops)"].zero_is_data
