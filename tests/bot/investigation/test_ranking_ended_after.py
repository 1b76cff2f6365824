"""A callee that fails its callers with no failing span (issue 11): two callers whose requests
now end right after calling it (``tools.analysis.ended_after``) make it the candidate, and
their stopped calls and errors its symptoms. Modelled on OnlineBoutique 2022-08-23 14:47 of the
Nezha data: productcatalogservice answered with errors, the traces carry no status, and the
frontend (its error ratio from nothing to 77 %, four calls stopped) had ranked first.
"""

from __future__ import annotations

from bot.investigation.ranking import fault_type, rank
from bot.investigation.report import FaultType
from bot.investigation.signals import collect
from tests.bot.investigation.test_ranking import CLEAR, _evidence_for
from tests.tools.analysis.test_ended_after import SPLIT, _incident, incident_traces
from tools.analysis.metric_kinds import SignalGroup
from tools.analysis.span_attribution import analyze_traces


def test_the_callee_two_callers_stop_after_ranks_above_them() -> None:
    found = collect(None, None, _incident(24, 20), None, SPLIT)
    catalog, frontend, checkout = found["catalog"], found["frontend"], found["checkout"]
    assert catalog.modalities()["traces"] > 0.9  # 0 → 80 % of the frontend's traces end there
    assert frontend.stops_passed_up and frontend.reacting and frontend.own_cut_short == 0
    assert checkout.reacting
    frontend.bump("metrics", CLEAR)
    frontend.metric_groups[SignalGroup.ERRORS] = CLEAR
    evidence = _evidence_for("catalog", "frontend", "checkout")
    ranked = rank(found, _incident(24, 20), evidence, 5)
    assert ranked[0].service == "catalog"
    assert next(r for r in ranked if r.service == "frontend").propagated


def test_one_caller_stopping_after_a_call_keeps_the_stop_as_its_own() -> None:
    """The checkout's own error return, right after its call to the payment, looks the same
    from one caller: its cut stays its own and the callee gets nothing."""
    found = collect(None, None, _incident(24, 0), None, SPLIT)
    frontend = found["frontend"]
    assert not frontend.stops_passed_up and not frontend.reacting
    assert frontend.own_cut_short > 2
    assert found["catalog"].raw.get("trace_errors", 0.0) == 0.0


def test_a_callee_that_answered_the_calls_its_callers_stopped_after_is_no_outage() -> None:
    """Its callers stop at their first call to it, so its traffic falls to under a quarter:
    that is no dependency down while its own spans answered those calls (14:47 had read
    ``dependency-outage``): what it answered ended them, an error return (14:47 is Nezha's
    ``return`` fault; it had read ``errors``). Without a span of its own in the incident it is
    a dependency down."""
    answered = collect(None, None, _incident(24, 20), None, SPLIT)["catalog"]
    answered.traffic_down = 20.0
    assert answered.answered_failures and fault_type(answered) is FaultType.ERROR_RETURN
    traces = [
        [s for s in trace if s.service != "catalog" or s.start < SPLIT]
        for trace in incident_traces(24, 20)
    ]
    silent = collect(None, None, analyze_traces(traces, SPLIT), None, SPLIT)["catalog"]
    silent.traffic_down = 20.0
    assert not silent.answered_failures
    assert fault_type(silent) is FaultType.DEPENDENCY_OUTAGE


def test_what_its_own_lines_say_comes_before_the_answer_it_gave() -> None:
    """An answered call that ended its callers' requests is an error return only where no
    line of its own says what failed: a stack trace it logged names an exception."""
    answered = collect(None, None, _incident(24, 20), None, SPLIT)["catalog"]
    answered.exception_words = True
    assert answered.answered_failures and fault_type(answered) is FaultType.EXCEPTION
    unanswered = collect(None, None, _incident(24, 20), None, SPLIT)["catalog"]
    unanswered.answered_failures = False
    assert fault_type(unanswered) is FaultType.ERRORS
