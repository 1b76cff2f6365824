"""Every demo fault scenario, investigated: the labelled root cause must rank first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.commands import investigate_bundle
from bot.config import load_settings
from bot.demo import FAULTS, generate_case


@pytest.mark.parametrize("fault", FAULTS)
async def test_root_cause_ranks_first_with_cited_evidence(fault: str, tmp_path: Path) -> None:
    case = generate_case(tmp_path, fault, 11)
    report = await investigate_bundle(load_settings(), case.bundle_dir)
    label = json.loads(case.label_path.read_text())
    top = report.candidates[0]
    assert top.service == label["service"], [c.service for c in report.candidates]
    assert top.evidence_ids
    evidence = report.evidence_by_id()
    assert any(evidence[i].service == top.service for i in top.evidence_ids)
    assert report.evidence[0].source.value == "alert"
    assert report.evidence[0].service != label["service"]  # the alert names a symptom
