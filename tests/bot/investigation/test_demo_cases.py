"""Every demo fault scenario, investigated: the labelled root cause must rank first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.commands import investigate_bundle
from bot.config import load_settings
from bot.demo import FAULTS, generate_case
from bot.investigation.report import Candidate
from tools.evidence import Evidence


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


async def _top_and_first_cited(bundle: Path) -> tuple[Candidate, Evidence]:
    """The first candidate of ``bundle``'s investigation and the evidence it cites first."""
    report = await investigate_bundle(load_settings(), bundle)
    top = report.candidates[0]
    return top, report.evidence_by_id()[top.evidence_ids[0]]


def _metrics_only(bundle: Path, *, service_graph: bool) -> None:
    """Leave ``bundle`` its metrics (and alert) only; without the ``service_graph`` series
    (the calls between services, labelled with their ``server``) unless asked."""
    for name in ("logs.jsonl", "traces.jsonl", "changes.jsonl"):
        (bundle / name).unlink(missing_ok=True)
    if not service_graph:
        metrics = bundle / "metrics.csv"
        rows = metrics.read_text().splitlines()
        own = [r for r in rows[1:] if r.endswith(",")]  # no server: a service's own series
        metrics.write_text("\n".join([rows[0], *own]) + "\n")


async def test_with_metrics_alone_a_dead_datastore_is_named_an_outage(tmp_path: Path) -> None:
    """No traces and no service graph to say who calls redis: its own series still say its
    process is gone."""
    case = generate_case(tmp_path, "dependency-outage", 11)
    _metrics_only(case.bundle_dir, service_graph=False)
    report = await investigate_bundle(load_settings(), case.bundle_dir)
    redis = next(c for c in report.candidates[:3] if c.service == "redis")
    assert redis.fault_type.value == "dependency-outage"
    cited = [report.evidence_by_id()[i] for i in redis.evidence_ids]
    assert {e.title.split(": ")[1].split()[0] for e in cited} == {
        "cpu_usage_ratio",
        "memory_usage_bytes",
    }
    assert all(" down " in e.title for e in cited)


async def test_with_metrics_alone_a_pod_dropping_packets_is_its_network(tmp_path: Path) -> None:
    """No traces and no calls between services: shipping's own interface counts the packets
    its lossy link dropped, and that names the network, cited first among its series."""
    case = generate_case(tmp_path, "network-loss", 11)
    _metrics_only(case.bundle_dir, service_graph=False)
    top, first = await _top_and_first_cited(case.bundle_dir)
    assert (top.service, top.fault_type.value) == ("shipping", "network-delay")
    assert first.title.startswith("shipping: network_receive_packets_dropped_per_second up")


async def test_a_database_at_its_disk_limit_is_a_resource_not_its_link(tmp_path: Path) -> None:
    """catalog-db records no spans, so all its callers' time on it is outside spans of its
    own; its volume busy all the time names the fault, cited first. Without that series its
    own latency still says it is slow itself, not its network."""
    case = generate_case(tmp_path, "disk-saturation", 11)
    top, first = await _top_and_first_cited(case.bundle_dir)
    assert (top.service, top.fault_type.value) == ("catalog-db", "resource-exhaustion")
    assert first.title.startswith("catalog-db: disk_io_utilisation_ratio up")
    metrics = case.bundle_dir / "metrics.csv"
    rows = metrics.read_text().splitlines()
    metrics.write_text("\n".join(r for r in rows if ",disk_io_utilisation_ratio," not in r) + "\n")
    top, _ = await _top_and_first_cited(case.bundle_dir)
    assert (top.service, top.fault_type.value) == ("catalog-db", "latency")


async def test_a_service_that_can_start_no_more_threads_is_a_resource_not_its_errors(
    tmp_path: Path,
) -> None:
    """checkout's leaked threads reach the pids limit: requests that need one fail at once,
    skipping their calls, and its ERROR lines say OutOfMemoryError. Its live threads (×25)
    name the fault, cited first, not the exception its failures read as."""
    case = generate_case(tmp_path, "thread-leak", 11)
    top, first = await _top_and_first_cited(case.bundle_dir)
    assert (top.service, top.fault_type.value) == ("checkout", "resource-exhaustion")
    assert first.title.startswith("checkout: jvm_threads_live_threads up")
    assert "4,096" in first.title


async def test_a_volume_with_no_space_left_is_a_resource_not_its_errors(tmp_path: Path) -> None:
    """auth's audit volume fills up, then half its requests fail writing to it, and its
    ERROR lines say so. The volume, full, names the fault and is cited first, not the errors
    it causes nor the failed calls into auth that its callers saw."""
    case = generate_case(tmp_path, "disk-full", 11)
    top, first = await _top_and_first_cited(case.bundle_dir)
    assert (top.service, top.fault_type.value) == ("auth", "resource-exhaustion")
    assert first.title.startswith("auth: volume_usage_ratio up")


@pytest.mark.parametrize("fault", ["network-delay", "network-loss", "dependency-outage"])
async def test_with_metrics_and_the_service_graph_the_root_cause_ranks_first(
    fault: str, tmp_path: Path
) -> None:
    """Metrics only, but with the calls between services: a slow or lossy link and a dead
    datastore, invisible in their own time or shared with every caller, rank first, cited
    with the calls into them; their callers are symptoms."""
    case = generate_case(tmp_path, fault, 11)
    _metrics_only(case.bundle_dir, service_graph=True)
    report = await investigate_bundle(load_settings(), case.bundle_dir)
    label = json.loads(case.label_path.read_text())
    top = report.candidates[0]
    assert top.service == label["service"], [c.service for c in report.candidates]
    wanted = "dependency-outage" if fault == "dependency-outage" else "network-delay"
    assert top.fault_type.value == wanted
    cited = [report.evidence_by_id()[i] for i in top.evidence_ids]
    assert any(f" → {top.service}: " in e.title for e in cited)  # calls into it
    assert all(c.propagated for c in report.candidates[1:] if c.fault_type.value == "latency")
