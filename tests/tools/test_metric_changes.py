"""metric_changes against a reference period: a service faulty all along shows a change only
against the healthy reference; a service the reference lacks keeps the samples before."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from tests.reference_bundles import REFERENCE, WINDOW, bundle_deps, load_chronic
from tests.tools.memory_metrics import MemoryMetrics
from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange
from tools.analysis.metric_kinds import SignalGroup
from tools.deps import Deps
from tools.evidence import EvidenceDraft, Source
from tools.gateway import ToolGateway
from tools.metric_changes import (
    MAX_EVIDENCE,
    PER_SERVICE,
    evidence_group,
    metric_changes,
    without_past_episodes,
)
from tools.records import MetricSeries
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


STEPS_BEFORE, STEPS_AFTER = 40, 20
SPLIT = WINDOW.start + timedelta(minutes=STEPS_BEFORE)


def _step(metric: str, service: str, before: float, after: float) -> MetricSeries:
    """One sample a minute: ``before`` (with a little wiggle) then ``after`` from ``SPLIT``."""
    values = [before * (1 + 0.01 * (i % 3)) for i in range(STEPS_BEFORE)]
    values += [after * (1 + 0.01 * (i % 3)) for i in range(STEPS_AFTER)]
    start = WINDOW.start.timestamp()
    return MetricSeries(
        metric=metric,
        service=service,
        timestamps=tuple(start + 60 * i for i in range(len(values))),
        values=tuple(values),
    )


async def _evidence_keys(series: list[MetricSeries]) -> list[str]:
    result = await ToolGateway(Deps(metrics=MemoryMetrics(series))).call(
        metric_changes, window=WINDOW, baseline_end=SPLIT
    )
    assert result.ok
    return [e.key for e in result.evidence]


async def test_evidence_cites_at_most_a_few_changes_of_each_service() -> None:
    services = [f"svc{i:02d}" for i in range(MAX_EVIDENCE // PER_SERVICE + 3)]
    series = [
        _step(metric, service, 0.1, 0.8)
        for service in services
        for metric in ("latency_p50_seconds", "latency_p90_seconds", "latency_p99_seconds")
    ]
    keys = await _evidence_keys(series)
    assert len(keys) == MAX_EVIDENCE  # more significant changes than that
    per_service = Counter(key.split(":")[1] for key in keys)
    assert max(per_service.values()) == PER_SERVICE
    assert set(per_service) == set(services)  # each service once before any twice


async def test_a_service_s_second_item_is_another_signal_where_one_changed() -> None:
    """CPU in cores and as a ratio are one fact; its latency is another."""
    series = [
        _step("cpu_usage_cores", "api", 0.01, 0.9),
        _step("cpu_usage_ratio", "api", 0.01, 0.9),
        _step("latency_p99_seconds", "api", 0.1, 0.3),  # smaller, cited all the same
    ]
    keys = await _evidence_keys(series)
    assert len(keys) == PER_SERVICE
    assert "metrics:api:latency_p99_seconds" in keys


async def test_one_service_with_many_changes_leaves_room_for_the_others() -> None:
    quantiles = [f"latency_p{q}_seconds" for q in (50, 75, 90, 95, 99, 999)]
    series = [_step(metric, "api", 0.1, 2.0) for metric in quantiles]
    series.append(_step("error_ratio", "db", 0.01, 0.05))
    keys = await _evidence_keys(series)
    assert sum(key.startswith("metrics:api:") for key in keys) == PER_SERVICE
    assert "metrics:db:error_ratio" in keys


async def test_own_signals_are_cited_before_traffic_that_jumped_from_zero() -> None:
    idle = [f"batch{i:02d}" for i in range(MAX_EVIDENCE)]  # woke up: traffic from nothing
    series = [_step("requests_per_second", service, 0.0, 500.0) for service in idle]
    # a modest rise, less significant than any of theirs (their z is capped)
    series.append(_step("cpu_usage_cores", "web", 0.2, 0.35))
    keys = await _evidence_keys(series)
    assert keys[0] == "metrics:web:cpu_usage_cores"
    assert len(keys) == MAX_EVIDENCE and all(k.endswith(":requests_per_second") for k in keys[1:])


async def test_own_behaviour_is_cited_before_the_work_that_came() -> None:
    """Its latency and its CPU say what went wrong; its traffic and system calls fell (less
    work came), more significantly than its CPU rose, and are cited only after them."""
    series = [
        _step("latency_p90_seconds", "currency", 0.1, 3.6),
        _step("syscall_reads_per_second", "currency", 60.0, 2.0),
        _step("requests_per_second", "currency", 27.0, 7.0),
        _step("cpu_usage_ratio", "currency", 0.53, 0.87),
    ]
    keys = await _evidence_keys(series)
    assert keys == ["metrics:currency:latency_p90_seconds", "metrics:currency:cpu_usage_ratio"]
    assert await _evidence_keys(series[:3]) == [
        "metrics:currency:latency_p90_seconds",
        "metrics:currency:syscall_reads_per_second",  # nothing of its own left: the rest
    ]


def test_a_metric_item_s_group_is_read_from_its_key() -> None:
    def item(key: str) -> EvidenceDraft:
        return EvidenceDraft(key=key, source=Source.METRICS, title="t", summary="s", query="q")

    assert evidence_group(item("metrics:api:cpu_usage_ratio")) is SignalGroup.CPU
    assert evidence_group(item("metrics:api:job:latency_seconds:p99")) is SignalGroup.LATENCY
    assert evidence_group(item("traces:latency:api")) is None
    assert evidence_group(item("metrics:api")) is None


async def test_series_none_of_which_has_a_baseline_are_said_to_be_uncompared() -> None:
    """Read, yet compared with nothing: the result says so, rather than finding no change."""
    late = [_step("latency_p99_seconds", "api", 0.1, 0.8), _step("error_ratio", "api", 0, 0.2)]
    early = SPLIT - timedelta(minutes=STEPS_BEFORE)
    result = await ToolGateway(Deps(metrics=MemoryMetrics(late))).call(
        metric_changes, window=WINDOW, baseline_end=early
    )
    assert result.ok and result.data == []
    assert result.warnings == [
        f"none of the 2 metric series has 3 samples before {early:%H:%M:%S}, where the "
        "baseline ends: none was compared with normal"
    ]
    scored = await ToolGateway(Deps(metrics=MemoryMetrics(late))).call(
        metric_changes, window=WINDOW, baseline_end=SPLIT
    )
    assert scored.data and scored.warnings == []


async def test_a_process_that_went_away_is_cited_going_down() -> None:
    """CPU and memory fell together to almost nothing: cited as falls, saying why they count."""
    series = [
        _step("cpu_usage_ratio", "redis", 0.12, 0.002),
        _step("memory_usage_bytes", "redis", 260e6, 6e6),
        _step("cpu_usage_ratio", "idle", 0.12, 0.002),  # its callers stopped calling
        _step("memory_usage_bytes", "idle", 260e6, 250e6),
    ]
    result = await ToolGateway(Deps(metrics=MemoryMetrics(series))).call(
        metric_changes, window=WINDOW, baseline_end=SPLIT
    )
    assert result.ok
    cited = {e.key: e for e in result.evidence}
    assert set(cited) == {"metrics:redis:cpu_usage_ratio", "metrics:redis:memory_usage_bytes"}
    memory = cited["metrics:redis:memory_usage_bytes"]
    assert " down " in memory.title and "up" not in memory.title
    assert "the process is gone" in memory.summary and "Its CPU fell as far" in memory.summary


async def test_a_rise_between_low_samples_reads_as_a_rise_in_title_and_summary() -> None:
    """A p99 that flips between 480 ms and 25 ms after the split: past the threshold at each
    low sample, between two high ones (the median of three); told by the levels its score rests
    on, never "up 71% (85 ms → 25 ms)"."""
    before = [(0.085, 0.08, 0.09)[i % 3] for i in range(STEPS_BEFORE)]
    after = [(0.48, 0.025)[i % 2] for i in range(STEPS_AFTER)]
    start = WINDOW.start.timestamp()
    values = before + after
    series = MetricSeries(
        metric="latency_p99_seconds",
        service="order",
        timestamps=tuple(start + 60 * i for i in range(len(values))),
        values=tuple(values),
    )
    result = await ToolGateway(Deps(metrics=MemoryMetrics([series]))).call(
        metric_changes, window=WINDOW, baseline_end=SPLIT
    )
    item = next(e for e in result.evidence if e.key == "metrics:order:latency_p99_seconds")
    assert re.fullmatch(r"order: latency_p99_seconds up \d+% \(85 ms → 4\d\d ms\)", item.title)
    told = r"went up from a baseline median of 85 ms to 4\d\d ms \(\+\d+%\), peaking at 4\d\d ms"
    assert re.search(told, item.summary)


async def test_an_episode_over_before_the_incident_is_not_its_evidence() -> None:
    """A service's CPU up 10 minutes and back 5 minutes after the split (an earlier incident
    in the window) is evidence until the incident starts after it, not from then on."""
    episode = _step("cpu_usage_ratio", "mail", 0.1, 0.8)
    values = list(episode.values[: STEPS_BEFORE + 10]) + list(episode.values[:10])
    episode = MetricSeries(
        metric=episode.metric,
        service=episode.service,
        timestamps=episode.timestamps,
        values=tuple(values),
    )
    ongoing = _step("latency_p99_seconds", "api", 0.1, 0.8)
    result = await ToolGateway(Deps(metrics=MemoryMetrics([episode, ongoing]))).call(
        metric_changes, window=WINDOW, baseline_end=SPLIT
    )
    assert result.data is not None
    assert {e.key for e in result.evidence} == {
        "metrics:mail:cpu_usage_ratio",
        "metrics:api:latency_p99_seconds",
    }
    over = SPLIT + timedelta(minutes=10)  # the first sample back to normal
    early = without_past_episodes(
        result.evidence, result.data, (over - timedelta(seconds=1)).timestamp()
    )
    assert early == result.evidence
    later = without_past_episodes(result.evidence, result.data, over.timestamp())
    assert [e.key for e in later] == ["metrics:api:latency_p99_seconds"]


async def test_an_earlier_episode_does_not_take_the_citations_of_the_incident() -> None:
    """The frontend's CPU and latency rose in an earlier fault, over 10 minutes after the
    split; its errors rose later, in the incident. A service is cited at most twice, its
    largest changes first: the earlier episode took both, unless the incident's start is
    given, when what was over by then is not cited and the errors are."""

    def episode(metric: str, before: float, during: float) -> MetricSeries:
        step = _step(metric, "frontend", before, during)
        values = list(step.values[: STEPS_BEFORE + 10]) + list(step.values[:10])
        return replace(step, values=tuple(values))

    late = [0.0] * (STEPS_BEFORE + 12) + [0.05] * (STEPS_AFTER - 12)
    errors = replace(_step("error_ratio", "frontend", 0.0, 0.0), values=tuple(late))
    series = [
        episode("cpu_usage_ratio", 0.05, 0.95),
        episode("latency_p99_seconds", 0.1, 3.0),
        errors,
    ]
    gateway = ToolGateway(Deps(metrics=MemoryMetrics(series)))
    first = await gateway.call(metric_changes, window=WINDOW, baseline_end=SPLIT)
    assert {e.key for e in first.evidence} == {
        "metrics:frontend:cpu_usage_ratio",
        "metrics:frontend:latency_p99_seconds",
    }
    start = SPLIT + timedelta(minutes=12)
    cited = await gateway.call(
        metric_changes, window=WINDOW, baseline_end=SPLIT, incident_start=start
    )
    assert [e.key for e in cited.evidence] == ["metrics:frontend:error_ratio"]
    assert cited.data == first.data  # the same scoring: only what is cited differs
