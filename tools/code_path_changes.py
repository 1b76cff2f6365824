"""Tool: log lines an operation stopped (or started) writing, from logs joined to their spans.

An exception or an early return leaves the span in place and the error rate sometimes flat,
but the lines the operation writes on its way stop (``tools.analysis.code_paths`` says why that
points at the root cause, and how it is scored). This tool samples traces before and after the
incident start (and in the ``reference`` period) as ``trace_attribution`` does, reads the log
lines, at every level, of the time the sampled spans cover, and joins them by trace and span id.

Three choices differ from the other tools, for the join's sake:

* no error-only trace sample: it would overstate how many of an operation's spans failed, and
  the share of spans that write a line is exactly what is compared;
* each period's logs are read over the time its *sampled spans* cover, not the whole period:
  backends return the newest traces and the oldest log lines, and over a busy half hour the two
  would not meet;
* when a log page is cut at its limit, only spans that ended before the last line read are
  compared (a span whose lines lie past the cut would seem to have stopped writing them), and
  the result says so.

Its source is ``traces``; logs are the second source it needs. Without a logs backend it
still compares the calls each operation makes inside its service (its child spans: a method, a
query), which the traces hold themselves, and warns that lines were not compared: nothing
failed. Nezha's OnlineBoutique days as published keep few log files, and there adservice's
``getAds`` stopped calling ``getRandomAds`` (54 of 298 spans in the reference, 0 of 296) when
a ``return`` fault was injected in that branch at 2022-08-23 16:13.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field

from tools.analysis.code_paths import CodePathChange, compare_code_paths
from tools.analysis.surprise import p_value_text
from tools.backends import (
    LogPage,
    LogQuery,
    LogsBackend,
    TraceQuery,
    TracesBackend,
    no_traces,
    unique_traces,
)
from tools.concurrency import gather_all
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import hhmm
from tools.log_patterns import constant_phrase
from tools.records import LogLevel, LogRecord, Span
from tools.reference import doubted_warning, fallback_warning, no_baseline_warning
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "code_path_changes"
MAX_EVIDENCE = 10
LOG_SLACK = timedelta(seconds=1)  # log clocks and span clocks of one process may differ a little
_PERIODS = ("baseline", "incident", "reference")


@tool(source="traces")
async def code_path_changes(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="whole window to sample traces from")],
    incident_start: Annotated[
        datetime, Field(description="spans starting before this are the baseline")
    ],
    reference: Annotated[
        TimeWindow | None,
        Field(description="a healthy period whose spans and logs are the baseline instead"),
    ] = None,
) -> ToolResult[list[CodePathChange]]:
    """Join log lines to the spans that wrote them (trace and span id) and compare, per
    operation, the share of its spans writing each log template before and after the incident
    start (or in the ``reference`` period): lines an operation stopped writing (an exception
    or early return cut its code path short) and lines it started writing (a new error path)."""
    traces = configured(deps.traces)
    logs = deps.logs
    before, after = window.split(incident_start)
    periods = await _sample(traces, (before, after), reference, incident_start, deps)
    limit = deps.limits.log_sample
    warnings = _sample_warnings(periods)
    if logs is None:
        # the calls an operation makes inside its service are in the spans themselves
        why = deps.why_unavailable("logs")
        warnings.append(
            f"no log lines to join to the spans ({why}): only the calls each operation makes "
            "inside its service were compared, not the lines it writes"
        )
    pages = await gather_all(*(_read(logs, spans, limit) for spans in periods))
    kept = []
    for label, spans, page in zip(_PERIODS, periods, pages, strict=True):
        spans, cut = _within(spans, page)
        kept.append(spans)
        if cut is not None:
            warnings.append(_truncated(label, page, limit, cut))
    records = pages[0].records + pages[1].records
    warnings += _unjoinable(records + pages[2].records)
    compared = compare_code_paths(
        kept[0] + kept[1],
        records,
        incident_start,
        reference_spans=kept[2],
        reference_logs=pages[2].records,
        redact=deps.text.redact,
    )
    changes = compared.changes
    services = {s.service for s in periods[1]}
    missing = services - {s.service for s in periods[2]}
    if reference is not None and periods[1]:
        warnings += fallback_warning("spans", reference, missing, len(services))
        warnings += doubted_warning(reference, compared.doubted)
    if periods[1] and not periods[0]:
        warnings += no_baseline_warning("spans", incident_start, len(missing))
    evidence = [
        _evidence(change, others, logs, traces, window, after or window)
        for change, others in _leading(changes)[:MAX_EVIDENCE]
    ]
    return ToolResult(
        NAME,
        "traces",
        traces.name,
        ToolStatus.OK,
        data=changes,
        evidence=evidence,
        warnings=warnings,
    )


async def _sample(
    traces: TracesBackend,
    around: tuple[TimeWindow | None, TimeWindow | None],
    reference: TimeWindow | None,
    incident_start: datetime,
    deps: Deps,
) -> tuple[list[Span], list[Span], list[Span]]:
    """The sampled spans before the incident start, from it, and in the reference."""
    half = max(1, deps.limits.trace_sample // 2)
    main_pages, reference_page = await gather_all(
        gather_all(*(traces.find_traces(TraceQuery(window=w, limit=half)) for w in around if w)),
        traces.find_traces(TraceQuery(window=reference, limit=half)) if reference else no_traces(),
    )
    main = _spans_of(unique_traces(trace for page in main_pages for trace in page))
    split = incident_start.astimezone(UTC).timestamp()
    return (
        [s for s in main if s.start < split],
        [s for s in main if s.start >= split],
        _spans_of(unique_traces(reference_page)),
    )


def _sample_warnings(periods: tuple[list[Span], list[Span], list[Span]]) -> list[str]:
    if not periods[0] and not periods[1]:
        return ["no traces in the window"]
    return [] if periods[1] else ["no traces since the incident start"]


def _spans_of(traces: dict[str, list[Span]]) -> list[Span]:
    return [span for spans in traces.values() for span in spans]


async def _read(logs: LogsBackend | None, spans: list[Span], limit: int) -> LogPage:
    """Every log line, at any level, of the time ``spans`` cover (a little more each side);
    none without a logs backend."""
    if logs is None or not spans:
        return LogPage(records=[], total=0)
    start = datetime.fromtimestamp(min(s.start for s in spans), UTC) - LOG_SLACK
    end = datetime.fromtimestamp(max(s.end for s in spans), UTC) + LOG_SLACK
    return await logs.search(LogQuery(window=TimeWindow(start=start, end=end), limit=limit))


def _within(spans: list[Span], page: LogPage) -> tuple[list[Span], datetime | None]:
    """``spans`` whose lines were all read, and where a cut page stops (``None``: not cut)."""
    if not page.truncated or not page.records:
        return spans, None
    cut = max(r.ts for r in page.records)
    last = cut.timestamp()
    return [s for s in spans if s.end <= last], cut


def _truncated(label: str, page: LogPage, limit: int, cut: datetime) -> str:
    return (
        f"{page.total} log lines in the {label} sample, more than the {limit} read: only "
        f"spans that ended by {hhmm(cut)}, the last line read, were compared"
    )


def _unjoinable(records: list[LogRecord]) -> list[str]:
    """A warning when log lines were read but none can be joined to a span."""
    if not records or any(r.span_id and r.trace_id for r in records):
        return []
    return [f"none of the {len(records)} log lines read carries a trace and span id to join"]


def _leading(changes: list[CodePathChange]) -> list[tuple[CodePathChange, int]]:
    """The most surprising change of each operation and direction, with how many other lines
    of it moved the same way: one exception stops several lines at once, and evidence should
    name several operations rather than one operation several times."""
    first: dict[tuple[str, str, str], int] = {}
    out: list[tuple[CodePathChange, int]] = []
    for change in changes:
        key = (change.service, change.operation, change.kind)
        if key in first:
            lead, others = out[first[key]]
            out[first[key]] = (lead, others + 1)
        else:
            first[key] = len(out)
            out.append((change, 0))
    return out


def _evidence(
    change: CodePathChange,
    others: int,
    logs: LogsBackend | None,
    traces: TracesBackend,
    window: TimeWindow,
    incident: TimeWindow,
) -> EvidenceDraft:
    appeared = change.kind == "appeared"
    shown = window if not appeared else incident  # a vanished line: show it stop
    trace_info = traces.describe(
        TraceQuery(window=incident, service=change.service, operation=change.operation)
    )
    query, link = trace_info.text, trace_info.link
    if change.event == "line" and logs is not None:  # a call is seen in the traces alone
        phrase = constant_phrase(change.template)
        log_info = logs.describe(
            LogQuery(window=shown, services=(change.service,), text=phrase or None)
        )
        query, link = f"{log_info.text}\n{trace_info.text}", log_info.link or trace_info.link
    digest = hashlib.sha1(
        f"{change.event}:{change.kind}:{change.template}:{change.source}".encode(),
        usedforsecurity=False,
    ).hexdigest()[:8]
    return EvidenceDraft(
        key=f"codepath:{change.service}:{change.operation}:{digest}",
        source=Source.TRACES if change.event == "call" else Source.LOGS,
        title=_title(change),
        summary=_summary(change, others),
        query=query,
        link=link,
        window=shown,
        service=change.service,
        score=change.score,
        excerpt=_excerpt(change, traces),
    )


def _title(change: CodePathChange) -> str:
    normally = "in the reference" if change.against_reference else "normally"
    counts = (
        f"({change.normal_with}/{change.normal_spans} spans {normally} → "
        f"{change.incident_with}/{change.incident_spans})"
    )
    line = f"“{clip(change.template, 80)}”{_at(change, 60)}"
    if change.event == "call":
        what = f"{'started' if change.kind == 'appeared' else 'stopped'} calling {line}"
    elif change.kind == "appeared":
        what = f"started writing {change.level.label.upper()} {line}"
    else:
        what = f"stopped writing {line}"
    return f"{change.service} {change.operation} {what} {counts}"


def _summary(change: CodePathChange, others: int) -> str:
    normally = (
        "in the reference period" if change.against_reference else "before the incident start"
    )
    chance = p_value_text(change.score)
    name, op = change.service, change.operation
    if change.event == "call":
        return _call_summary(change, normally, chance)
    line = f"{change.level.label.upper()} “{clip(change.template, 160)}”{_at(change, 120)}"
    verb = "stopped" if change.kind == "vanished" else "started"
    since = _since_text(change)
    also = f" {others} other line{'s' if others > 1 else ''} of it {verb} too." if others else ""
    if change.kind == "vanished":
        return (
            f"{change.normal_with} of {change.normal_spans} sampled {op} spans of {name} "
            f"wrote {line} {normally}; {change.incident_with} of {change.incident_spans} since "
            f"the incident start did ({chance}){since}. The operation still runs but no "
            f"longer reaches the code that writes this line: most likely an exception or an "
            f"early return in {name}.{also}"
        )
    path = "an error path" if change.level >= LogLevel.WARN else "a code path"
    return (
        f"{change.incident_with} of {change.incident_spans} sampled {op} spans of {name} since "
        f"the incident start wrote {line}, against {change.normal_with} of "
        f"{change.normal_spans} {normally} ({chance}){since}: the operation now takes "
        f"{path} it did not take before, in {name}.{also}"
    )


def _since_text(change: CodePathChange) -> str:
    """When the change began, where that is later than the incident start: its size is the
    share since then (``tools.analysis.change_point``)."""
    if not change.since_spans or change.since_spans >= change.incident_spans:
        return ""
    return f", {change.since_with} of the {change.since_spans} from {hhmm(change.since)} UTC on"


def _at(change: CodePathChange, width: int) -> str:
    """Where the line is written, when the logs say: one text can come from several places."""
    return f" ({clip(change.source, width)})" if change.source else ""


def _call_summary(change: CodePathChange, normally: str, chance: str) -> str:
    name, op, call = change.service, change.operation, f"“{clip(change.template, 160)}”"
    counts = (
        f"{change.normal_with} of {change.normal_spans} sampled {op} spans of {name} called "
        f"{call} {normally}; {change.incident_with} of {change.incident_spans} since the "
        f"incident start did ({chance})."
    )
    if change.kind == "vanished":
        return (
            f"{counts} The operation still runs but no longer gets to this call: most likely "
            f"an exception or an early return in {name} before it."
        )
    return f"{counts} The operation now takes a path it did not take before, in {name}."


def _excerpt(change: CodePathChange, traces: TracesBackend) -> str:
    """The example line, then the example traces' ids (a link to the first: links are long)."""
    if not change.trace_ids:
        return clip(change.example, 300)
    which = "with" if change.kind == "appeared" else "without"
    thing = "the call" if change.event == "call" else "the line"
    first, *rest = change.trace_ids
    link = traces.trace_link(first)
    shown = ", ".join([f"{first} ({link})" if link else first, *rest])
    return f"{clip(change.example, 300)}\nincident traces {which} {thing}: {shown}"
