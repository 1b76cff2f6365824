"""The analyzers take an external baseline (a reference period) in place of the samples before
the split, where it has enough data, and keep the samples before where it does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from tools.analysis.change_rank import score_all
from tools.analysis.change_scores import MIN_BASELINE, Z_THRESHOLD, score_series
from tools.analysis.log_templates import mine_patterns
from tools.analysis.span_attribution import analyze_traces
from tools.analysis.trace_periods import MIN_SAMPLES
from tools.records import LogLevel, LogRecord, MetricSeries, Span

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPLIT = T0 + timedelta(minutes=30)
DAY_BEFORE = -86_400.0


def _series(
    values: list[float], *, offset: float = 0.0, instance: str = "pod-a", service: str = "api"
) -> MetricSeries:
    start = T0.timestamp() + offset
    return MetricSeries(
        metric="latency_p99_seconds",
        service=service,
        timestamps=tuple(start + 60 * i for i in range(len(values))),
        values=tuple(values),
        labels=MappingProxyType({"instance": instance}),
    )


FAULTY = [0.9 + 0.01 * (i % 3) for i in range(60)]  # slow all along: no change inside
HEALTHY = [0.05 + 0.001 * (i % 3) for i in range(60)]


def test_a_series_faulty_all_along_changes_only_against_a_healthy_reference() -> None:
    split = SPLIT.timestamp()
    alone = score_series(_series(FAULTY), split)
    against = score_series(_series(FAULTY), split, _series(HEALTHY, offset=DAY_BEFORE))
    assert alone is not None and against is not None
    assert alone.score < Z_THRESHOLD and not alone.against_reference
    assert against.score >= Z_THRESHOLD and against.against_reference
    assert against.baseline_median < 0.1 < against.incident_median
    assert against.points == alone.points  # the evaluation part is the window's, unchanged


def test_a_reference_with_too_few_samples_leaves_the_samples_before() -> None:
    short = _series(HEALTHY[: MIN_BASELINE - 1], offset=DAY_BEFORE)
    change = score_series(_series(FAULTY), SPLIT.timestamp(), short)
    assert change is not None and not change.against_reference
    assert change == score_series(_series(FAULTY), SPLIT.timestamp())


def test_a_reference_thinner_than_the_samples_before_is_pooled_with_them() -> None:
    """Three samples of a one-minute-step fault-free phase, nearly equal, are evidence of
    normal, not all of it: the 30 samples before the split, moving ±0.2 s, are normal too, and
    a rise of 0.3 s is within that. Against a reference as long as the window (60 samples of
    the same flat kind) it is a change."""
    wobble = [0.1 * ((i % 5) - 2) for i in range(60)]
    window = _series([1.0 + w + (0.3 if i >= 30 else 0.0) for i, w in enumerate(wobble)])
    flat = [1.0, 1.001, 0.999]
    split = SPLIT.timestamp()
    thin = score_series(window, split, _series(flat, offset=DAY_BEFORE))
    assert thin is not None and thin.against_reference
    assert thin.baseline_median == 1.0  # both periods' level
    assert thin.score < Z_THRESHOLD
    long = score_series(window, split, _series(flat * 20, offset=DAY_BEFORE))
    assert long is not None and long.against_reference and long.score >= Z_THRESHOLD


def test_series_are_matched_by_labels_else_pooled_by_metric_and_service() -> None:
    split = SPLIT.timestamp()
    reference = [
        _series(HEALTHY, offset=DAY_BEFORE, instance="pod-old-1"),
        _series(HEALTHY, offset=DAY_BEFORE, instance="pod-old-2"),
        _series(FAULTY, offset=DAY_BEFORE, service="other"),
    ]
    changes = score_all([_series(FAULTY, instance="pod-new")], split, reference)
    assert len(changes) == 1 and changes[0].against_reference
    assert changes[0].score >= Z_THRESHOLD
    stranger = score_all([_series(FAULTY, service="cache")], split, reference)
    assert not stranger[0].against_reference  # no reference of its own: the samples before


def _log(minutes: float, message: str, level: LogLevel = LogLevel.ERROR) -> LogRecord:
    return LogRecord(
        ts=T0 + timedelta(minutes=minutes), service="api", level=level, message=message
    )


def test_reference_records_count_as_baseline_wherever_they_lie() -> None:
    chronic = [_log(m, f"order status wrong for order {m}") for m in range(40, 50)]
    healthy_later = [_log(90 + m, f"order status wrong for order {m}") for m in range(5)]
    patterns = mine_patterns(chronic, SPLIT, reference=healthy_later)
    assert len(patterns) == 1
    assert patterns[0].baseline_count == 5 and patterns[0].incident_count == 10
    assert not patterns[0].is_new
    alone = mine_patterns(chronic, SPLIT)
    assert alone[0].is_new


def _trace(name: str, start: float, *, error: bool, api_ms: float) -> list[Span]:
    attrs = MappingProxyType({"peer.service": "api"})
    return [
        Span(name, "s1", None, "web", "GET /", start, api_ms + 10, error=error, kind="server"),
        Span(name, "s2", "s1", "web", "call", start, api_ms + 5, error, "client", attrs),
        Span(name, "s3", "s2", "api", "POST", start + 0.001, api_ms, error=error, kind="server"),
    ]


def test_traces_are_compared_with_the_reference_where_it_samples_a_service() -> None:
    split = SPLIT.timestamp()
    window = [_trace(f"t{i}", T0.timestamp() + 60 * i, error=True, api_ms=900) for i in range(60)]
    healthy = [
        _trace(f"r{i}", T0.timestamp() + DAY_BEFORE + 60 * i, error=False, api_ms=45)
        for i in range(20)
    ]
    alone = analyze_traces(window, split)
    against = analyze_traces(window, split, healthy)
    assert alone.services["api"].error_score == 0 and not alone.services["api"].reference
    assert against.services["api"].reference and against.reference_traces == 20
    assert against.services["api"].error_score >= 1
    assert against.services["api"].critical_latency_score >= 1
    assert against.edges[0].reference and against.edges[0].baseline_gap_ms is not None
    thin = analyze_traces(window, split, healthy[: MIN_SAMPLES - 1])
    assert not thin.services["api"].reference  # too few reference traces: the ones before
    assert thin.services["api"].error_score == alone.services["api"].error_score
