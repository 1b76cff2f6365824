"""Code-path changes: log lines an operation stopped writing, or started writing, per span.

When a method throws (or returns early) its span still exists, but the lines it normally logs
on the way stop being written, and error lines may start. Nezha (FSE 2023) finds root causes
this way; on its TrainTicket data ``RouteController.queryByIds`` of ts-route-service wrote its
``Query route by id`` INFO line in 29 of 40 spans before an injected exception and in 0 of 35
after it. Error rates and latency cannot show that; a count of log lines per service mostly
cannot either (the line vanishes among thousands of others). Joining each log line to the span
that wrote it (its trace and span id) and asking "in what share of this operation's spans is
this template written?" does, for any system whose logs carry trace ids.

The calls an operation makes inside its own service (method spans, database queries: child
spans of the same service that do not call another service) are events of its code path too,
counted the same way (``event="call"``): an exception before a query means the query span is
gone. Calls to other services are not: what happens under them is their callee's doing, and a
caller that stops calling after a failure is reacting to it. A change is also attributed like
an error, to the deepest span that shows one: ``callee_failed`` is the share of the spans that
show it below which a call failed or another service's span shows a change of its own (a
vanished line, or a new WARN+ one: a new INFO line is no fault, so it explains nothing either).

Per (service, operation) with at least :data:`MIN_SPANS` spans in the normal period and any in
the incident (the tail below says how few are too few), each line is counted at most once per
span, in the normal period and in the incident. A line is its template
(the project's Drain miner, on redacted messages) and, where the logs name it
(``LogRecord.source``: logger, file and line), the statement that wrote it: TrainTicket's
travel2 writes ``[getTickets][Calculate distance][calculate time: …]`` at line 366 and again at
372 in every span, and the exception injected at 10:26 on the Nezha day stops the second, which
the text alone cannot show. Conversely a template that vanished while its statement still
writes about as often (another text: a value in the message, ts-basic-service's result line
naming another train on 2023-01-30) is no stop; a line number under which one span writes two
texts is a logging helper's, not a statement, and is not used so. Nor is a line or call that
stopped while the operation took the other arm of a choice it made in every normal span (an
event never seen beside it, seen in most spans without it and in :data:`MIN_SPANS` normal
spans or more, however rare, not an error line: other input, not other code;
``code_path_events.taken_instead``), and that arm's rise is no news either. Nor is a share
that moved only as the operation's callers did: an operation does what its callers ask, so each
move must also be one at the incident's mix of who called the service
(``code_path_events.share_at_callers_mix``, each caller's normal share weighted by its
incident spans; the less surprising of the two comparisons counts), as for a call to another
service (``tools.analysis.call_shares``). A change is
reported when it is both

* **surprising**: ``-log10`` of the tail of the incident count is at least :data:`MIN_SCORE`
  (p ≤ ``tools.analysis.surprise.SIGNIFICANCE``, 0.001, as for every other modality), capped at
  :data:`MAX_SCORE`. The tail is the beta-binomial's: the normal share is only *estimated* from
  the normal spans (Jeffreys' posterior, so 0 of 40 is not "impossible"), and a share seen in 9
  spans is far less certain than one seen in 400. Taking the estimate as the true share (a plain
  binomial) made 6 of 9 → 1 of 15 look like p ≈ 4e-6 (a user-agent mix in an access log, on
  the demo's seed 6), where the uncertainty of both samples says p ≈ 0.002; and
* **large**: the share moved at least as far as 50 % → 20 % on the arcsine scale, which makes
  a share's sampling spread the same wherever it lies (``code_path_events.moved_largely``:
  18 % → 0 % is as large a move, 100 % → 95 % is not). Significance alone flags
  small shifts on busy operations (2,000 spans going from 50 % to 45 % is p < 0.001 and means
  nothing); size alone flags noise on quiet ones (1 of 5 → 3 of 5). The size may be met since
  the change began (``since``, below) when that run is significant by itself, counted once
  for each place it could start (``code_path_events``): an early incident start dilutes a
  change with the spans from before it.

A WARN+ line that *stops* is not reported: an error path no longer taken is a recovery (or a
reference period that was not quite healthy), not a cause. On the Nezha cases it was the most
common false lead (``Servlet.service() ... threw exception`` of ts-travel2-service, written in
the reference and not in most incidents). Nor is any event that normally showed mostly in
failing spans (an error handler's call, an INFO line of the failure path).

The normal period is the spans before the split, or, given *reference* spans (a healthy
period), those, for every operation the reference holds at least :data:`MIN_SPANS` spans of;
the rest keep the spans before the split (as every analysis here does with a reference). A
service whose spans failed significantly more often in the reference than before the split
(the reference caught another incident there) is compared with the reference's requests in
which it did not fail (``SpanIndex.set_aside_failed_requests``): a code path is per request,
so those still show what its requests normally do, where the minutes before the start may
hold the tail of an earlier fault. Where fewer than :data:`MIN_SPANS` remain, its operations
keep the spans before the split, as ``trace_attribution`` and ``log_patterns`` always do there
(they compare how often requests fail, which the failed requests are part of).

Where in the incident a change began is placed too (``since``: ``tools.analysis.change_point``,
the run of the operation's last spans least like normal): the incident start comes from other
signals, and a line can stop a minute after it (ts-travel2-service at 10:26 on the Nezha day:
11 of 11 spans before, 11 of 26 after the start, 0 of the last 15). The ranking sizes a change
by the share since then; whether there is a change is decided on the whole incident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from tools.analysis.code_path_events import (
    EventSpans,
    add_calls,
    on_failures,
    share_moved,
    since_began,
    still_written,
    taken_instead,
)
from tools.analysis.code_path_spans import (
    BEFORE,
    INCIDENT,
    REFERENCE,
    SpanIndex,
    same_id,
)
from tools.analysis.template_miner import TemplateMiner
from tools.records import LogLevel, LogRecord, Span, names_line

MAX_TRACES = 3

Kind = Literal["vanished", "appeared"]
Event = Literal["line", "call"]


@dataclass(frozen=True, slots=True)
class CodePathChange:
    service: str
    operation: str
    template: str
    source: str | None  # the statement that writes the line, when the logs say (``LogRecord``)
    level: LogLevel  # highest level the template was written at by this operation
    kind: Kind
    normal_spans: int  # spans of (service, operation) in the normal period
    normal_with: int  # ... of which wrote the template
    incident_spans: int
    incident_with: int
    score: float  # -log10 of the beta-binomial tail p-value, capped at MAX_SCORE
    example: str  # one message (redacted): from the incident if appeared, else from normal
    trace_ids: tuple[str, ...]  # incident traces with the line (appeared) / without (vanished)
    against_reference: bool = False  # the normal period is the reference period
    # share of those incident spans below which a call failed (a failing client span, or a
    # failing span of another service): the change may be the span's reaction to a callee
    callee_failed: float = 0.0
    event: Event = "line"  # a log line it writes, or a call it makes (``template``: the callee)
    # the run of incident spans since the change began (``_since``): its first span's start,
    # and how many of its spans wrote the line (made the call)
    since: float = 0.0
    since_spans: int = 0
    since_with: int = 0

    @property
    def share_normal(self) -> float:
        return self.normal_with / self.normal_spans if self.normal_spans else 0.0

    @property
    def share_incident(self) -> float:
        return self.incident_with / self.incident_spans if self.incident_spans else 0.0

    @property
    def other_input(self) -> bool:
        """A new line below WARN, or a new call: mostly new input taking another branch of the
        code, not a fault. The ranking does not score it, nor can it explain a caller's change
        (``bot.investigation.signals``)."""
        return self.kind == "appeared" and self.level < LogLevel.WARN

    @property
    def share_since(self) -> float:
        """The share since the change began (the whole incident's when not placed)."""
        if not self.since_spans:
            return self.share_incident
        return self.since_with / self.since_spans


def _unchanged(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class CodePaths:
    """What one comparison found: the ``changes``, most surprising first, and the services
    whose requests that failed in the reference were set aside (``doubted``: each compared
    with the rest of the reference and with the spans before the split)."""

    changes: list[CodePathChange]
    doubted: frozenset[str]


def compare_code_paths(
    spans: Iterable[Span],
    logs: Iterable[LogRecord],
    split: datetime,
    *,
    reference_spans: Iterable[Span] = (),
    reference_logs: Iterable[LogRecord] = (),
    redact: Callable[[str], str] = _unchanged,
) -> CodePaths:
    """Templates whose share of an operation's spans changed from the normal period (spans
    starting before ``split``, or the reference) to the incident (spans from ``split``), most
    surprising first. Logs are joined to spans by trace and span id; logs without a span id, or
    whose span is not among ``spans`` (``reference_logs``: ``reference_spans``), are ignored.
    Each message goes through ``redact`` before mining (see ``mine_patterns``)."""
    at = split.timestamp()
    index = SpanIndex()
    for span in reference_spans:
        index.add(span, REFERENCE)
    for span in spans:
        index.add(span, INCIDENT if span.start >= at else BEFORE)
    index.set_aside_failed_requests()
    bases = index.baselines()
    miner = TemplateMiner()
    # a line is its template and the statement that wrote it, where the log says: one text
    # written at two places in the code is two events (the first write can happen without the
    # second); ids >= 0, calls' < 0
    lines: dict[tuple[int, str | None], int] = {}
    sources: dict[str, str] = {}  # as written → redacted
    stats: dict[tuple[int, int], EventSpans] = {}
    # per statement (where the source names its line): the spans it wrote in, whatever text;
    # one that writes two texts in one span is a logging helper's line, not one statement
    written: dict[tuple[int, str], EventSpans] = {}
    first_text: dict[tuple[int, str, int], int] = {}
    helpers: set[tuple[int, str]] = set()
    for reference, records in ((True, reference_logs), (False, logs)):
        by_id = index.by_id[reference]
        for record in records:
            if not record.span_id or not record.trace_id:
                continue
            found = by_id.get((same_id(record.trace_id), same_id(record.span_id)))
            if found is None:
                continue
            group, period = index.group[found], index.period[found]
            if not index.compared(found, bases[group]):
                continue  # not compared: too few spans, or a baseline the group does not use
            message = redact(record.message)
            source = record.source and sources.setdefault(record.source, redact(record.source))
            line = lines.setdefault((miner.add(message), source), len(lines))
            entry = stats.setdefault((group, line), EventSpans())
            entry.spans[period].add(found)
            entry.level = max(entry.level, record.level)
            entry.examples.setdefault(period, message)
            if source is not None and names_line(record.source):
                written.setdefault((group, source), EventSpans()).spans[period].add(found)
                if first_text.setdefault((group, source, found), line) != line:
                    helpers.add((group, source))
    calls = add_calls(index, bases, stats)
    by_group: dict[int, list[EventSpans]] = {}
    for (group, _), entry in stats.items():
        by_group.setdefault(group, []).append(entry)
    statements = {line: statement for statement, line in lines.items()}
    names = {group: name for name, group in index.groups.items()}
    detected: list[tuple[CodePathChange, list[int], EventSpans]] = []
    branches: set[EventSpans] = set()  # events taken instead of one that stopped (taken_instead)
    for (group, event), entry in stats.items():
        if event < 0:
            what, source = calls[event], None
        else:
            cluster, source = statements[event]
            what = miner.template(cluster)
        # against each normal the group has (two where the reference is in doubt, each then
        # at half the p-value), the most surprising change that is one
        compared: list[CodePathChange] = []
        for base in bases[group]:
            change = _change(
                index, group, base, entry, names[group], what, source, len(bases[group])
            )
            if change is not None and change.kind == "vanished" and source is not None:
                still = written.get((group, source))
                one_statement = (group, source) not in helpers
                if still is not None and one_statement and still_written(index, group, base, still):
                    change = None  # the code still gets there: what it wrote changed with data
            if change is not None and change.kind == "vanished":
                instead = taken_instead(index, group, base, entry, by_group[group])
                if instead is not None:
                    change = None  # the other branch of a choice it always made: other input
                    branches.add(instead)  # whose rise is no news either
            if change is not None:
                compared.append(change)
        if compared:
            change = max(compared, key=lambda c: c.score)
            showing = _showing(index, group, entry.spans[INCIDENT], change.kind == "appeared")
            change = _since(index, group, entry.spans[INCIDENT], change)
            detected.append((change, showing, entry))
            if not change.other_input:
                index.changed.update(showing)
    # now that every change is known, whether one below explains each (its callee's change)
    changes = [
        replace(change, callee_failed=_share(index, showing))
        for change, showing, entry in detected
        if not (entry in branches and change.other_input)
    ]
    changes.sort(
        key=lambda c: (
            -c.score,
            -abs(c.share_incident - c.share_normal),
            c.service,
            c.operation,
            c.kind,
            c.template,
        )
    )
    return CodePaths(changes, frozenset(index.doubted))


def _change(
    index: SpanIndex,
    group: int,
    base: int,
    entry: EventSpans,
    name: tuple[str, str],
    template: str,
    source: str | None,
    tests: int,
) -> CodePathChange | None:
    found = share_moved(index, group, base, entry, tests)
    if found is None:
        return None
    moved, score = found
    normal_spans, incident_spans = index.counts[group][base], index.counts[group][INCIDENT]
    normal_with, incident_with = len(entry.spans[base]), len(entry.spans[INCIDENT])
    appeared = moved > 0
    if not appeared and entry.level >= LogLevel.WARN:
        return None  # a warning or error that stops is a recovery, not a cause
    if not appeared and on_failures(index, entry.spans[base]):
        return None  # so is any event of the failure path (an error handler's call)
    return CodePathChange(
        service=name[0],
        operation=name[1],
        template=template,
        source=source,
        level=entry.level,
        kind="appeared" if appeared else "vanished",
        normal_spans=normal_spans,
        normal_with=normal_with,
        incident_spans=incident_spans,
        incident_with=incident_with,
        score=score,
        example=entry.examples.get(INCIDENT if appeared else base, ""),
        trace_ids=_examples(index, group, entry.spans[INCIDENT], wrote=appeared),
        against_reference=base == REFERENCE,
        event="call" if entry.call else "line",
    )


def _since(index: SpanIndex, group: int, wrote: set[int], change: CodePathChange) -> CodePathChange:
    """``change`` with where in the incident it began (``change_point``): the run of the
    group's last incident spans least like normal, at least :data:`MIN_SPANS` long; ``wrote``:
    the incident spans that showed the event."""
    appeared = change.kind == "appeared"
    run = since_began(index, group, wrote, appeared, change.normal_with, change.normal_spans)
    return replace(
        change,
        since=index.spans[run[0]].start,
        since_spans=len(run),
        since_with=sum(i in wrote for i in run),
    )


def _showing(index: SpanIndex, group: int, wrote_it: set[int], wrote: bool) -> list[int]:
    """The incident spans of ``group`` that show a change: wrote the line, or did not."""
    return [i for i in index.incident[group] if (i in wrote_it) == wrote]


def _share(index: SpanIndex, showing: list[int]) -> float:
    """The share of ``showing`` below which something explains the change (``callee_failed``)."""
    if not showing:
        return 0.0
    return sum(index.callee_failed(i) for i in showing) / len(showing)


def _examples(index: SpanIndex, group: int, wrote_it: set[int], *, wrote: bool) -> tuple[str, ...]:
    """The first incident traces (by span start) whose span of ``group`` wrote the line, or
    did not."""
    candidates = sorted(
        (index.spans[i].start, index.spans[i].trace_id)
        for i in _showing(index, group, wrote_it, wrote)
    )
    found: list[str] = []
    for _, trace_id in candidates:
        if trace_id not in found:
            found.append(trace_id)
            if len(found) == MAX_TRACES:
                break
    return tuple(found)
