"""Error origins at 5 % count only where the service's own ERROR lines rose (issue 11)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.investigation.confirmed_origins import (
    errors_rose,
    origin_score,
    without_unconfirmed_origins,
)
from bot.investigation.signals import collect
from tools.analysis.log_templates import ServiceErrorBurst
from tools.analysis.span_attribution import ServiceTraceFinding, TraceAnalysis
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.log_patterns import LogFindings
from tools.trace_attribution import origin_key

START = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)
WINDOW = TimeWindow(start=START, end=START + timedelta(minutes=5))


def _finding(service: str, failing: int, traces: int, normal_traces: int) -> ServiceTraceFinding:
    """``service``, where the errors of ``failing`` of ``traces`` incident traces originate,
    and of none of ``normal_traces`` before."""
    return ServiceTraceFinding(
        service=service,
        baseline_origin_rate=0.0,
        incident_origin_rate=failing / traces,
        incident_origin_traces=failing,
        example_trace=None,
        example_operation=None,
        example_error=None,
        baseline_self_ms=None,
        incident_self_ms=None,
        baseline_traces=normal_traces,
        incident_traces=traces,
        incident_failing_traces=failing,
    )


def _logs(*services: str) -> LogFindings:
    """ERROR lines that rose significantly in ``services``: 30 in 2 minutes, none in 10."""
    bursts = [ServiceErrorBurst(s, 0, 30, 10.0, 2.0) for s in services]
    assert all(b.score > 0 for b in bursts)
    return LogFindings(bursts=bursts, patterns=[], sampled=30, total_warn=30)


def _draft(service: str) -> EvidenceDraft:
    return EvidenceDraft(
        key=origin_key(service),
        source=Source.TRACES,
        title=f"{service}: errors originate here",
        summary="",
        query="",
        window=WINDOW,
        service=service,
    )


# food at 09:34 on the Nezha day without a reference: p ≈ 0.0012; ERROR lines rose
WEAK = _finding("food", 7, 49, 76)
# a burst of registry errors TrainTicket has when healthy (p ≈ 0.03), its lines not risen
BURST = _finding("payment", 9, 138, 62)
STRONG = _finding("route", 30, 49, 76)


def test_a_weak_origin_counts_only_where_the_error_lines_rose() -> None:
    assert WEAK.error_score == 0 and WEAK.confirmable_error_score > 3
    assert origin_score(WEAK, {"food"}) == WEAK.confirmable_error_score
    assert origin_score(WEAK, set()) == 0
    assert origin_score(STRONG, set()) == STRONG.error_score > 0  # needs no confirming


def test_only_error_bursts_that_score_confirm() -> None:
    flat = ServiceErrorBurst("food", 10, 2, 10.0, 2.0)  # as many per minute as before
    assert flat.score == 0
    found = LogFindings(bursts=[flat], patterns=[], sampled=12, total_warn=12)
    assert errors_rose(found) == set()
    assert errors_rose(_logs("food")) == {"food"}
    assert errors_rose(None) == set()


def test_the_ranking_counts_a_confirmed_origin_and_it_is_no_failure_passed_up() -> None:
    # food failed in 20 of 49 traces, in 7 of them where the errors originate
    failing = replace(WEAK, incident_failing_traces=20)
    assert failing.failures_passed_up  # it failed more; its own origins alone did not pass
    analysis = TraceAnalysis(76, 49, {"food": failing, "payment": BURST}, [])
    confirmed = collect(None, _logs("food"), analysis, None, START.timestamp())
    assert confirmed["food"].raw["trace_errors"] == WEAK.confirmable_error_score
    assert not confirmed["food"].failures_passed_up
    assert confirmed["payment"].raw.get("trace_errors", 0.0) == 0
    alone = collect(None, None, analysis, None, START.timestamp())
    assert alone["food"].raw.get("trace_errors", 0.0) == 0


def test_unconfirmed_weak_origins_leave_the_evidence() -> None:
    assert BURST.error_score == 0 and BURST.confirmable_error_score > 0  # passes at 5 %
    analysis = TraceAnalysis(76, 49, {"food": WEAK, "payment": BURST, "route": STRONG}, [])
    drafts = [_draft("food"), _draft("payment"), _draft("route")]
    kept = without_unconfirmed_origins(drafts, analysis, _logs("food"))
    assert [d.service for d in kept] == ["food", "route"]
    assert [d.service for d in without_unconfirmed_origins(drafts, analysis, None)] == ["route"]
    assert without_unconfirmed_origins(drafts, None, None) == drafts
