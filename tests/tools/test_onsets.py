"""log_onsets and trace_onsets on a small bundle whose errors and latency step up at one time."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.bundles import T0, iso, write_jsonl
from tests.reference_bundles import bundle_deps
from tools.analysis.onset import MIN_STRENGTH, Onset
from tools.backends import LogQuery, TraceQuery
from tools.bundle.reader import load_bundle
from tools.deps import Deps
from tools.evidence import TimeWindow
from tools.formatting import hhmm
from tools.gateway import ToolGateway
from tools.onsets import (
    CALL_LATENCY,
    ERROR_SHARE,
    TRACE_BUCKET_SECONDS,
    OnsetScan,
    covered,
    log_onsets,
    trace_onsets,
)
from tools.records import LogLevel
from tools.result import ToolResult, ToolStatus
from tools.settings import InvestigationSettings

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(minutes=30))
STEP = T0 + timedelta(minutes=20, seconds=15)
LOG_BUCKET = 15.0


def _log(moment: datetime, service: str, level: str, message: str) -> dict[str, Any]:
    return {"ts": iso(moment), "service": service, "level": level, "message": message}


def _trace(index: int, moment: datetime, broken: bool) -> list[dict[str, Any]]:
    trace, start = f"{index:08x}" + "ef" * 12, moment.timestamp()
    failing = broken and index % 2 == 0
    web_ms = (400.0 if broken else 50.0) + index % 5
    return [
        {
            "trace_id": trace,
            "span_id": "c1",
            "service": "web",
            "operation": "GET /",
            "kind": "server",
            "start": start,
            "duration_ms": web_ms,
            "status": "ok",
        },
        {
            "trace_id": trace,
            "span_id": "c2",
            "parent_id": "c1",
            "service": "api",
            "operation": "POST /order",
            "kind": "server",
            "start": start + 0.001,
            "duration_ms": web_ms - 5,
            "status": "error" if failing else "ok",
        },
    ]


def _incident(path: Path, *, logs_from: timedelta = timedelta(0)) -> Path:
    """Every 5 s an INFO line and a trace; from STEP api logs an ERROR line every 5 s, half the
    traces fail in api and requests take 400 ms instead of 50; web logs an ERROR line every
    3 minutes all along. No log line before ``logs_from``."""
    path.mkdir(parents=True)
    logs, spans = [], []
    for i in range(360):
        now = T0 + timedelta(seconds=5 * i)
        broken = now >= STEP
        spans += _trace(i, now, broken)
        if now < T0 + logs_from:
            continue
        logs.append(_log(now, "web", "INFO", f"handled request {i}"))
        if broken:
            logs.append(_log(now, "api", "ERROR", f"pool timeout for order {i}"))
        if i % 36 == 7:
            logs.append(_log(now, "web", "ERROR", f"client reset {i}"))
    write_jsonl(path / "logs.jsonl", logs)
    write_jsonl(path / "traces.jsonl", spans)
    window = {"start": iso(WINDOW.start), "end": iso(WINDOW.end)}
    manifest = {"format": "rcabot-bundle", "version": 1, "name": "step", "window": window}
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


def _deps(path: Path, *, trace_sample: int = 400) -> Deps:
    deps = bundle_deps(load_bundle(path))
    deps.limits = InvestigationSettings(trace_sample=trace_sample)
    return deps


def _onsets(result: ToolResult[OnsetScan]) -> list[Onset]:
    assert result.status is ToolStatus.OK and result.data is not None
    return result.data.onsets


def _near_step(onset: Onset) -> bool:
    return abs(onset.at - STEP.timestamp()) <= onset.resolution_s


async def test_log_onsets_find_the_rise_of_error_lines_and_cite_the_strongest(
    tmp_path: Path,
) -> None:
    deps = _deps(_incident(tmp_path / "b"))
    result = await ToolGateway(deps).call(log_onsets, window=WINDOW)
    onsets = _onsets(result)
    by_what = {o.what: o for o in onsets}
    assert set(by_what) == {
        "ERROR log lines (all services)",
        "api ERROR log lines",
        "web ERROR log lines",
    }
    assert [o.strength for o in onsets] == sorted((o.strength for o in onsets), reverse=True)
    for what in ("ERROR log lines (all services)", "api ERROR log lines"):
        onset = by_what[what]
        assert _near_step(onset) and onset.strength >= MIN_STRENGTH
        assert onset.source == "logs" and onset.unit == "/min" and onset.resolution_s == LOG_BUCKET
        assert onset.before < 1 < 10 < onset.after  # 12 lines a minute after
    assert by_what["web ERROR log lines"].strength < MIN_STRENGTH
    # one service's lines are not another's (separate evidence); all lines contain both
    assert by_what["api ERROR log lines"].records == "api ERROR log lines"
    assert by_what["web ERROR log lines"].records == "web ERROR log lines"
    assert by_what["ERROR log lines (all services)"].records == ""
    [evidence] = result.evidence
    top = onsets[0]
    assert evidence.key == "onset:logs" and evidence.score == top.strength
    assert evidence.title.startswith(f"{top.what} rose from ")
    assert evidence.title.endswith(f" at {hhmm(top.at)}")
    service = "api" if top.what.startswith("api") else None
    assert evidence.service == service
    assert deps.logs is not None
    query = LogQuery(
        window=WINDOW, services=(service,) if service else (), min_level=LogLevel.ERROR
    )
    assert evidence.query == deps.logs.describe(query).text
    assert evidence.window == WINDOW


async def test_minutes_without_any_log_line_are_no_data_not_zero_errors(tmp_path: Path) -> None:
    # the logs start a minute after api began failing: no rise where the data begins
    path = _incident(tmp_path / "b", logs_from=timedelta(minutes=21))
    result = await ToolGateway(_deps(path)).call(log_onsets, window=WINDOW)
    assert all(o.strength < MIN_STRENGTH for o in _onsets(result))
    assert result.evidence == []


async def test_trace_onsets_find_the_rise_of_errors_and_latency(tmp_path: Path) -> None:
    deps = _deps(_incident(tmp_path / "b"))
    result = await ToolGateway(deps).call(trace_onsets, window=WINDOW)
    onsets = _onsets(result)
    in_api = f"{ERROR_SHARE} in api"  # web's spans never fail: no series of its own
    into_api = f"{CALL_LATENCY} api"  # web calls api in every request
    assert {o.what for o in onsets} == {ERROR_SHARE, in_api, "entry-span latency", into_api}
    for onset in onsets:
        assert onset.source == "traces" and onset.resolution_s == TRACE_BUCKET_SECONDS
        assert _near_step(onset) and onset.strength >= MIN_STRENGTH
    for what in (ERROR_SHARE, in_api):  # every trace goes through api
        share = next(o for o in onsets if o.what == what)
        assert share.unit == "share" and share.before == 0 and 0.3 < share.after < 0.7
    latency = next(o for o in onsets if o.what == "entry-span latency")
    assert latency.unit == "s" and latency.before < 0.06 and 0.39 < latency.after < 0.41
    calls = next(o for o in onsets if o.what == into_api)  # api's own spans: 5 ms less
    assert calls.unit == "s" and calls.before < 0.055 and 0.39 < calls.after < 0.4
    [evidence] = result.evidence
    assert evidence.key == "onset:traces" and evidence.score == onsets[0].strength
    assert f" at {hhmm(onsets[0].at)}" in evidence.title
    assert deps.traces is not None
    service = "api" if onsets[0].what in (in_api, into_api) else None
    errors_only = onsets[0].what.startswith(ERROR_SHARE)
    query = TraceQuery(window=WINDOW, service=service, errors_only=errors_only)
    assert evidence.query == deps.traces.describe(query).text and evidence.service == service
    assert result.warnings == []


def _span(trace: str, span: str, service: str, start: float, failing: bool) -> dict[str, Any]:
    return {
        "trace_id": trace,
        "span_id": span,
        "parent_id": None if span == "r" else "r",
        "service": service,
        "operation": f"{service} call",
        "kind": "server",
        "start": start,
        "duration_ms": 20.0,
        "status": "error" if failing else "ok",
    }


async def test_a_service_whose_own_spans_start_failing_stands_out_from_background_errors(
    tmp_path: Path,
) -> None:
    # every trace: web calls search, which fails in a third of them all along; every fourth
    # trace web also calls pay, which fails from STEP on
    path = tmp_path / "b"
    path.mkdir()
    spans = []
    for i in range(360):
        now = T0 + timedelta(seconds=5 * i)
        trace, start = f"{i:08x}" + "cd" * 12, now.timestamp()
        spans += [
            _span(trace, "r", "web", start, False),
            _span(trace, "s", "search", start, i % 3 == 0),
        ]
        if i % 4 == 0:
            spans.append(_span(trace, "p", "pay", start, now >= STEP))
    write_jsonl(path / "traces.jsonl", spans)
    window = {"start": iso(WINDOW.start), "end": iso(WINDOW.end)}
    manifest = {"format": "rcabot-bundle", "version": 1, "name": "pay", "window": window}
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = await ToolGateway(_deps(path)).call(trace_onsets, window=WINDOW)
    by_what = {o.what: o for o in _onsets(result)}
    pay = by_what[f"{ERROR_SHARE} in pay"]
    assert _near_step(pay) and pay.before == 0 and pay.after == 1
    assert pay.strength >= MIN_STRENGTH > by_what[ERROR_SHARE].strength  # hidden in all traces
    search = by_what.get(f"{ERROR_SHARE} in search")  # failing all along
    assert search is None or search.strength < MIN_STRENGTH
    [evidence] = result.evidence
    assert evidence.service == "pay" and evidence.title.startswith(f"{ERROR_SHARE} in pay rose")


async def test_a_thin_trace_sample_places_onsets_to_within_a_slice_and_says_so(
    tmp_path: Path,
) -> None:
    # 20 traces for 360: two slices of 15 minutes, each seen only in its latest 10 traces
    deps = _deps(_incident(tmp_path / "b"), trace_sample=20)
    result = await ToolGateway(deps).call(trace_onsets, window=WINDOW)
    onsets = _onsets(result)
    assert onsets and all(o.resolution_s == 15 * 60 for o in onsets)
    assert len(result.warnings) == 1 and "within 900 s" in result.warnings[0]


async def test_each_scan_says_which_span_its_data_covers(tmp_path: Path) -> None:
    # logs from minute 21 on, traces all along: a start past either's end leaves it nothing
    gateway = ToolGateway(_deps(_incident(tmp_path / "b", logs_from=timedelta(minutes=21))))
    logs = (await gateway.call(log_onsets, window=WINDOW)).data
    traces = (await gateway.call(trace_onsets, window=WINDOW)).data
    assert logs is not None and traces is not None
    assert logs.covered == TimeWindow(start=T0 + timedelta(minutes=21), end=WINDOW.end)
    assert traces.covered == WINDOW
    assert covered([logs, traces]) == WINDOW
    assert covered([logs]) == logs.covered and covered([]) is None


async def test_no_data_is_an_ok_result_with_a_warning(tmp_path: Path) -> None:
    gateway = ToolGateway(_deps(_incident(tmp_path / "b")))
    empty = TimeWindow(start=T0 - timedelta(hours=2), end=T0 - timedelta(hours=1))
    for tool, warning in ((log_onsets, "no log lines"), (trace_onsets, "no traces")):
        result = await gateway.call(tool, window=empty)
        assert _onsets(result) == [] and result.evidence == []
        assert result.data is not None and result.data.covered is None
        assert any(warning in w for w in result.warnings)


async def test_without_a_backend_the_gateway_says_so() -> None:
    gateway = ToolGateway(Deps(unavailable={"logs": "no logs here"}))
    for tool in (log_onsets, trace_onsets):
        result = await gateway.call(tool, window=WINDOW)
        assert result.status is ToolStatus.UNAVAILABLE and result.evidence == []


def _call_trace(
    index: int, moment: datetime, pay_ms: float, pay_every: int
) -> list[dict[str, Any]]:
    """web serves a request and calls search; every ``pay_every``-th request it also calls pay
    through a client span that takes ``pay_ms`` while pay's own span takes 2 ms."""
    trace, start = f"{index:08x}" + "ab" * 12, moment.timestamp()

    def span(span_id: str, parent: str | None, service: str, kind: str, ms: float) -> Any:
        return {
            "trace_id": trace,
            "span_id": span_id,
            "parent_id": parent,
            "service": service,
            "operation": f"{service} {kind}",
            "kind": kind,
            "start": start + (0.001 if parent else 0.0),
            "duration_ms": ms,
            "status": "ok",
        }

    spans = [
        span("r", None, "web", "server", 60.0 + index % 7),
        span("s", "r", "search", "server", 30.0),
    ]
    if index % pay_every == 0:
        spans += [span("c", "r", "web", "client", pay_ms), span("p", "c", "pay", "server", 2.0)]
    return spans


def _link_bundle(path: Path, *, first: int = 0, pay_every: int = 4, idle_callees: int = 0) -> Path:
    """Every 5 s a request (from the ``first``), the link to pay 400 ms slower from STEP; each
    request also calls ``idle_callees`` more services whose calls never change."""
    path.mkdir(parents=True)
    spans: list[dict[str, Any]] = []
    for i in range(first, 360):
        now = T0 + timedelta(seconds=5 * i)
        trace = _call_trace(i, now, 3.0 + i % 3 + (400.0 if now >= STEP else 0.0), pay_every)
        for k in range(idle_callees):
            idle = dict(trace[1], span_id=f"i{k}", service=f"idle{k}", duration_ms=10.0 + i % 5)
            trace.append(idle)
        spans += trace
    write_jsonl(path / "traces.jsonl", spans)
    window = {"start": iso(WINDOW.start), "end": iso(WINDOW.end)}
    manifest = {"format": "rcabot-bundle", "version": 1, "name": "link", "window": window}
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


async def test_a_slower_link_into_a_callee_few_requests_reach_shows_in_the_calls_into_it(
    tmp_path: Path,
) -> None:
    # pay's own spans and three in four requests do not change: the entry spans' median does not
    # move, the calls into pay, timed by web's client spans, go from ~4 ms to ~404 ms
    deps = _deps(_link_bundle(tmp_path / "b"))
    result = await ToolGateway(deps).call(trace_onsets, window=WINDOW)
    by_what = {o.what: o for o in _onsets(result)}
    pay = by_what[f"{CALL_LATENCY} pay"]
    assert _near_step(pay) and pay.strength >= MIN_STRENGTH
    assert pay.before < 0.006 and 0.40 < pay.after < 0.41 and pay.unit == "s"
    for quiet in ("entry-span latency", f"{CALL_LATENCY} search"):
        assert quiet not in by_what or by_what[quiet].strength < MIN_STRENGTH
    # each latency series names the spans it is made of: separate evidence for one another,
    # the error shares (all traces, or the traces through a service) over shared traces
    assert {o.records for o in by_what.values() if o.unit == "s"} <= {
        "entry spans",
        f"{CALL_LATENCY} pay",
        f"{CALL_LATENCY} search",
    }
    assert pay.records == f"{CALL_LATENCY} pay"
    assert all(o.records == "" for o in by_what.values() if o.unit == "share")
    [evidence] = result.evidence
    assert evidence.service == "pay" and evidence.title.startswith(f"{CALL_LATENCY} pay rose")
    assert deps.traces is not None
    query = TraceQuery(window=WINDOW, service="pay", errors_only=False)
    assert evidence.query == deps.traces.describe(query).text


async def test_a_change_soon_after_the_traces_begin_is_placed(tmp_path: Path) -> None:
    # the traces begin 30 s before the link slows, every request calls pay: six buckets of 5 s
    # before it (15 s ones would leave two, under the three a change point needs on each side)
    first = int((STEP - T0).total_seconds() // 5) - 6
    deps = _deps(_link_bundle(tmp_path / "b", first=first, pay_every=1))
    onsets = _onsets(await ToolGateway(deps).call(trace_onsets, window=WINDOW))
    pay = next(o for o in onsets if o.what == f"{CALL_LATENCY} pay")
    assert _near_step(pay) and pay.strength >= MIN_STRENGTH
    assert pay.at == STEP.timestamp()
    wide = _onsets(await ToolGateway(deps).call(trace_onsets, window=WINDOW, bucket_seconds=15))
    late = [o for o in wide if o.what == f"{CALL_LATENCY} pay"]  # a bucket late at best
    assert all(o.at >= STEP.timestamp() + 15 for o in late)


async def test_each_services_calls_are_discounted_for_how_many_services_were_looked_at(
    tmp_path: Path,
) -> None:
    # the strongest of many series is strong by chance more often: the same change in pay's
    # calls counts log(8/2) less among 8 callees' series than among 2
    gateway = ToolGateway(_deps(_link_bundle(tmp_path / "two")))
    two = _onsets(await gateway.call(trace_onsets, window=WINDOW))
    gateway = ToolGateway(_deps(_link_bundle(tmp_path / "eight", idle_callees=6)))
    eight = _onsets(await gateway.call(trace_onsets, window=WINDOW))

    def strength(onsets: list[Onset], what: str) -> float:
        return next(o.strength for o in onsets if o.what == what)

    pay = f"{CALL_LATENCY} pay"
    assert strength(two, pay) - strength(eight, pay) == pytest.approx(math.log(8 / 2))
    entry = "entry-span latency"  # one series, not a family: never discounted
    assert entry not in {o.what for o in eight} or strength(two, entry) == pytest.approx(
        strength(eight, entry)
    )
