from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.investigation.report import Candidate, FaultType, Report
from tests.bundles import T0
from tools.evidence import Evidence, Source, TimeWindow


def _report(answer: str, candidate_ids: list[str]) -> Report:
    evidence = [
        Evidence(id="E1", key="a", source=Source.METRICS, title="t", summary="s", query="q")
    ]
    return Report(
        question="q",
        scope="s",
        window=TimeWindow(start=T0, end=T0 + timedelta(hours=1)),
        incident_start=T0.isoformat(),
        evidence=evidence,
        answer=answer,
        answer_by="deterministic",
        sources=[],
        candidates=[
            Candidate(
                rank=1,
                service="x",
                fault_type=FaultType.ERRORS,
                hypothesis="h",
                score=1.0,
                evidence_ids=candidate_ids,
            )
        ],
    )


def test_report_accepts_known_citations_and_round_trips_json() -> None:
    report = _report("x broke [E1].", ["E1"])
    again = Report.model_validate_json(report.model_dump_json())
    assert again == report
    assert again.schema_version == "1"


@pytest.mark.parametrize(("answer", "ids"), [("x broke [E2].", ["E1"]), ("ok [E1].", ["E9"])])
def test_report_rejects_citations_of_missing_evidence(answer: str, ids: list[str]) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        _report(answer, ids)
