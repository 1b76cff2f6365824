"""Live backends: normal is the same window ``reference_offset_hours`` earlier, queried from the
same real Prometheus (promtool backfill of both periods; no logs or traces configured)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.commands import investigate_live
from bot.config import load_settings
from bot.investigation.report import Report
from bot.loader.bundle import raw_metric_queries
from bot.loader.prometheus import backfill
from tests.bundles import alert_payload, iso
from tests.reference_bundles import ALERT_AT, REFERENCE, WINDOW, load_chronic
from tests.servers.prometheus import binary, running_prometheus

OFFSET_HOURS = (WINDOW.start - REFERENCE.start) / timedelta(hours=1)  # the bundle's reference


@pytest.fixture(scope="module")
def prometheus_with_both_periods(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus holding the chronic incident's metrics and, 3 h earlier, the healthy
    ones; its URL."""
    root = tmp_path_factory.mktemp("reference-live")
    bundle = load_chronic(root / "bundle")
    assert bundle.metrics and bundle.reference and bundle.reference.metrics
    promtool = binary("promtool")
    for series in (bundle.metrics, bundle.reference.metrics):
        asyncio.run(backfill(series, root / "prometheus", promtool=promtool))
    with running_prometheus(root / "prometheus") as url:
        yield url


async def _investigate(url: str, tmp_path: Path, offset_hours: float | None) -> Report:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(alert_payload("WebHighErrorRate", "web", ALERT_AT)))
    settings = load_settings(
        metrics={
            "url": url,
            "step_s": 60,
            "queries": raw_metric_queries(["error_ratio", "latency_p99_seconds"]),
        },
        investigation={"reference_offset_hours": offset_hours},
    )
    return await investigate_live(
        settings, alert_file=alert, start=iso(WINDOW.start), end=iso(WINDOW.end), use_llm=False
    )


async def test_the_same_window_earlier_is_the_reference(
    prometheus_with_both_periods: str, tmp_path: Path
) -> None:
    report = await _investigate(prometheus_with_both_periods, tmp_path, OFFSET_HOURS)
    assert report.reference == REFERENCE
    metrics = [e for e in report.evidence if e.source.value == "metrics"]
    api = [e for e in metrics if e.service == "api"]
    assert api and all("reference period" in e.summary for e in api)
    assert {"api", "web"} <= {c.service for c in report.candidates}
    assert any("(cache)" in w for w in report.warnings)  # new since: compared with before


async def test_without_an_offset_the_minutes_before_are_the_baseline(
    prometheus_with_both_periods: str, tmp_path: Path
) -> None:
    report = await _investigate(prometheus_with_both_periods, tmp_path, None)
    assert report.reference is None
    assert not [e for e in report.evidence if e.source.value == "metrics" and e.service == "api"]
