"""trace_attribution against a reference period: a service whose requests failed and slowed
since before the window shows only against the healthy reference's traces."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.reference_bundles import REFERENCE, WINDOW, bundle_deps, load_chronic
from tools.analysis.span_attribution import TraceAnalysis
from tools.gateway import ToolGateway
from tools.result import ToolResult
from tools.trace_attribution import MIN_SCORE, trace_attribution

START = WINDOW.start + timedelta(minutes=34)


def _analysis(result: ToolResult[TraceAnalysis]) -> TraceAnalysis:
    assert result.ok and result.data is not None
    return result.data


async def test_errors_and_latency_since_before_the_window_show_against_the_reference(
    tmp_path: Path,
) -> None:
    gateway = ToolGateway(bundle_deps(load_chronic(tmp_path / "b")))
    alone = _analysis(await gateway.call(trace_attribution, window=WINDOW, incident_start=START))
    result = await gateway.call(
        trace_attribution, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    against = _analysis(result)
    assert alone.services["api"].error_score < MIN_SCORE
    assert alone.services["api"].critical_latency_score < MIN_SCORE
    api = against.services["api"]
    assert api.reference and against.reference_traces > 0
    assert api.error_score >= MIN_SCORE and api.critical_latency_score >= MIN_SCORE
    assert api.baseline_origin_rate == 0.0  # no errors when healthy
    origin = next(e for e in result.evidence if e.key == "traces:origin:api")
    assert f"of {against.reference_traces} in the reference period" in origin.summary
    assert result.warnings == []  # the reference samples every service with traces


async def test_an_empty_reference_window_keeps_the_traces_before_and_says_so(
    tmp_path: Path,
) -> None:
    gateway = ToolGateway(bundle_deps(load_chronic(tmp_path / "b", reference=False)))
    alone = await gateway.call(trace_attribution, window=WINDOW, incident_start=START)
    against = await gateway.call(
        trace_attribution, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    assert against.data == alone.data
    assert len(against.warnings) == 1 and "has no traces of 2 of 2 services" in against.warnings[0]
