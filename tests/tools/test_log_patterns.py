"""log_patterns against a reference period: errors a service logged all along are news only
against the healthy reference; chronic ones stay quiet; services the reference lacks keep the
records before the incident."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.reference_bundles import REFERENCE, WINDOW, bundle_deps, load_chronic
from tools.gateway import ToolGateway
from tools.log_patterns import MIN_BURST_SCORE, MIN_PATTERN_SCORE, LogFindings, log_patterns
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
