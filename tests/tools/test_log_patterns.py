"""log_patterns against a reference period: errors a service logged all along are news only
against the healthy reference; chronic ones stay quiet; services the reference lacks keep the
records before the incident."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.bundles import T0, iso, write_jsonl
from tests.reference_bundles import REFERENCE, WINDOW, bundle_deps, load_chronic
from tools.bundle.reader import Bundle, load_bundle
from tools.evidence import TimeWindow
from tools.gateway import ToolGateway
from tools.log_patterns import MIN_BURST_SCORE, MIN_PATTERN_SCORE, LogFindings, log_patterns
from tools.reference import unhealthy_warning
from tools.result import ToolResult

START = WINDOW.start + timedelta(minutes=34)


def _findings(result: ToolResult[LogFindings]) -> LogFindings:
    assert result.ok and result.data is not None
    return result.data


def _scores(findings: LogFindings) -> tuple[dict[str, float], dict[str, float]]:
    bursts = {b.service: b.score for b in findings.bursts}
    patterns: dict[str, float] = {}
    for pattern, score in findings.patterns:
        patterns[pattern.template] = score
    return bursts, patterns


async def test_errors_logged_all_along_are_news_only_against_the_reference(
    tmp_path: Path,
) -> None:
    gateway = ToolGateway(bundle_deps(load_chronic(tmp_path / "b")))
    alone = _findings(await gateway.call(log_patterns, window=WINDOW, incident_start=START))
    result = await gateway.call(
        log_patterns, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    against = _findings(result)
    bursts_alone, patterns_alone = _scores(alone)
    bursts, patterns = _scores(against)
    timeout = next(t for t in patterns if t.startswith("Timeout acquiring connection"))
    assert bursts_alone["api"] < MIN_BURST_SCORE <= bursts["api"]
    assert patterns_alone[timeout] < MIN_PATTERN_SCORE <= patterns[timeout]
    chronic = next(t for t in patterns if t.startswith("order status wrong"))
    assert patterns[chronic] < MIN_PATTERN_SCORE  # logged when healthy too
    burst = next(e for e in result.evidence if e.key == "logs:burst:api")
    assert "of the reference period" in burst.summary
    pattern = next(e for e in result.evidence if "Timeout" in e.title)
    assert "not seen in the reference period" in pattern.summary


async def test_a_service_absent_from_the_reference_keeps_the_records_before(
    tmp_path: Path,
) -> None:
    gateway = ToolGateway(bundle_deps(load_chronic(tmp_path / "b")))
    result = await gateway.call(
        log_patterns, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    bursts, patterns = _scores(_findings(result))
    storm = next(t for t in patterns if t.startswith("eviction storm"))
    assert patterns[storm] >= MIN_PATTERN_SCORE and bursts["cache"] >= MIN_BURST_SCORE
    burst = next(e for e in result.evidence if e.key == "logs:burst:cache")
    assert "min before" in burst.summary
    assert len(result.warnings) == 1 and "(cache)" in result.warnings[0]


async def test_without_a_reference_the_findings_are_as_before(tmp_path: Path) -> None:
    deps = bundle_deps(load_chronic(tmp_path / "b"))
    gateway = ToolGateway(deps)
    first = await gateway.call(log_patterns, window=WINDOW, incident_start=START)
    second = await gateway.call(log_patterns, window=WINDOW, incident_start=START, reference=None)
    assert first.data == second.data and first.evidence == second.evidence
    assert first.warnings == []


def _line(moment: datetime, service: str, level: str, message: str) -> dict[str, Any]:
    return {"ts": iso(moment), "service": service, "level": level, "message": message}


def _write_logs(directory: Path, period: TimeWindow, rows: list[dict[str, Any]]) -> None:
    directory.mkdir(parents=True)
    ordered: list[dict[str, Any]] = sorted(rows, key=lambda row: str(row["ts"]))
    write_jsonl(directory / "logs.jsonl", ordered)
    manifest = {"window": {"start": iso(period.start), "end": iso(period.end)}}
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _bundle(
    path: Path,
    window: TimeWindow,
    logs: list[dict[str, Any]],
    reference: list[dict[str, Any]] | None = None,
) -> Bundle:
    """A bundle of ``logs`` over ``window``, with ``reference`` logs over ``REFERENCE``."""
    _write_logs(path, window, logs)
    if reference is not None:
        _write_logs(path / "reference", REFERENCE, reference)
    return load_bundle(path)


SHORT = TimeWindow(start=T0, end=T0 + timedelta(minutes=30))
SHORT_START = T0 + timedelta(minutes=20)


def _sparse_logs(minutes_logged_before: int) -> list[dict[str, Any]]:
    """Logs in a few minutes of the 30-minute window only: a line every 15 s in the last
    ``minutes_logged_before`` minutes before the start, then 8 ERROR lines in its first two
    minutes, and nothing in the 8 minutes after those."""
    lines = [
        _line(SHORT_START - timedelta(seconds=15 * (i + 1)), "api", "INFO", "handled request")
        for i in range(4 * minutes_logged_before)
    ]
    lines += [
        _line(SHORT_START + timedelta(seconds=15 * i), "api", "ERROR", "connection refused")
        for i in range(8)
    ]
    return lines


async def test_rates_are_per_logged_minute(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "b", SHORT, _sparse_logs(minutes_logged_before=3))
    result = await ToolGateway(bundle_deps(bundle)).call(
        log_patterns, window=SHORT, incident_start=SHORT_START
    )
    (burst,) = _findings(result).bursts
    assert burst.baseline_minutes == pytest.approx(3.0)  # not the 20 minutes before the start
    assert burst.incident_minutes == pytest.approx(2.0)  # not the 10 from it
    assert burst.incident_rate == pytest.approx(4.0)
    assert burst.score >= MIN_BURST_SCORE  # 8 in 2 logged minutes against 0 in 3
    evidence = next(e for e in result.evidence if e.key == "logs:burst:api")
    assert "in 2 min" in evidence.summary


async def test_a_minute_of_quiet_logs_before_is_no_baseline(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "b", SHORT, _sparse_logs(minutes_logged_before=1))
    result = await ToolGateway(bundle_deps(bundle)).call(
        log_patterns, window=SHORT, incident_start=SHORT_START
    )
    findings = _findings(result)
    (burst,) = findings.bursts
    assert burst.baseline_minutes == pytest.approx(1.0)
    # 0 errors in the one logged minute before says little: no burst, though 0 in the 20
    # minutes of the window before the start would have made 8 in 2 one
    assert burst.score == 0.0
    assert all(score == 0.0 for _, score in findings.patterns)
    assert not result.evidence


async def test_logs_that_begin_at_the_incident_are_compared_with_nothing(tmp_path: Path) -> None:
    """No line at all before the start (a recording cut around the incident) is no logged
    minute, not 20 minutes without errors: the 8 ERROR lines since are neither a burst nor a
    new pattern, and a warning says the logs could not be compared."""
    bundle = _bundle(tmp_path / "b", SHORT, _sparse_logs(minutes_logged_before=0))
    result = await ToolGateway(bundle_deps(bundle)).call(
        log_patterns, window=SHORT, incident_start=SHORT_START
    )
    findings = _findings(result)
    (burst,) = findings.bursts
    assert burst.baseline_minutes == 0.0 and burst.score == 0.0
    assert findings.patterns and all(score == 0.0 for _, score in findings.patterns)
    assert not result.evidence
    (warning,) = result.warnings
    assert warning.startswith(f"no log lines before the incident start at {SHORT_START:%H:%M:%S}")
    assert "1 service(s) could not be compared with normal" in warning


async def test_a_steady_stream_of_a_line_a_minute_covers_every_minute(tmp_path: Path) -> None:
    """Quiet between a service's lines is not a gap in the logs: a line a minute all through
    the window logs every minute of it."""
    lines = [_line(T0 + timedelta(minutes=m), "api", "INFO", "heartbeat") for m in range(30)]
    lines += _sparse_logs(minutes_logged_before=0)
    bundle = _bundle(tmp_path / "b", SHORT, lines)
    result = await ToolGateway(bundle_deps(bundle)).call(
        log_patterns, window=SHORT, incident_start=SHORT_START
    )
    (burst,) = _findings(result).bursts
    assert burst.baseline_minutes == pytest.approx(20.0, rel=0.1)
    assert burst.incident_minutes == pytest.approx(10.0, rel=0.1)
    assert burst.score >= MIN_BURST_SCORE  # 8 in 10 minutes against 0 in 20


def _healthy_and_failing_logs() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``api``: no errors before the start, one a minute from it, and (another incident) as
    many per line it wrote in the reference period. ``web``: one error a minute before and
    from the start alike, none in the reference period."""
    logs, reference = [], []
    for minute in range(60):
        now = WINDOW.start + timedelta(minutes=minute)
        then = REFERENCE.start + timedelta(minutes=minute)
        for offset in (0, 30):
            for service in ("api", "web"):
                logs.append(_line(now + timedelta(seconds=offset), service, "INFO", "handled"))
        logs.append(_line(now + timedelta(seconds=10), "web", "ERROR", "upstream returned 502"))
        if now >= START:
            logs.append(_line(now + timedelta(seconds=20), "api", "ERROR", "pool timeout"))
        for service in ("api", "web"):
            reference.append(_line(then, service, "INFO", "handled"))
        if minute % 2 == 0:
            reference.append(_line(then + timedelta(seconds=20), "api", "ERROR", "pool timeout"))
    return logs, reference


async def test_a_reference_with_more_errors_than_before_is_not_used_for_that_service(
    tmp_path: Path,
) -> None:
    logs, reference = _healthy_and_failing_logs()
    bundle = _bundle(tmp_path / "b", WINDOW, logs, reference)
    result = await ToolGateway(bundle_deps(bundle)).call(
        log_patterns, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    bursts = {b.service: b for b in _findings(result).bursts}
    # api: against the minutes before (no errors), not the reference (as many as now)
    assert bursts["api"].baseline_errors == 0
    assert bursts["api"].score >= MIN_BURST_SCORE
    api = next(e for e in result.evidence if e.key == "logs:burst:api")
    assert "min before" in api.summary and "reference" not in api.summary
    # web still against the reference: its errors before the start are not normal
    assert bursts["web"].baseline_errors == 0 and bursts["web"].score >= MIN_BURST_SCORE
    web = next(e for e in result.evidence if e.key == "logs:burst:web")
    assert "of the reference period" in web.summary
    assert result.warnings == unhealthy_warning("log lines", REFERENCE, {"api"})
    assert "shows more errors" in result.warnings[0] and "(api)" in result.warnings[0]


async def test_a_reference_as_healthy_as_before_gives_no_warning(tmp_path: Path) -> None:
    logs, reference = _healthy_and_failing_logs()
    calm = [r for r in reference if r["level"] != "ERROR"]
    bundle = _bundle(tmp_path / "b", WINDOW, logs, calm)
    result = await ToolGateway(bundle_deps(bundle)).call(
        log_patterns, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    assert result.warnings == []
    api = next(e for e in result.evidence if e.key == "logs:burst:api")
    assert "of the reference period" in api.summary


async def test_lines_that_say_a_dependency_could_not_be_found_are_no_errors_of_the_writer(
    tmp_path: Path,
) -> None:
    """The same 8 ERROR lines in 2 minutes that make a burst when they are the service's own
    (``test_rates_are_per_logged_minute``) make none when they say the registry had no
    instance of a dependency; a warning says they were left out."""
    lookup = "IllegalStateException: No instances available for ts-config-service"
    lines = [
        {**row, "message": lookup} if row["level"] == "ERROR" else row
        for row in _sparse_logs(minutes_logged_before=3)
    ]
    result = await ToolGateway(bundle_deps(_bundle(tmp_path / "b", SHORT, lines))).call(
        log_patterns, window=SHORT, incident_start=SHORT_START
    )
    findings = _findings(result)
    (burst,) = findings.bursts
    assert burst.incident_errors == 0 and burst.score == 0.0
    assert all(p.max_level.name != "ERROR" for p, _ in findings.patterns)
    assert not result.evidence
    (warning,) = result.warnings
    assert warning.startswith("8 WARN+ lines of api since the incident start")
    assert "could not find a dependency" in warning
