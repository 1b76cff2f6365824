"""A second look at the lead candidates' own traces (``bot.investigation.focused_traces``).

The scenario: ``web`` serves pages every 10 s and calls ``catalog``; one request in ten is an
order, through ``checkout``. From minute 40 ``checkout``'s CPU is at its limit and its own span
time goes from 40 ms to 400 ms. A trace sample of the newest 20 traces per period holds two of
its traces on each side, too few to compare; the traces through it show the change.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.investigation.engine import investigate
from bot.investigation.focused_traces import LEADS, SecondLook, second_look, thin_leads
from bot.investigation.ranking import RankedService
from bot.investigation.report import FaultType
from bot.investigation.request import InvestigationRequest
from tests.bot.investigation.test_ranking import draft, healthy
from tests.bundles import T0, alert_payload, iso, write_jsonl
from tests.reference_bundles import bundle_deps
from tools.analysis.span_attribution import ServiceTraceFinding, TraceAnalysis
from tools.backends import TraceQuery
from tools.bundle.backends import BundleTraces
from tools.bundle.reader import load_bundle
from tools.deps import Deps
from tools.errors import BackendError
from tools.evidence import Source, TimeWindow
from tools.gateway import ToolGateway
from tools.links import Links
from tools.records import Span
from tools.settings import InvestigationSettings, LinksSettings

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(minutes=50))
SLOW_FROM = T0 + timedelta(minutes=40)
THIN = InvestigationSettings(trace_sample=40)  # 20 traces a period: two orders among them


def _span(
    trace: str,
    sid: str,
    parent: str | None,
    service: str,
    start: float,
    ms: float,
    kind: str = "server",
    callee: str | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trace_id": trace,
        "span_id": sid,
        "service": service,
        "operation": f"{service} op" if kind == "server" else f"call {callee}",
        "kind": kind,
        "start": start,
        "duration_ms": ms,
        "status": "ok",
    }
    if parent:
        row["parent_id"] = parent
    if callee:
        row["attrs"] = {"peer.service": callee}
    return row


def _request(n: int, start: float, slow: bool) -> list[dict[str, Any]]:
    trace = f"{n:032x}"
    order = n % 10 == 0
    callee, own_ms = ("checkout", 400.0 if slow else 40.0) if order else ("catalog", 8.0)
    total = own_ms + 4
    return [
        _span(trace, "a1", None, "web", start, total + 2),
        _span(trace, "a2", "a1", "web", start + 0.001, total, "client", callee),
        _span(trace, "a3", "a2", callee, start + 0.002, own_ms),
    ]


def rare_path_bundle(path: Path) -> Path:
    path.mkdir(parents=True)
    spans, metrics = [], ["timestamp,service,metric,value"]
    for minute in range(50):
        now = T0 + timedelta(minutes=minute)
        slow = now >= SLOW_FROM
        wiggle = 0.01 * (minute % 3)
        metrics.append(f"{iso(now)},checkout,cpu_usage_ratio,{0.99 if slow else 0.2 + wiggle}")
        metrics.append(f"{iso(now)},web,latency_p99_seconds,{0.4 if slow else 0.05 + wiggle}")
        for i in range(6):
            n = minute * 6 + i
            spans += _request(n, (now + timedelta(seconds=10 * i)).timestamp(), slow)
    write_jsonl(path / "traces.jsonl", spans)
    (path / "metrics.csv").write_text("\n".join(metrics) + "\n", encoding="utf-8")
    manifest = {
        "format": "rcabot-bundle",
        "version": 1,
        "name": "checkout slow on a rare path",
        "window": {"start": iso(WINDOW.start), "end": iso(WINDOW.end)},
    }
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    alert = alert_payload("WebLatencyHigh", "web", SLOW_FROM + timedelta(minutes=2))
    (path / "alerts.json").write_text(json.dumps(alert), encoding="utf-8")
    return path


def _deps(path: Path) -> Deps:
    return replace(bundle_deps(load_bundle(rare_path_bundle(path))), limits=THIN)


async def test_a_lead_on_a_rare_path_is_compared_on_the_traces_through_it(tmp_path: Path) -> None:
    deps = _deps(tmp_path / "b")
    bundle = load_bundle(tmp_path / "b")
    assert bundle.alerts
    report = await investigate(InvestigationRequest(alert=bundle.alerts[0]), deps, bundle.window)
    top = report.candidates[0]
    assert (top.service, top.fault_type) == ("checkout", FaultType.CPU)
    cited = [e for e in report.evidence if e.id in top.evidence_ids]
    assert {e.source for e in cited} == {Source.METRICS, Source.TRACES}
    own_time = next(e for e in cited if e.source is Source.TRACES)
    assert own_time.title == "checkout: own time on the critical path 40 ms → 400 ms per trace"
    assert any("checkout was in too few of the sampled traces" in w for w in report.warnings)


async def test_with_a_sample_that_holds_it_there_is_no_second_look(tmp_path: Path) -> None:
    deps = replace(_deps(tmp_path / "b"), limits=InvestigationSettings(trace_sample=400))
    bundle = load_bundle(tmp_path / "b")
    assert bundle.alerts
    report = await investigate(InvestigationRequest(alert=bundle.alerts[0]), deps, bundle.window)
    assert report.candidates[0].service == "checkout"
    assert not any("too few of the sampled traces" in w for w in report.warnings)


def _finding(service: str, before: float | None, after: float | None) -> ServiceTraceFinding:
    return replace(healthy(service), baseline_critical_ms=before, incident_critical_ms=after)


def _ranked(*services: str) -> list[RankedService]:
    return [RankedService(s, 1.0, FaultType.CPU, {}, [f"k:{s}"], False) for s in services]


def test_thin_leads_are_the_first_candidates_whose_own_time_was_not_compared() -> None:
    found = {
        "web": _finding("web", 10.0, 12.0),
        "checkout": _finding("checkout", None, 400.0),  # in too few traces before the start
        "late": _finding("late", None, None),
    }
    analysis = TraceAnalysis(20, 20, found, [])
    ranked = _ranked("web", "checkout", "db", "late")  # db: in no sampled trace at all
    assert thin_leads(ranked, analysis) == ["checkout", "db"]  # "late" is past the leads
    assert LEADS == 3
    assert thin_leads(ranked, None) == []  # no traces backend, or it failed
    assert thin_leads(ranked, TraceAnalysis(20, 0, found, [])) == []  # nothing since the start
    assert thin_leads(ranked, TraceAnalysis(0, 20, found, [])) == []  # nothing to compare with
    with_reference = TraceAnalysis(0, 20, found, [], reference_traces=20)
    assert thin_leads(ranked, with_reference) == ["checkout", "db"]


class FailingFocus(BundleTraces):
    """The bundle's traces, except that a search for one service's traces fails."""

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        if query.service:
            raise BackendError("jaeger", "answered 503", status=503)
        return await super().find_traces(query)


async def test_a_failed_second_look_keeps_the_first_finding_and_says_so(tmp_path: Path) -> None:
    deps = _deps(tmp_path / "b")
    bundle = load_bundle(tmp_path / "b")
    links = Links(LinksSettings(), bundle_dir=bundle.path)
    failing = replace(deps, traces=FailingFocus(bundle, links))
    thin = TraceAnalysis(20, 20, {"checkout": _finding("checkout", None, 400.0)}, [])
    start = SLOW_FROM
    looked = await second_look(ToolGateway(failing), WINDOW, start, None, _ranked("checkout"), thin)
    assert looked.analysis is thin and not looked.drafts
    assert looked.notes and "second look at the traces through checkout failed" in looked.notes[0]
    assert "503" in looked.notes[0]


def test_the_focused_items_replace_those_under_the_same_key() -> None:
    origin = "traces:origin:checkout"
    first = [draft(origin, Source.TRACES, 1.0), draft("metrics:web:x", Source.METRICS, 2.0)]
    look = SecondLook(None, [draft(origin, Source.TRACES, 3.0)])
    cited = look.cited_with(first)
    assert [(d.key, d.score) for d in cited] == [("metrics:web:x", 2.0), (origin, 3.0)]
