"""Metrics that begin after the baseline's usual end (issue 11): the first fault of each Nezha
day is recorded from a few minutes before it, so no metric sample lay before "ten minutes
before the alert" and every series went unscored; OnlineBoutique's frontend at 03:53, its CPU
from a quarter of its limit to all of it, was ranked without a single metric."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.investigation import engine, late_metrics
from bot.investigation.engine import investigate
from bot.investigation.report import Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.sources import bundle_sources
from tests.bundles import T0, iso, small_incident
from tests.tools.memory_metrics import MemoryMetrics
from tools.backends import MetricsBackend, QueryInfo
from tools.call_edge_changes import call_edge_changes
from tools.deps import Deps
from tools.errors import BackendError
from tools.evidence import TimeWindow
from tools.gateway import ToolGateway
from tools.metric_changes import metric_changes
from tools.records import MetricSeries

NOTE = "no metric series had 3 samples before 09:34:00, where the baseline ends"


async def _investigate(path: Path) -> Report:
    sources = await bundle_sources(path, load_settings())
    return await investigate(
        InvestigationRequest(alert=sources.alert), sources.deps, sources.window
    )


def _metrics_from(path: Path, minute: int) -> Path:
    """The small incident (api fails at 09:40, the alert at 09:44, so the baseline ends at
    09:34) with its metrics recorded from ``minute`` on only."""
    small_incident(path)
    first = iso(T0 + timedelta(minutes=minute))
    lines = (path / "metrics.csv").read_text().splitlines()
    kept = [lines[0], *(line for line in lines[1:] if line.split(",")[0] >= first)]
    (path / "metrics.csv").write_text("\n".join(kept) + "\n")
    return path


def _metric_titles(report: Report) -> list[str]:
    return [e.title for e in report.evidence if e.source == "metrics"]


async def test_metrics_that_begin_late_are_compared_with_the_minutes_before_the_start(
    tmp_path: Path,
) -> None:
    late = await _investigate(_metrics_from(tmp_path / "late", 36))
    assert any(t.startswith("api: latency_p99_seconds up") for t in _metric_titles(late))
    api = next(c for c in late.candidates if c.service == "api")
    assert api.signals.get("metrics", 0) > 0.5
    note = next(w for w in late.warnings if w.startswith(NOTE))
    assert f"compared with the samples before {late.incident_start[11:19]}" in note
    assert late.incident_start >= "2026-03-02T09:36"


async def test_metrics_with_a_baseline_are_scored_once_and_say_nothing(tmp_path: Path) -> None:
    whole = await _investigate(_metrics_from(tmp_path / "whole", 0))
    assert any(t.startswith("api: latency_p99_seconds up") for t in _metric_titles(whole))
    assert not any("no metric series had" in w for w in whole.warnings)


async def test_metrics_that_begin_after_the_start_leave_nothing_to_compare(
    tmp_path: Path,
) -> None:
    """No sample before the start either: nothing is scored, and the report says so (not that
    the metrics showed no change)."""
    report = await _investigate(_metrics_from(tmp_path / "after", 41))
    assert _metric_titles(report) == []
    assert not any("no metric series had" in w for w in report.warnings)  # not rescored
    unscored = next(w for w in report.warnings if w.startswith("none of the"))
    start = report.incident_start[11:19]
    assert unscored.endswith(
        f"metric series has 3 samples before {start}, where the baseline ends: none was "
        "compared with normal"
    )
    assert report.candidates[0].service == "api"  # the logs and traces still rank it


async def test_metrics_alone_and_none_comparable_say_so_in_the_answer(tmp_path: Path) -> None:
    """With no other source, "no service showed a significant change" would be untrue of
    metrics that were never compared: the answer says they were not."""
    path = _metrics_from(tmp_path / "alone", 41)
    (path / "logs.jsonl").unlink()
    (path / "traces.jsonl").unlink()
    report = await _investigate(path)
    assert report.candidates == []
    assert "Not compared with normal: metrics were read, but no series could be scored" in (
        report.answer
    )
    assert any(w.startswith("none of the") for w in report.warnings)
    whole = await _investigate(_metrics_from(tmp_path / "whole", 0))
    assert "metrics were read" not in whole.answer


class _FailsOnSecondScoring:
    """The bundle's metrics, failing every query once the first scoring is done (a Prometheus
    that went away between the two)."""

    def __init__(self, inner: MetricsBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.broken = False

    async def signals(self) -> list[str]:
        return await self.inner.signals()

    async def series(self, signal: str, window: TimeWindow, step: timedelta) -> list[MetricSeries]:
        if self.broken:
            raise BackendError("prometheus", "connection refused")
        return await self.inner.series(signal, window, step)

    def describe(self, signal: str, window: TimeWindow, service: str | None = None) -> QueryInfo:
        return self.inner.describe(signal, window, service)


async def test_a_second_scoring_that_fails_leaves_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = await bundle_sources(_metrics_from(tmp_path / "late", 36), load_settings())
    assert sources.deps.metrics is not None
    flaky = _FailsOnSecondScoring(sources.deps.metrics)
    deps = replace(sources.deps, metrics=flaky)
    first_scoring = late_metrics.scored_before_start

    async def break_then_score(*args: Any, **kwargs: Any) -> Any:
        flaky.broken = True
        return await first_scoring(*args, **kwargs)

    monkeypatch.setattr(engine, "scored_before_start", break_then_score)
    report = await investigate(InvestigationRequest(alert=sources.alert), deps, sources.window)
    assert _metric_titles(report) == []  # nothing scored, as before, but not in silence
    assert any(w.startswith("none of the") and "before 09:34:00" in w for w in report.warnings)
    start = report.incident_start[11:19]
    assert (
        f"scoring the metrics again against the samples before {start}, the incident's start, "
        "failed: prometheus: connection refused"
    ) in report.warnings
    assert report.candidates[0].service == "api"


def _earlier_episode_then_errors() -> tuple[list[MetricSeries], TimeWindow, datetime]:
    """A sample a minute for an hour: the frontend's CPU and latency up from minute 40 to 50
    (an earlier fault), its errors from minute 52 (the incident); the baseline ends at 40."""
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    window = TimeWindow(start=t0, end=t0 + timedelta(minutes=60))

    def series(metric: str, value: Callable[[int], float]) -> MetricSeries:
        at = tuple((t0 + timedelta(minutes=i)).timestamp() for i in range(60))
        return MetricSeries(metric, "frontend", at, tuple(value(i) for i in range(60)))

    return (
        [
            series("cpu_usage_ratio", lambda i: 0.95 if 40 <= i < 50 else 0.05 + 0.001 * (i % 3)),
            series("latency_p99_seconds", lambda i: 3.0 if 40 <= i < 50 else 0.1 + 0.002 * (i % 3)),
            series("error_ratio", lambda i: 0.05 if i >= 52 else 0.0),
        ],
        window,
        t0 + timedelta(minutes=40),
    )


class _FailsWhenAsked(MemoryMetrics):
    broken = False

    async def series(self, signal: str, window: TimeWindow, step: timedelta) -> list[MetricSeries]:
        if self.broken:
            raise BackendError("prometheus", "connection refused")
        return await super().series(signal, window, step)


async def test_an_earlier_episode_s_citations_go_to_what_changed_from_the_start() -> None:
    """The metrics tool cites a service twice at most, its largest changes first: a fault over
    before the incident took both of the frontend's, and once dropped as a past episode the
    frontend had nothing to cite. Cited again from the start, its errors are."""
    series, window, baseline_end = _earlier_episode_then_errors()
    backend = _FailsWhenAsked(series)
    gateway = ToolGateway(Deps(metrics=backend))
    first = await gateway.call(metric_changes, window=window, baseline_end=baseline_end)
    assert {e.key.split(":")[2] for e in first.evidence} == {
        "cpu_usage_ratio",
        "latency_p99_seconds",
    }
    start = baseline_end + timedelta(minutes=12)
    again = await late_metrics.scored_from_start(gateway, window, baseline_end, None, start, first)
    assert [e.key for e in again.evidence] == ["metrics:frontend:error_ratio"]
    during = await late_metrics.scored_from_start(
        gateway, window, baseline_end, None, baseline_end + timedelta(minutes=2), first
    )
    assert during is first  # nothing cited was over yet, nor two samples a baseline: not asked
    backend.broken = True
    kept = await late_metrics.scored_from_start(gateway, window, baseline_end, None, start, first)
    assert kept is first  # asking again failed: the first answer stands


async def test_a_baseline_that_held_an_earlier_episode_is_scored_again_from_the_start() -> None:
    """The frontend's CPU at its limit for most of the baseline (the previous fault), at its
    usual level for twelve minutes, then at the limit again (the incident): against the
    baseline that is no change. Scored again knowing the start, its baseline is the twelve
    minutes of normal, and its CPU is cited."""
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    window = TimeWindow(start=t0, end=t0 + timedelta(minutes=60))
    at = tuple((t0 + timedelta(minutes=i)).timestamp() for i in range(60))

    def cpu(i: int) -> float:
        return 0.99 if 12 <= i < 40 or i >= 52 else 0.2 + 0.01 * (i % 3)

    series = [MetricSeries("cpu_usage_ratio", "frontend", at, tuple(cpu(i) for i in range(60)))]
    gateway = ToolGateway(Deps(metrics=MemoryMetrics(series)))
    baseline_end, start = t0 + timedelta(minutes=40), t0 + timedelta(minutes=52)
    first = await gateway.call(metric_changes, window=window, baseline_end=baseline_end)
    assert first.ok and not first.evidence
    calls = await gateway.call(call_edge_changes, window=window, baseline_end=baseline_end)
    (again, _), notes = await late_metrics.scored_before_start(
        gateway, window, baseline_end, None, start, (first, calls)
    )
    assert [e.key for e in again.evidence] == ["metrics:frontend:cpu_usage_ratio"]
    assert again.data is not None and again.data[0].baseline_median < 0.25
    assert not notes


async def test_a_service_whose_earlier_episode_took_its_citations_is_still_a_candidate(
    tmp_path: Path,
) -> None:
    """The small incident on metrics alone, with ``mail``: its CPU and latency rose from 09:34
    to 09:37 (an earlier fault, over before the start), its errors from 09:40 with the api's.
    The earlier episode's changes are the larger, and took mail's two citations; dropped as
    over, they had left mail nothing to cite and no place among the candidates."""
    path = small_incident(tmp_path / "b", traces=False)
    (path / "logs.jsonl").unlink()
    rows = []
    for minute in range(60):
        at = iso(T0 + timedelta(minutes=minute))
        earlier = 34 <= minute < 38
        rows += [
            f"{at},mail,cpu_usage_ratio,{0.95 if earlier else 0.05 + 0.001 * (minute % 3)}",
            f"{at},mail,latency_p99_seconds,{3.0 if earlier else 0.1 + 0.002 * (minute % 4)}",
            f"{at},mail,error_ratio,{0.05 if minute >= 40 else 0.0}",
        ]
    with (path / "metrics.csv").open("a") as metrics:
        metrics.write("\n".join(rows) + "\n")
    report = await _investigate(path)
    assert report.incident_start >= "2026-03-02T09:38"
    mail = next(c for c in report.candidates if c.service == "mail")
    cited = [e.title for e in report.evidence if e.id in mail.evidence_ids]
    assert cited and all(t.startswith("mail: error_ratio up") for t in cited)
    assert not any(t.startswith(("mail: cpu", "mail: latency")) for t in _metric_titles(report))
