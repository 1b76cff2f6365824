from __future__ import annotations

from datetime import timedelta

from tests.bundles import T0
from tools.analysis.log_templates import error_bursts, mine_patterns
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
