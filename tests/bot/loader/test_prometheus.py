"""The Prometheus loader: OpenMetrics text, and backfilling it with the real promtool.

That Prometheus then serves the backfilled data is tested against a real server in
tests/tools/prometheus (the ``prometheus_url`` fixture loads through :func:`backfill`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.loader.prometheus import backfill, write_openmetrics
from tests.bundles import small_incident
from tests.servers.prometheus import binary
from tools.bundle.openmetrics import read_openmetrics
from tools.bundle.reader import load_bundle
from tools.errors import BackendError, BundleError
from tools.records import MetricSeries

T = 1772442000.0


def series(
    metric: str, service_name: str, points: list[tuple[float, float]], **labels: str
) -> MetricSeries:
    return MetricSeries(
        metric=metric,
        service=service_name,
        timestamps=tuple(t for t, _ in points),
        values=tuple(v for _, v in points),
        labels=MappingProxyType(labels),
    )


def test_openmetrics_text(tmp_path: Path) -> None:
    path = tmp_path / "m.om"
    count = write_openmetrics(
        [
            series("b_ratio", "web", [(T + 60, 0.5), (T, 0.25)]),  # out of order
            series("a_seconds", "api", [(T, math.nan), (T + 0.5, math.inf)], path='/x"y\\z'),
            series("b_ratio", "api", [(T, 1e-05), (T, 0.125)], pod=""),  # repeat keeps last
            series("a_seconds", "api", [(T + 1.007, -math.inf)], path='/x"y\\z'),
        ],
        path,
    )
    assert count == 6
    assert path.read_text(encoding="utf-8") == (
        "# TYPE a_seconds gauge\n"
        'a_seconds{path="/x\\"y\\\\z",service="api"} NaN 1772442000\n'
        'a_seconds{path="/x\\"y\\\\z",service="api"} +Inf 1772442000.500\n'
        'a_seconds{path="/x\\"y\\\\z",service="api"} -Inf 1772442001.007\n'
        "# TYPE b_ratio gauge\n"
        'b_ratio{service="api"} 0.125 1772442000\n'
        'b_ratio{service="web"} 0.25 1772442000\n'
        'b_ratio{service="web"} 0.5 1772442060\n'
        "# EOF\n"
    )


def test_openmetrics_reads_back_with_the_bundle_reader(tmp_path: Path) -> None:
    bundle = load_bundle(small_incident(tmp_path / "bundle"))
    original = [*(bundle.metrics or []), series("x_ratio", "db", [(T, 0.5)], note='a"b\\c\nd')]
    path = tmp_path / "m.om"
    count = write_openmetrics(original, path)
    skipped: list[str] = []
    samples = [s for _, s in read_openmetrics(path, lambda n, why: skipped.append(why))]
    assert not skipped and len(samples) == count == 60 * 3 * 2 + 1
    read = {(s.metric, s.service, tuple(s.labels.items()), s.timestamp, s.value) for s in samples}
    expected = {
        (m.metric, m.service, tuple(m.labels.items()), t, v)
        for m in original
        for t, v in zip(m.timestamps, m.values, strict=True)
    }
    assert read == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (series("latency p99", "web", [(T, 1.0)]), "not a valid Prometheus name"),
        (series("x", "web", [(T, 1.0)], **{"__name__": "y"}), "cannot be a Prometheus label"),
        (series("x", "web", [(T, 1.0)], service="other"), "cannot be a Prometheus label"),
    ],
)
def test_invalid_names_are_bundle_errors(tmp_path: Path, bad: MetricSeries, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        write_openmetrics([bad], tmp_path / "m.om")


async def test_backfill_writes_blocks_promtool_accepts(tmp_path: Path) -> None:
    bundle = load_bundle(small_incident(tmp_path / "bundle"))
    data = tmp_path / "data"
    count = await backfill(bundle.metrics or [], data, promtool=binary("promtool"))
    assert count == 360
    metas = [json.loads(p.read_text()) for p in data.glob("*/meta.json")]
    assert metas and sum(m["stats"]["numSamples"] for m in metas) == count
    assert min(m["minTime"] for m in metas) == int(T) * 1000


async def test_nothing_to_backfill(tmp_path: Path) -> None:
    assert await backfill([], tmp_path / "data", promtool=binary("promtool")) == 0
    assert not (tmp_path / "data").exists()


async def test_missing_promtool(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="promtool not found"):
        await backfill([series("x", "a", [(T, 1.0)])], tmp_path, promtool="no-such-promtool")


async def test_failing_promtool_reports_its_output(tmp_path: Path) -> None:
    fake = tmp_path / "promtool"
    fake.write_text("#!/bin/sh\necho 'first line' >&2\necho 'boom: disk full' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BackendError, match=r"(?s)failed \(exit 3\).*boom: disk full") as caught:
        await backfill([series("x", "a", [(T, 1.0)])], tmp_path / "data", promtool=str(fake))
    assert "first line" in str(caught.value)


async def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    occupied = tmp_path / "data"
    occupied.write_text("not a directory")
    with pytest.raises(BackendError, match=r"cannot use .* as a Prometheus data directory"):
        await backfill([series("x", "a", [(T, 1.0)])], occupied, promtool=binary("promtool"))
