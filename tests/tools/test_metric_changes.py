"""metric_changes against a reference period: a service faulty all along shows a change only
against the healthy reference; a service the reference lacks keeps the samples before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.reference_bundles import REFERENCE, WINDOW, bundle_deps, load_chronic
from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange
from tools.gateway import ToolGateway
from tools.metric_changes import metric_changes
from tools.result import ToolResult

BASELINE_END = WINDOW.start + timedelta(minutes=34)


def _significant(result: ToolResult[list[SeriesChange]]) -> dict[tuple[str, str], SeriesChange]:
    assert result.ok and result.data is not None
    return {(c.service, c.metric): c for c in result.data if c.score >= Z_THRESHOLD}


async def test_the_change_is_found_only_against_the_reference(tmp_path: Path) -> None:
    gateway = ToolGateway(bundle_deps(load_chronic(tmp_path / "b")))
    alone = await gateway.call(metric_changes, window=WINDOW, baseline_end=BASELINE_END)
    against = await gateway.call(
        metric_changes, window=WINDOW, baseline_end=BASELINE_END, reference=REFERENCE
    )
    assert ("api", "latency_p99_seconds") not in _significant(alone)
    found = _significant(against)
    api = found[("api", "latency_p99_seconds")]
    assert api.against_reference and api.baseline_median < 0.1 < api.incident_median
    assert ("api", "error_ratio") in found
    assert ("db", "latency_p99_seconds") not in found  # healthy in both periods
    summary = next(
        e.summary for e in against.evidence if e.key.endswith(":api:latency_p99_seconds")
    )
    assert "reference period" in summary
    assert all(e.window == WINDOW for e in against.evidence)  # evidence shows the incident


async def test_a_service_absent_from_the_reference_keeps_the_samples_before(
    tmp_path: Path,
) -> None:
    gateway = ToolGateway(bundle_deps(load_chronic(tmp_path / "b")))
    result = await gateway.call(
        metric_changes, window=WINDOW, baseline_end=BASELINE_END, reference=REFERENCE
    )
    cache = _significant(result)[("cache", "latency_p99_seconds")]
    assert not cache.against_reference  # new since the reference, its change still shows
    assert len(result.warnings) == 1
    assert "cache" in result.warnings[0] and "api" not in result.warnings[0]
    assert "before the incident" in result.warnings[0]


async def test_an_empty_reference_changes_nothing_but_says_so(tmp_path: Path) -> None:
    gateway = ToolGateway(bundle_deps(load_chronic(tmp_path / "b", reference=False)))
    alone = await gateway.call(metric_changes, window=WINDOW, baseline_end=BASELINE_END)
    against = await gateway.call(
        metric_changes, window=WINDOW, baseline_end=BASELINE_END, reference=REFERENCE
    )
    assert against.data == alone.data
    assert alone.warnings == [] and len(against.warnings) == 1
    assert "has no metric samples of 4 of 4 services" in against.warnings[0]
