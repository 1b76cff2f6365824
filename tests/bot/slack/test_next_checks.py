from __future__ import annotations

import pytest

from bot.investigation.report import FaultType, SourceStatus
from bot.slack import mrkdwn
from bot.slack.next_checks import MOST_CHECKS, next_checks
from tests.bot.slack.reports import candidate, evidence, report
from tools.evidence import Source


def test_a_bad_deploy_suggests_comparing_and_rolling_back_with_its_change_cited() -> None:
    change = evidence(1, source=Source.CHANGE, title="Deploy v42 <!here>")
    logs = evidence(2, source=Source.LOGS, query='service:"checkout" and level:ERROR')
    ranked = [candidate(1, ["E2", "E1"], fault=FaultType.BAD_DEPLOY, service="checkout")]
    (check,) = next_checks(report([change, logs], ranked))
    assert check.startswith("Compare checkout's last change (Deploy v42 ‹!here›) ")
    assert f"<{mrkdwn.slack_url(change.link)}|[E1]>" in check
    assert "roll it back" in check
    assert check.endswith(f"Query: {mrkdwn.inline_code(change.query)}")


def test_latency_opens_the_slowest_trace_with_its_exact_query() -> None:
    trace = evidence(3, source=Source.TRACES, query="service=checkout duration>2s")
    metric = evidence(4, source=Source.METRICS)
    ranked = [candidate(1, ["E4", "E3"], fault=FaultType.LATENCY, service="checkout")]
    (check,) = next_checks(report([trace, metric], ranked))
    assert check.startswith("Open the slowest trace <")
    assert "|[E3]>" in check and check.endswith("Query: `service=checkout duration&gt;2s`")


def test_a_query_an_inline_span_cannot_hold_is_left_to_the_evidence_pages() -> None:
    metric = evidence(1, query="up{job=`a`}")
    ranked = [candidate(1, ["E1"], fault=FaultType.CPU, service="db")]
    (check,) = next_checks(report([metric], ranked))
    assert "Query:" not in check and check.startswith("Check db's CPU")


def test_failed_sources_are_to_be_restored_and_always_make_the_list() -> None:
    items = [evidence(i) for i in range(1, 8)]
    ranked = [candidate(r, [f"E{r}"]) for r in range(1, 8)]
    failed = [
        SourceStatus(source="logs", backend="elasticsearch", ok=False, detail="unreachable <@U1>"),
        SourceStatus(source="traces", backend="jaeger", ok=False),
        SourceStatus(source="metrics", backend="prometheus", ok=True),
    ]
    checks = next_checks(report(items, ranked, sources=failed))
    assert len(checks) == MOST_CHECKS
    assert checks[-2].startswith("Restore the logs source (elasticsearch): unreachable ‹@U1›")
    assert checks[-1].startswith("Restore the traces source (jaeger);")


def test_symptoms_are_not_checked_while_there_is_a_cause() -> None:
    items = [evidence(1), evidence(2)]
    ranked = [
        candidate(1, ["E1"], service="frontend", propagated=True),
        candidate(2, ["E2"], service="db"),
    ]
    checks = next_checks(report(items, ranked))
    assert len(checks) == 1 and "db" in checks[0] and "frontend" not in checks[0]


@pytest.mark.parametrize("fault", list(FaultType))
def test_every_fault_type_gets_a_cited_suggestion(fault: FaultType) -> None:
    ranked = [candidate(1, ["E1"], fault=fault, service="svc")]
    (check,) = next_checks(report([evidence(1)], ranked))
    assert "svc" in check and "|[E1]>" in check


def test_no_candidates_and_no_failures_suggest_nothing() -> None:
    assert next_checks(report([evidence(1)])) == []


# --- issue 11: the fault types that say what kind of error, and exhaustion ---------------------

SOURCES_OF = {"E1": Source.METRICS, "E2": Source.LOGS, "E3": Source.TRACES}


def _check_for(fault: FaultType, ids: list[str]) -> str:
    items = [evidence(int(i[1:]), source=SOURCES_OF[i], service="payments") for i in ids]
    ranked = [candidate(1, ids, fault=fault, service="payments")]
    (check,) = next_checks(report(items, ranked))
    return check


@pytest.mark.parametrize(
    ("fault", "cited", "opening", "words"),
    [
        # the log lines first: the first stack trace, or the lines an operation stopped writing
        (FaultType.EXCEPTION, "E2", "Find where payments's code now fails", "stack trace"),
        # the failing requests first, and why the service refuses them
        (FaultType.ERROR_RETURN, "E3", "Read which requests payments", "answers with errors"),
        # the saturated figure first: what it ran out of
        (FaultType.RESOURCE_EXHAUSTION, "E1", "Check what payments ran out of", "pool"),
    ],
)
def test_the_new_fault_types_name_the_service_and_cite_where_to_start(
    fault: FaultType, cited: str, opening: str, words: str
) -> None:
    check = _check_for(fault, ["E1", "E3", "E2"])
    assert check.startswith(opening) and words in check
    assert f"|[{cited}]>" in check
    assert sum(f"|[E{i}]>" in check for i in (1, 2, 3)) == 1  # one starting point, cited


def test_an_exception_without_log_evidence_starts_from_its_traces() -> None:
    check = _check_for(FaultType.EXCEPTION, ["E1", "E3"])
    assert "|[E3]>" in check and "|[E1]>" not in check


def test_resource_exhaustion_without_metrics_starts_from_its_logs() -> None:
    check = _check_for(FaultType.RESOURCE_EXHAUSTION, ["E3", "E2"])
    assert "|[E2]>" in check and "pool" in check
