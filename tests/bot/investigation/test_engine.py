from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.config import load_settings
from bot.investigation.engine import investigate
from bot.investigation.notes import helper_warnings
from bot.investigation.report import CITATION, FaultType, Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.sources import bundle_sources
from tests.bundles import small_incident, write_jsonl
from tools.backends import LogHistogram, LogPage, LogQuery, QueryInfo
from tools.errors import BackendError
from tools.evidence import TimeWindow
from tools.records import MetricSeries
from tools.result import ToolResult, ToolStatus
from tools.settings import InvestigationSettings


async def _run(path: Path, **request: object) -> Report:
    sources = await bundle_sources(path, load_settings())
    req = InvestigationRequest(alert=sources.alert, **request)
    return await investigate(
        req, sources.deps, sources.window, source_warnings=sources.bundle.warnings
    )


def _assert_every_citation_resolves(report: Report) -> None:
    ids = {e.id for e in report.evidence}
    assert ids == {f"E{i}" for i in range(1, len(ids) + 1)}
    for line in report.answer.splitlines():
        assert CITATION.search(line), f"uncited line in answer: {line!r}"
    for c in report.candidates:
        assert c.evidence_ids and set(c.evidence_ids) <= ids


async def test_faulty_service_first_with_cited_evidence(small_bundle: Path) -> None:
    report = await _run(small_bundle)
    top = report.candidates[0]
    assert top.service == "api"
    assert top.fault_type is FaultType.BAD_DEPLOY
    assert report.evidence[0].source.value == "alert"
    cited = {report.evidence_by_id()[i].source.value for i in top.evidence_ids}
    assert {"change", "traces", "logs", "metrics"} <= cited
    assert report.candidates[1].service == "web" and report.candidates[1].propagated
    assert report.incident_start.startswith("2026-03-02T09:40")
    assert report.dropped_statements == []
    telemetry = [s for s in report.sources if s.source != "postmortems"]  # none ingested here
    assert telemetry and all(s.ok for s in telemetry)
    assert report.tokens.evidence > 0
    _assert_every_citation_resolves(report)


async def test_missing_traces_are_reported_and_the_rest_still_works(tmp_path: Path) -> None:
    report = await _run(small_incident(tmp_path / "b", traces=False))
    traces = next(s for s in report.sources if s.source == "traces")
    assert not traces.ok and traces.detail == "bundle has no traces.jsonl"
    assert report.candidates[0].service == "api"
    _assert_every_citation_resolves(report)


async def test_bad_lines_reach_the_report_warnings(tmp_path: Path) -> None:
    path = small_incident(tmp_path / "b")
    with (path / "logs.jsonl").open("a") as handle:
        handle.write("{broken\n")
    report = await _run(path)
    assert any(w.startswith("logs.jsonl:") and "not valid JSON" in w for w in report.warnings)


class _BrokenLogs:
    name = "elasticsearch"

    async def search(self, query: LogQuery) -> LogPage:
        raise BackendError("elasticsearch", "HTTP 503 from http://es:9200/logs-*/_search")

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        raise BackendError("elasticsearch", "HTTP 503")

    async def histogram(self, query: LogQuery, interval: timedelta) -> LogHistogram:
        raise BackendError("elasticsearch", "HTTP 503")

    def describe(self, query: LogQuery) -> QueryInfo:
        return QueryInfo("*", None)


class _HangingMetrics:
    name = "prometheus"

    async def signals(self) -> list[str]:
        return ["error_ratio"]

    async def series(self, signal: str, window: TimeWindow, step: timedelta) -> list[MetricSeries]:
        await asyncio.sleep(30)
        return []

    def describe(self, signal: str, window: TimeWindow, service: str | None = None) -> QueryInfo:
        return QueryInfo(signal, None)


async def test_failing_and_slow_backends_are_named_not_fatal(small_bundle: Path) -> None:
    sources = await bundle_sources(small_bundle, load_settings())
    deps = sources.deps
    deps.logs = _BrokenLogs()
    deps.metrics = _HangingMetrics()
    deps.limits = InvestigationSettings(tool_timeout_s=0.2)
    report = await investigate(InvestigationRequest(alert=sources.alert), deps, sources.window)
    status = {s.source: s for s in report.sources}
    assert not status["logs"].ok and "HTTP 503" in status["logs"].detail
    assert not status["metrics"].ok and status["metrics"].detail == "timed out after 0.2s"
    assert status["traces"].ok and status["changes"].ok
    assert report.candidates[0].service == "api"  # traces and the deploy still point at it
    _assert_every_citation_resolves(report)


async def test_service_scope_without_alert(small_bundle: Path) -> None:
    sources = await bundle_sources(small_bundle, load_settings())
    report = await investigate(InvestigationRequest(service="web"), sources.deps, sources.window)
    assert report.scope == "service web"
    assert report.question == "What is wrong with web?"
    assert report.candidates[0].service == "api"


async def test_empty_window_gives_an_answer_with_no_candidates(tmp_path: Path) -> None:
    path = tmp_path / "quiet"
    path.mkdir()
    write_jsonl(
        path / "logs.jsonl",
        [
            {
                "ts": f"2026-03-02T09:{m:02d}:00Z",
                "service": "a",
                "level": "info",
                "message": "all fine",
            }
            for m in range(60)
        ],
    )
    sources = await bundle_sources(path, load_settings())
    report = await investigate(InvestigationRequest(service="a"), sources.deps, sources.window)
    assert report.candidates == []
    assert report.answer == ""
    failed = {s.source for s in report.sources if not s.ok}
    assert failed == {"metrics", "traces", "changes", "postmortems"}


# --- issue 11: helper tools (onsets, code paths) beside the main ones --------------------------

MAIN_TOOLS = ["changes", "logs", "metrics", "postmortems", "traces"]


def _result(
    tool: str, source: str, *, error: str | None = None, warnings: tuple[str, ...] = ()
) -> ToolResult[None]:
    status = ToolStatus.ERROR if error else ToolStatus.OK
    return ToolResult(tool, source, "bundle", status, error=error, warnings=list(warnings))


def test_a_helper_s_warnings_are_kept_and_its_failure_is_a_warning() -> None:
    helpers = [
        _result("log_onsets", "logs", warnings=("only 3 buckets with logs",)),
        _result("trace_onsets", "traces", error="jaeger: connection refused"),
    ]
    main = [_result("log_patterns", "logs"), _result("trace_attribution", "traces")]
    assert helper_warnings(helpers, main) == [
        "only 3 buckets with logs",
        "trace_onsets: jaeger: connection refused",
    ]


def test_a_helper_s_failure_a_main_tool_already_reported_is_not_repeated() -> None:
    refused = "jaeger: connection refused"
    helpers = [
        _result("trace_onsets", "traces", error=refused),
        _result("code_path_changes", "traces", error=refused),
    ]
    main = [_result("trace_attribution", "traces", error=refused)]
    assert helper_warnings(helpers, main) == []


def test_helper_warnings_are_not_duplicated() -> None:
    thin = "no traces since the incident start"
    helpers = [
        _result("trace_onsets", "traces", warnings=(thin,)),
        _result("code_path_changes", "traces", warnings=(thin,), error="timed out after 5s"),
        _result("log_onsets", "logs", error="timed out after 5s"),
    ]
    found = helper_warnings(helpers, [])
    assert found == [
        thin,
        "code_path_changes: timed out after 5s",
        "log_onsets: timed out after 5s",
    ]


async def test_the_sources_are_the_main_tools_not_their_helpers(small_bundle: Path) -> None:
    report = await _run(small_bundle)
    assert sorted(s.source for s in report.sources) == MAIN_TOOLS


async def test_a_failed_backend_is_named_once_not_again_by_its_helpers(
    small_bundle: Path,
) -> None:
    """The logs backend fails: the logs source says so; the tools that also read logs to place
    the start (log_onsets) or to join lines to spans add no second report of it."""
    sources = await bundle_sources(small_bundle, load_settings())
    sources.deps.logs = _BrokenLogs()
    report = await investigate(
        InvestigationRequest(alert=sources.alert), sources.deps, sources.window
    )
    status = {s.source: s for s in report.sources}
    assert not status["logs"].ok and "HTTP 503" in status["logs"].detail
    assert sorted(status) == MAIN_TOOLS
    assert not [w for w in report.warnings if "HTTP 503" in w], report.warnings


async def test_the_small_incident_puts_api_first_with_its_own_error_lines_cited(
    small_bundle: Path,
) -> None:
    """The bundle's api writes ERROR lines (pool timeouts) from minute 40 without span ids, so
    there is no code path to compare: its cited log evidence is those lines."""
    report = await _run(small_bundle)
    top = report.candidates[0]
    assert top.service == "api"
    cited = [report.evidence_by_id()[i] for i in top.evidence_ids]
    logs = [e for e in cited if e.source.value == "logs"]
    assert logs and all(e.service == "api" for e in logs)
    assert any("Timeout acquiring connection" in e.title for e in logs)
    assert top.signals.get("logs", 0) > 0.5
