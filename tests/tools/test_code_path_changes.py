"""The code_path_changes tool: traces and logs sampled, joined and told as evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tools.backends import (
    LogHistogram,
    LogPage,
    LogQuery,
    QueryInfo,
    TraceQuery,
    select_traces,
)
from tools.code_path_changes import MAX_EVIDENCE, code_path_changes
from tools.deps import Deps
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.gateway import ToolGateway
from tools.records import LogLevel, LogRecord, Span
from tools.result import ToolStatus
from tools.settings import InvestigationSettings

START = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)
WINDOW = TimeWindow(start=START - timedelta(minutes=10), end=START + timedelta(minutes=5))
DAY_BEFORE = START - timedelta(days=1)
REFERENCE = TimeWindow(start=DAY_BEFORE, end=DAY_BEFORE + timedelta(minutes=10))
QUERY = "Query route by id {n}"
FAILED = "price lookup failed for order {n}"


class _Traces:
    """In-memory traces backend, answering as every backend must (``select_traces``)."""

    name = "memory-traces"

    def __init__(self) -> None:
        self.traces: list[list[Span]] = []

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        return select_traces(self.traces, query)

    async def get_trace(self, trace_id: str) -> list[Span]:
        return next((t for t in self.traces if t[0].trace_id == trace_id), [])

    def describe(self, query: TraceQuery) -> QueryInfo:
        return QueryInfo(f"traces service={query.service} operation={query.operation}", None)

    def trace_link(self, trace_id: str) -> str | None:
        return f"http://jaeger/trace/{trace_id}"


class _Logs:
    """In-memory logs backend: records in the window, oldest first, at most ``limit``."""

    name = "memory-logs"

    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.queries: list[LogQuery] = []

    async def search(self, query: LogQuery) -> LogPage:
        self.queries.append(query)
        found = sorted((r for r in self.records if query.window.contains(r.ts)), key=lambda r: r.ts)
        return LogPage(found[: query.limit], total=len(found))

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        return {}

    async def histogram(self, query: LogQuery, interval: timedelta) -> LogHistogram:
        return LogHistogram(query.window.start, interval, {})

    def describe(self, query: LogQuery) -> QueryInfo:
        return QueryInfo(f"logs services={list(query.services)} text={query.text}", "http://kb/")


class _System:
    """One span per trace, a second apart, each writing the log lines it is given."""

    def __init__(self) -> None:
        self.traces = _Traces()
        self.logs = _Logs()

    def period(
        self,
        start: datetime,
        count: int,
        writing: int,
        line: tuple[LogLevel, str],
        *,
        operation: str = "RouteController.queryByIds",
        service: str = "ts-route-service",
    ) -> list[Span]:
        spans = []
        for i in range(count):
            n = len(self.traces.traces)
            at = start + timedelta(seconds=i)
            span = Span(
                f"{n + 1:032x}", f"{n + 1:016x}", None, service, operation, at.timestamp(), 50
            )
            self.traces.traces.append([span])
            spans.append(span)
            lines = [(LogLevel.INFO, "handled request {n}")] + ([line] if i < writing else [])
            for level, text in lines:
                message = text.format(n=n)
                moment = at + timedelta(milliseconds=10)
                self.logs.records.append(
                    LogRecord(moment, service, level, message, span.trace_id, span.span_id)
                )
        return spans

    def query_in(self, spans: list[Span]) -> None:
        """Give each of ``spans`` (roots from :meth:`period`) a ``SELECT route`` child span of
        its own service: a query the operation makes."""
        roots = {span.span_id for span in spans}
        for i, trace in enumerate(t for t in self.traces.traces if t[0].span_id in roots):
            root = trace[0]
            trace.append(
                Span(
                    root.trace_id,
                    f"{i:08x}5e1ec7",
                    root.span_id,
                    root.service,
                    "SELECT route",
                    root.start,
                    2.0,
                    kind="client",
                )
            )

    async def only_evidence(self) -> EvidenceDraft:
        """The one evidence item code_path_changes finds in the window split at START."""
        result = await self.gateway().call(code_path_changes, window=WINDOW, incident_start=START)
        (evidence,) = result.evidence
        return evidence

    def gateway(self, *, logs: bool = True, log_sample: int = 5_000) -> ToolGateway:
        deps = Deps(
            traces=self.traces,
            logs=self.logs if logs else None,
            limits=InvestigationSettings(log_sample=log_sample),
            unavailable={} if logs else {"logs": "no logs backend configured"},
        )
        return ToolGateway(deps)


async def test_a_vanished_line_is_evidence_of_an_exception_in_its_service() -> None:
    system = _System()
    system.period(START - timedelta(minutes=5), 40, 29, (LogLevel.INFO, QUERY))
    incident = system.period(START + timedelta(seconds=5), 35, 0, (LogLevel.INFO, QUERY))
    result = await system.gateway().call(code_path_changes, window=WINDOW, incident_start=START)
    assert result.status is ToolStatus.OK and result.warnings == []
    assert result.data is not None
    (change,) = result.data
    assert change.kind == "vanished" and change.incident_spans == 35
    (evidence,) = result.evidence
    assert evidence.key.startswith("codepath:ts-route-service:RouteController.queryByIds:")
    assert evidence.source is Source.LOGS and evidence.service == "ts-route-service"
    assert evidence.score == change.score
    assert evidence.title == (
        "ts-route-service RouteController.queryByIds stopped writing “Query route by id <NUM>” "
        "(29/40 spans normally → 0/35)"
    )
    assert "no longer reaches the code that writes this line" in evidence.summary
    assert "an exception or an early return in ts-route-service" in evidence.summary
    assert evidence.query == (
        "logs services=['ts-route-service'] text=Query route by id\n"
        "traces service=ts-route-service operation=RouteController.queryByIds"
    )
    assert evidence.link == "http://kb/"
    assert evidence.window == WINDOW  # the whole window: where the line stops
    first = incident[0].trace_id
    assert f"without the line: {first} (http://jaeger/trace/{first})" in evidence.excerpt
    assert all(span.trace_id in evidence.excerpt for span in incident[1:3])
    assert all(q.min_level is None for q in system.logs.queries)  # every level is read


async def test_an_error_line_that_appeared_says_so_in_the_title() -> None:
    system = _System()
    system.period(START - timedelta(minutes=5), 14, 0, (LogLevel.ERROR, FAILED))
    system.period(START + timedelta(seconds=5), 12, 8, (LogLevel.ERROR, FAILED))
    evidence = await system.only_evidence()
    assert evidence.title == (
        "ts-route-service RouteController.queryByIds started writing ERROR "
        "“price lookup failed for order <NUM>” (0/14 spans normally → 8/12)"
    )
    assert "now takes an error path it did not take before" in evidence.summary
    assert evidence.window == TimeWindow(start=START, end=WINDOW.end)


async def test_the_evidence_names_the_statement_that_wrote_the_line() -> None:
    """Where the logs say which statement wrote a line, the title and summary name it: the
    same text may be written at several places, and the engineer goes to this one."""
    system = _System()
    system.period(START - timedelta(minutes=5), 40, 29, (LogLevel.INFO, QUERY))
    system.period(START + timedelta(seconds=5), 35, 0, (LogLevel.INFO, QUERY))
    system.logs.records = [
        replace(r, source="r.s.RouteServiceImpl#88") for r in system.logs.records
    ]
    evidence = await system.only_evidence()
    assert evidence.title == (
        "ts-route-service RouteController.queryByIds stopped writing “Query route by id <NUM>” "
        "(r.s.RouteServiceImpl#88) (29/40 spans normally → 0/35)"
    )
    assert "“Query route by id <NUM>” (r.s.RouteServiceImpl#88) before the" in evidence.summary


async def test_the_evidence_says_when_a_line_stopped_after_the_start() -> None:
    system = _System()
    system.period(START - timedelta(minutes=5), 12, 12, (LogLevel.INFO, QUERY))
    incident = system.period(START + timedelta(seconds=5), 26, 11, (LogLevel.INFO, QUERY))
    evidence = await system.only_evidence()
    stopped = datetime.fromtimestamp(incident[11].start, UTC).strftime("%H:%M:%S")
    assert f"did (p ≈ 1e-04), 0 of the 15 from {stopped} UTC on." in evidence.summary


async def test_the_reference_period_is_the_baseline_when_given() -> None:
    system = _System()
    system.period(REFERENCE.start, 30, 30, (LogLevel.INFO, QUERY))
    system.period(START - timedelta(minutes=5), 20, 0, (LogLevel.INFO, QUERY))
    system.period(START + timedelta(seconds=5), 20, 0, (LogLevel.INFO, QUERY))
    gateway = system.gateway()
    alone = await gateway.call(code_path_changes, window=WINDOW, incident_start=START)
    assert alone.data == [] and alone.evidence == []
    result = await gateway.call(
        code_path_changes, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    (evidence,) = result.evidence
    assert evidence.title.endswith("(30/30 spans in the reference → 0/20)")
    assert "in the reference period" in evidence.summary
    assert result.warnings == []


async def test_a_reference_that_caught_the_service_failing_keeps_its_other_requests() -> None:
    """8 of 14 reference requests failed; the 6 others wrote the line, which the minutes before
    the start (an earlier fault's tail) and the incident do not: evidence against those 6, and
    a warning that says how the service was compared."""
    system = _System()
    failed = system.period(REFERENCE.start, 8, 8, (LogLevel.ERROR, FAILED))
    system.traces.traces = [
        [replace(span, error=True) if span in failed else span for span in trace]
        for trace in system.traces.traces
    ]
    system.period(REFERENCE.start + timedelta(minutes=1), 6, 6, (LogLevel.INFO, QUERY))
    system.period(START - timedelta(minutes=5), 20, 0, (LogLevel.INFO, QUERY))
    system.period(START + timedelta(seconds=5), 20, 0, (LogLevel.INFO, QUERY))
    result = await system.gateway().call(
        code_path_changes, window=WINDOW, incident_start=START, reference=REFERENCE
    )
    (evidence,) = result.evidence
    assert evidence.title.endswith("(6/6 spans in the reference → 0/20)")
    (warning,) = result.warnings
    assert "more failing requests than the minutes before the incident" in warning
    assert "1 service(s) (ts-route-service)" in warning
    assert "compared with the reference's requests that did not fail" in warning


async def test_one_evidence_item_per_operation_and_direction() -> None:
    system = _System()
    texts = ("validated the request", "loaded the route rows", "wrote the response to it")
    for k in range(MAX_EVIDENCE + 2):
        operation = f"op{k}"
        first = (LogLevel.INFO, f"{operation} {texts[0]}")
        before = system.period(START - timedelta(minutes=5), 20, 20, first, operation=operation)
        system.period(START + timedelta(seconds=5), 20, 0, first, operation=operation)
        for span in before:  # two more lines that vanish with the first
            moment = datetime.fromtimestamp(span.start, UTC)
            system.logs.records += [
                LogRecord(
                    moment,
                    span.service,
                    LogLevel.INFO,
                    f"{operation} {text}",
                    span.trace_id,
                    span.span_id,
                )
                for text in texts[1:]
            ]
    result = await system.gateway().call(code_path_changes, window=WINDOW, incident_start=START)
    assert result.data is not None and len(result.data) == 3 * (MAX_EVIDENCE + 2)
    assert len(result.evidence) == MAX_EVIDENCE
    assert len({e.title.split()[1] for e in result.evidence}) == MAX_EVIDENCE  # operations
    assert all("2 other lines of it stopped too" in e.summary for e in result.evidence)
    assert len({e.key for e in result.evidence}) == MAX_EVIDENCE


async def test_a_cut_log_page_compares_only_spans_that_ended_before_the_cut() -> None:
    system = _System()
    system.period(START - timedelta(minutes=5), 20, 20, (LogLevel.INFO, QUERY))
    system.period(START + timedelta(seconds=5), 60, 0, (LogLevel.INFO, QUERY))
    result = await system.gateway(log_sample=50).call(
        code_path_changes, window=WINDOW, incident_start=START
    )
    assert result.data is not None
    (change,) = result.data
    # 20 spans before wrote 40 lines, all read; 60 incident spans wrote 60, 50 of them read:
    # the 50th 10 ms into span 49, after spans 0..48 had ended
    assert change.normal_spans == 20
    assert change.incident_spans == 49
    (warning,) = result.warnings
    assert warning.startswith("60 log lines in the incident sample, more than the 50 read")
    assert "only spans that ended by" in warning


async def test_without_a_logs_backend_only_the_calls_are_compared_and_it_says_so() -> None:
    """No logs to join: the line that stopped is not seen, the query the operation stopped
    making (a child span, in the traces themselves) still is, and a warning says which."""
    system = _System()
    before = system.period(START - timedelta(minutes=5), 40, 29, (LogLevel.INFO, QUERY))
    system.period(START + timedelta(seconds=5), 35, 0, (LogLevel.INFO, QUERY))
    system.query_in(before)
    result = await system.gateway(logs=False).call(
        code_path_changes, window=WINDOW, incident_start=START
    )
    assert result.status is ToolStatus.OK and result.data is not None
    (change,) = result.data
    assert (change.event, change.kind, change.template) == ("call", "vanished", "SELECT route")
    (evidence,) = result.evidence
    assert evidence.source is Source.TRACES
    assert evidence.query == "traces service=ts-route-service operation=RouteController.queryByIds"
    (warning,) = result.warnings
    assert "no logs backend configured" in warning
    assert "only the calls each operation makes inside its service were compared" in warning
    assert system.logs.queries == []


async def test_logs_without_span_ids_are_warned_about() -> None:
    system = _System()
    system.period(START - timedelta(minutes=5), 40, 29, (LogLevel.INFO, QUERY))
    system.period(START + timedelta(seconds=5), 35, 0, (LogLevel.INFO, QUERY))
    system.logs.records = [
        LogRecord(r.ts, r.service, r.level, r.message) for r in system.logs.records
    ]
    result = await system.gateway().call(code_path_changes, window=WINDOW, incident_start=START)
    assert result.data == []
    (warning,) = result.warnings
    assert "carries a trace and span id" in warning


async def test_no_traces_is_a_warning() -> None:
    result = await _System().gateway().call(code_path_changes, window=WINDOW, incident_start=START)
    assert result.status is ToolStatus.OK and result.data == []
    assert result.warnings == ["no traces in the window"]


async def test_a_query_the_operation_stopped_making_is_traces_evidence() -> None:
    system = _System()
    before = system.period(START - timedelta(minutes=5), 30, 0, (LogLevel.INFO, QUERY))
    system.period(START + timedelta(seconds=5), 30, 0, (LogLevel.INFO, QUERY))
    system.query_in(before)
    evidence = await system.only_evidence()
    assert evidence.source is Source.TRACES
    assert evidence.title == (
        "ts-route-service RouteController.queryByIds stopped calling “SELECT route” "
        "(30/30 spans normally → 0/30)"
    )
    assert "no longer gets to this call" in evidence.summary
    assert evidence.query == "traces service=ts-route-service operation=RouteController.queryByIds"
    assert "without the call:" in evidence.excerpt


async def test_spans_that_begin_at_the_incident_are_compared_with_nothing_and_said() -> None:
    """A recording cut around the incident: no span before the start, so no operation has a
    normal to compare with; a warning says so, and no change is found."""
    system = _System()
    system.period(START + timedelta(seconds=5), 35, 0, (LogLevel.INFO, QUERY))
    result = await system.gateway().call(code_path_changes, window=WINDOW, incident_start=START)
    assert result.status is ToolStatus.OK and result.data == [] and result.evidence == []
    assert result.warnings == [
        f"no spans before the incident start at {START:%H:%M:%S}: the spans of 1 service(s) "
        "could not be compared with normal"
    ]
