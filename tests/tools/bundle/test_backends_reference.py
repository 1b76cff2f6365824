"""The bundle backends serve a bundle's reference period beside its incident: a query for the
reference window returns the reference data, as a live backend would for an earlier window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.reference_bundles import REFERENCE, WINDOW, bundle_deps, chronic_incident, load_chronic
from tools.backends import LogQuery, TraceQuery
from tools.bundle.reader import load_bundle
from tools.deps import configured
from tools.evidence import TimeWindow
from tools.records import LogLevel

BOTH = TimeWindow(start=REFERENCE.start, end=WINDOW.end)


async def test_logs_of_the_reference_window_are_the_reference_data(tmp_path: Path) -> None:
    bundle = load_chronic(tmp_path / "b")
    logs = configured(bundle_deps(bundle).logs)
    normal = await logs.count_by_service(LogQuery(window=REFERENCE))
    assert set(normal) == {"web", "api", "db"}  # cache is new since
    assert not await logs.count_by_service(LogQuery(window=REFERENCE, min_level=LogLevel.ERROR))
    incident = await logs.count_by_service(LogQuery(window=WINDOW, min_level=LogLevel.ERROR))
    assert incident["api"] > 0
    page = await logs.search(LogQuery(window=BOTH, limit=10_000))
    stamps = [r.ts for r in page.records]
    assert stamps == sorted(stamps)  # oldest first across both periods
    assert page.total == sum(normal.values()) + sum(
        (await logs.count_by_service(LogQuery(window=WINDOW))).values()
    )


async def test_metrics_of_both_periods_are_one_series(tmp_path: Path) -> None:
    bundle = load_chronic(tmp_path / "b")
    metrics = configured(bundle_deps(bundle).metrics)
    step = timedelta(minutes=1)
    normal = await metrics.series("latency_p99_seconds", REFERENCE, step)
    assert {s.service for s in normal} == {"web", "api", "db"}
    assert all(max(s.values) < 0.1 for s in normal)  # healthy
    spanning = await metrics.series("latency_p99_seconds", BOTH, step)
    api = [s for s in spanning if s.service == "api"]
    assert len(api) == 1 and len(api[0].timestamps) == 120
    assert list(api[0].timestamps) == sorted(api[0].timestamps)


async def test_traces_of_the_reference_are_kept_apart_even_with_reused_ids(
    tmp_path: Path,
) -> None:
    bundle = load_chronic(tmp_path / "b")
    # the chronic bundle reuses trace ids across periods (minute and index only)
    assert bundle.spans is not None and bundle.reference is not None
    assert bundle.reference.spans is not None
    assert {s.trace_id for s in bundle.spans} & {s.trace_id for s in bundle.reference.spans}
    traces = configured(bundle_deps(bundle).traces)
    found = await traces.find_traces(TraceQuery(window=REFERENCE, limit=1000))
    assert len(found) == 240 and all(len(t) == 3 for t in found)
    assert not any(s.error for t in found for s in t)
    incident = await traces.find_traces(TraceQuery(window=WINDOW, limit=1000))
    assert len(incident) == 240 and all(any(s.error for s in t) for t in incident)
    newest = await traces.find_traces(TraceQuery(window=BOTH, limit=5))
    assert all(t[0].start >= WINDOW.start.timestamp() for t in newest)  # newest first
    shared = incident[0][0].trace_id
    assert await traces.get_trace(shared) == incident[0]  # the incident's own trace first


async def test_metric_only_in_the_reference_is_listed(tmp_path: Path) -> None:
    path = chronic_incident(tmp_path / "b")
    with (path / "reference" / "metrics.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"{REFERENCE.start.isoformat()},api,queue_depth,3\n")
    metrics = configured(bundle_deps(load_bundle(path)).metrics)
    assert "queue_depth" in await metrics.signals()


async def test_a_bundle_without_reference_serves_only_itself(tmp_path: Path) -> None:
    deps = bundle_deps(load_chronic(tmp_path / "b", reference=False))
    assert not await configured(deps.logs).count_by_service(LogQuery(window=REFERENCE))
    step = timedelta(minutes=1)
    assert await configured(deps.metrics).series("error_ratio", REFERENCE, step) == []


async def test_a_moment_both_periods_hold_is_one_sample_the_incident_s(tmp_path: Path) -> None:
    """A reference cut from the same store as the incident's look-back (Nezha's fault-free
    phase inside the half hour before a fault) holds the same samples: served once, not as
    twice the evidence."""
    path = chronic_incident(tmp_path / "b")
    first = WINDOW.start.isoformat()
    with (path / "reference" / "metrics.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"{first},api,latency_p99_seconds,7.5\n")  # a moment the incident holds
    metrics = configured(bundle_deps(load_bundle(path)).metrics)
    found = await metrics.series(
        "latency_p99_seconds", TimeWindow(start=WINDOW.start, end=WINDOW.end), timedelta(minutes=1)
    )
    (api,) = [s for s in found if s.service == "api"]
    assert len(api.timestamps) == len(set(api.timestamps)) == 60
    assert api.values[0] != 7.5  # the incident's own sample at that moment
