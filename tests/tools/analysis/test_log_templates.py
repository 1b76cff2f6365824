from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.bundles import T0
from tools.analysis.log_templates import (
    MIN_LINES,
    LogPattern,
    ServiceErrorBurst,
    error_bursts,
    exposure,
    mine_patterns,
)
from tools.analysis.template_miner import TemplateMiner
from tools.records import LogLevel, LogRecord


def _rec(
    minute: int, message: str, service: str = "api", level: LogLevel = LogLevel.ERROR
) -> LogRecord:
    return LogRecord(
        ts=T0 + timedelta(minutes=minute),
        service=service,
        level=level,
        message=message,
        trace_id=f"t{minute}",
    )


def test_masks_variable_parts() -> None:
    miner = TemplateMiner()
    a = miner.add("GET /cart/8f14e45f-ceea-467f-a0e6-0b1f8c7a1234 from 10.1.2.3:80 took 12ms")
    b = miner.add("GET /cart/0e14e45f-ceea-467f-a0e6-0b1f8c7a9999 from 10.9.9.9:81 took 977ms")
    assert a == b
    assert miner.template(b) == "GET /cart/<UUID> from <IP> took <NUM>ms"


def test_new_pattern_is_flagged_and_counted_per_period() -> None:
    records = [_rec(m, f"retrying request {m} to cache") for m in range(0, 40, 4)]
    records += [
        _rec(m, f"Timeout acquiring connection after {5000 + m}ms (active=50)")
        for m in range(40, 60)
    ]
    records += [_rec(m, f"retrying request {m} to cache") for m in range(40, 60, 10)]
    patterns = {p.template: p for p in mine_patterns(records, T0 + timedelta(minutes=40))}
    timeout = patterns["Timeout acquiring connection after <NUM>ms (active=<NUM>)"]
    assert timeout.is_new and timeout.incident_count == 20 and timeout.baseline_count == 0
    assert timeout.first_seen == T0 + timedelta(minutes=40)
    assert timeout.trace_ids == ["t40", "t41", "t42"]
    retry = patterns["retrying request <NUM> to cache"]
    assert not retry.is_new and retry.baseline_count == 10 and retry.incident_count == 2
    assert timeout.score(40, 20) > retry.score(40, 20) == 0.0


def test_template_is_read_after_the_last_message() -> None:
    records = [
        _rec(50, "cache node redis-a evicted keys"),
        _rec(51, "cache node redis-b evicted keys"),
    ]
    (pattern,) = mine_patterns(records, T0)
    assert pattern.template == "cache node <*> evicted keys"
    assert pattern.example == "cache node redis-a evicted keys"  # the first one seen


def test_patterns_are_kept_apart_per_service() -> None:
    records = [_rec(50, "connection refused", "a"), _rec(51, "connection refused", "b")]
    patterns = mine_patterns(records, T0)
    assert sorted(p.service for p in patterns) == ["a", "b"]


def test_error_bursts_rank_by_rate_change() -> None:
    bursts = error_bursts({"a": 40, "b": 1}, {"a": 20, "b": 200}, 40, 20)
    assert [b.service for b in bursts] == ["b", "a"]
    assert bursts[1].score == 0.0  # same rate as before
    assert bursts[0].incident_rate == 10.0


def test_messages_are_redacted_before_masking() -> None:
    from tools.text import TextPipeline

    token = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    records = [_rec(m, f"slack auth failed with {token} for jane@example.com") for m in range(5)]
    (pattern,) = mine_patterns(records, T0, TextPipeline().redact)
    for text in (pattern.template, pattern.example):
        assert "xoxb" not in text and "AbCdEf" not in text and "jane" not in text
        assert "[REDACTED slack token]" in text


def test_exposure_is_the_services_other_lines_when_both_periods_have_enough() -> None:
    base, incident = exposure((5, 30.0, 5 + MIN_LINES), (40, 2.0, 40 + 3 * MIN_LINES))
    assert (base, incident) == (MIN_LINES, 3 * MIN_LINES)


def test_exposure_is_the_minutes_when_either_period_has_too_few_other_lines() -> None:
    assert exposure((5, 30.0, 5 + MIN_LINES - 1), (40, 2.0, 1000)) == (30.0, 2.0)
    assert exposure((5, 30.0, 1000), (40, 2.0, 40 + MIN_LINES - 1)) == (30.0, 2.0)
    assert exposure((5, 30.0, 0), (40, 2.0, 0)) == (30.0, 2.0)  # line counts unknown


def test_exposure_of_an_incident_in_minutes_is_never_zero() -> None:
    base, incident = exposure((1, 0.001, 0), (3, 0.0, 0))
    assert base > 0 and incident > 0 and base == incident


def test_no_logged_minute_before_is_no_baseline_however_many_lines_since() -> None:
    """Logs that begin at the incident: the minutes before hold no line, which is no data, not
    minutes without errors; 10,000 lines since rose against nothing."""
    assert exposure((0, 0.0, 0), (10_000, 3.0, 0)) == (0.0, 3.0)
    pattern = _pattern(baseline=0, incident=10_000)
    assert pattern.score(0.0, 3.0) == 0.0 and pattern.growth == 0.0
    assert pattern.score(1 / 60, 3.0) > 0  # a second of logs before, with none of these: a rise


def _pattern(baseline: int, incident: int, level: LogLevel = LogLevel.ERROR) -> LogPattern:
    return LogPattern(
        template="Timeout acquiring connection after <NUM>ms",
        service="api",
        max_level=level,
        baseline_count=baseline,
        incident_count=incident,
    )


def test_growth_is_the_doublings_of_a_significant_rise() -> None:
    pattern = _pattern(100, 200)  # 100 in 30 minutes, then 200 in 2: thirty-fold
    score = pattern.score(30, 2)
    assert pattern.growth == pytest.approx(math.log2(30), rel=1e-2)
    assert score == pytest.approx(pattern.growth * math.log2(1 + 200))


def test_a_warning_grows_half_as_much_as_an_error() -> None:
    error, warning = _pattern(100, 200), _pattern(100, 200, LogLevel.WARN)
    assert error.score(30, 2) == pytest.approx(2 * warning.score(30, 2))
    assert warning.growth == pytest.approx(error.growth / 2) and warning.growth > 0


def test_a_rise_that_is_not_significant_scores_nothing() -> None:
    pattern = _pattern(0, 3)  # 3 in a minute, none in the minute before: no evidence
    assert pattern.score(1, 1) == 0.0 and pattern.growth == 0.0
    steady = _pattern(40, 20)  # one a minute, before and after
    assert steady.score(40, 20) == 0.0 and steady.growth == 0.0


def test_growth_is_reset_when_a_later_score_is_not_significant() -> None:
    pattern = _pattern(0, 8)
    assert pattern.score(30, 2) > 0 and pattern.growth > 0
    assert pattern.score(1, 2) == 0.0  # the same lines against a one-minute baseline
    assert pattern.growth == 0.0


def test_a_template_that_kept_pace_with_the_load_did_not_grow() -> None:
    # twice the traffic: twice the service's lines and twice this template's, in equal minutes
    pattern = _pattern(100, 200)
    assert pattern.score(30, 30, baseline_lines=1000, incident_lines=2000) == 0.0
    assert pattern.growth == 0.0
    assert pattern.score(30, 30) > 0 and pattern.growth > 0  # per minute it would have


def test_a_template_that_outgrew_the_load_did_grow() -> None:
    pattern = _pattern(100, 800)  # the same doubled load, eight times the template
    assert pattern.score(30, 30, baseline_lines=1000, incident_lines=2700) > 0
    assert 1.5 < pattern.growth < 2.5  # about four-fold per line of load


def test_an_error_burst_that_kept_pace_with_the_load_is_no_burst() -> None:
    paced = ServiceErrorBurst("api", 100, 200, 30, 30, baseline_lines=1000, incident_lines=2000)
    assert paced.score == 0.0
    assert ServiceErrorBurst("api", 100, 200, 30, 30).score > 0  # per minute it would be


def test_an_error_burst_against_a_thin_baseline_is_no_burst() -> None:
    assert ServiceErrorBurst("api", 0, 8, 1, 2).score == 0.0  # (2/3)⁸ ≈ 0.04
    assert ServiceErrorBurst("api", 0, 8, 3, 2).score > 0  # 0.4⁸ ≈ 0.0007


def test_error_bursts_measure_against_each_services_load() -> None:
    bursts = error_bursts(
        {"api": 100, "db": 100},
        {"api": 200, "db": 800},
        30,
        30,
        {"api": 1000, "db": 1000},
        {"api": 2000, "db": 2700},
    )
    by_service = {b.service: b for b in bursts}
    assert (by_service["api"].baseline_lines, by_service["api"].incident_lines) == (1000, 2000)
    assert by_service["api"].score == 0.0 < by_service["db"].score
    assert [b.service for b in bursts] == ["db", "api"]
    per_minute = {b.service: b.score for b in error_bursts({"api": 100}, {"api": 200}, 30, 30)}
    assert per_minute["api"] > 0


def test_error_bursts_without_a_services_line_count_use_minutes() -> None:
    (burst,) = error_bursts({"api": 100}, {"api": 200}, 30, 30, {"db": 1000}, {"db": 2000})
    assert (burst.baseline_lines, burst.incident_lines) == (0, 0)
    assert burst.score > 0
