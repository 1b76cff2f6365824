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


async def test_with_metrics_alone_a_dead_datastore_is_named_an_outage(tmp_path: Path) -> None:
    """No traces to say who calls redis: its own series still say its process is gone."""
    case = generate_case(tmp_path, "dependency-outage", 11)
    for name in ("logs.jsonl", "traces.jsonl", "changes.jsonl"):
        (case.bundle_dir / name).unlink(missing_ok=True)
    report = await investigate_bundle(load_settings(), case.bundle_dir)
    redis = next(c for c in report.candidates[:3] if c.service == "redis")
    assert redis.fault_type.value == "dependency-outage"
    cited = [report.evidence_by_id()[i] for i in redis.evidence_ids]
    assert {e.title.split(": ")[1].split()[0] for e in cited} == {
        "cpu_usage_ratio",
        "memory_usage_bytes",
    }
    assert all(" down " in e.title for e in cited)
