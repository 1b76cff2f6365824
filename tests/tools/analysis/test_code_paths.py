"""Code-path changes: a line an operation stops writing, or starts writing, per span."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tools.analysis.code_path_events import MIN_SCORE, MIN_SHARE_CHANGE
from tools.analysis.code_path_spans import MIN_SPANS
from tools.analysis.code_paths import CodePathChange, compare_code_paths
from tools.analysis.surprise import MAX_SCORE, change_score, p_value_text
from tools.records import LogLevel, LogRecord, Span

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SPLIT = T0 + timedelta(minutes=10)
QUERY = "Query route by id {n}"
FAILED = "price lookup failed for order {n}"


class _Sample:
    """Spans of operations and the log lines each wrote, built a span at a time."""

    def __init__(self, first_trace: int = 1) -> None:
        self.first_trace = first_trace
        self.spans: list[Span] = []
        self.logs: list[LogRecord] = []

    def add(
        self,
        at: datetime,
        lines: Sequence[tuple[LogLevel, str]] = (),
        *,
        service: str = "route",
        operation: str = "queryByIds",
    ) -> Span:
        n = len(self.spans)
        span = Span(
            f"{self.first_trace + n:032x}",
            f"{n + 1:016x}",
            None,
            service,
            operation,
            at.timestamp(),
            20.0,
        )
        self.spans.append(span)
        for level, text in lines:
            self.logs.append(
                LogRecord(at, service, level, text.format(n=n), span.trace_id, span.span_id)
            )
        return span

    def period(
        self,
        start: datetime,
        count: int,
        writing: int,
        line: tuple[LogLevel, str],
        **where: str,
    ) -> list[Span]:
        """``count`` spans a second apart from ``start``, the first ``writing`` writing ``line``
        (every span also writes a line that never changes)."""
        steady = (LogLevel.INFO, "handled request {n}")
        return [
            self.add(
                start + timedelta(seconds=i), [steady, line] if i < writing else [steady], **where
            )
            for i in range(count)
        ]


def _changes(
    sample: _Sample,
    reference: _Sample | None = None,
    redact: Callable[[str], str] = str.strip,
) -> list[CodePathChange]:
    return compare_code_paths(
        sample.spans,
        sample.logs,
        SPLIT,
        reference_spans=reference.spans if reference else (),
        reference_logs=reference.logs if reference else (),
        redact=redact,
    ).changes


def _exact_tail(k: int, n: int, normal_with: int, normal_spans: int, *, upper: bool) -> float:
    """The beta-binomial tail written out: the share drawn from Beta(with + ½, without + ½),
    then i of n; P(i) = C(n, i) B(i + a, n - i + b) / B(a, b)."""
    a, b = normal_with + 0.5, normal_spans - normal_with + 0.5

    def log_beta(x: float, y: float) -> float:
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    terms = range(k, n + 1) if upper else range(k + 1)
    return math.fsum(
        math.comb(n, i) * math.exp(log_beta(i + a, n - i + b) - log_beta(a, b)) for i in terms
    )


def test_a_line_the_operation_stopped_writing_is_reported_and_scored() -> None:
    sample = _Sample()
    sample.period(T0, 40, 29, (LogLevel.INFO, QUERY))
    incident = sample.period(SPLIT, 35, 0, (LogLevel.INFO, QUERY))
    (change,) = _changes(sample)
    assert change.kind == "vanished"
    assert change.service == "route" and change.operation == "queryByIds"
    assert change.template == "Query route by id <NUM>"
    assert change.level is LogLevel.INFO
    assert (change.normal_with, change.normal_spans) == (29, 40)
    assert (change.incident_with, change.incident_spans) == (0, 35)
    assert change.share_normal == 29 / 40 and change.share_incident == 0
    assert change.score == pytest.approx(-math.log10(_exact_tail(0, 35, 29, 40, upper=False)))
    assert change.score >= MIN_SCORE
    assert change.example == "Query route by id 0"  # it is written only before
    assert change.trace_ids == tuple(s.trace_id for s in incident[:3])  # traces without it
    assert not change.against_reference


def test_an_error_line_the_operation_started_writing_is_reported() -> None:
    sample = _Sample()
    sample.period(T0, 14, 0, (LogLevel.ERROR, FAILED))
    incident = sample.period(SPLIT, 12, 8, (LogLevel.ERROR, FAILED))
    (change,) = _changes(sample)
    assert change.kind == "appeared" and change.level is LogLevel.ERROR
    assert change.template == "price lookup failed for order <NUM>"
    assert (change.normal_with, change.normal_spans) == (0, 14)
    assert (change.incident_with, change.incident_spans) == (8, 12)
    assert change.score == pytest.approx(-math.log10(_exact_tail(8, 12, 0, 14, upper=True)))
    assert change.example == FAILED.format(n=14)  # the first incident span's line
    assert change.trace_ids == tuple(s.trace_id for s in incident[:3])  # traces with it


def test_a_line_written_in_a_small_share_before_and_after_is_not_reported() -> None:
    sample = _Sample()
    sample.period(T0, 40, 2, (LogLevel.WARN, "cache miss for key {n}"))
    sample.period(SPLIT, 35, 3, (LogLevel.WARN, "cache miss for key {n}"))
    assert _changes(sample) == []


def _spread(sample: _Sample, start: datetime, count: int, writing: int) -> list[Span]:
    """``count`` spans a second apart, ``writing`` of them spread evenly writing QUERY."""
    line = (LogLevel.INFO, QUERY)
    return [
        sample.add(
            start + timedelta(seconds=i),
            [line] if i * writing // count != (i + 1) * writing // count else [],
        )
        for i in range(count)
    ]


def test_a_significant_but_small_shift_on_a_busy_operation_is_not_reported() -> None:
    sample = _Sample()
    _spread(sample, SPLIT - timedelta(hours=1), 2000, 1000)
    _spread(sample, SPLIT, 2000, 840)
    assert change_score(1000, 2000, 840, 2000) >= MIN_SCORE  # significant ...
    assert abs(840 / 2000 - 1000 / 2000) < MIN_SHARE_CHANGE  # ... but small
    assert _changes(sample) == []


def test_a_line_that_stopped_after_the_start_is_sized_since_it_stopped() -> None:
    """The incident start was half a minute early (Nezha 2023-01-29 11:19 without reference:
    ts-price-service's ``Query price`` line in 35 of 63 spans before, 15 of the 22 spans of the
    half minute after the start, then 4 of 49): over the whole incident the share moved less
    than MIN_SHARE_CHANGE, since the line stopped much more, and that run alone is surprising
    even counted once for each place it could have started."""
    sample = _Sample()
    _spread(sample, T0, 63, 35)
    _spread(sample, SPLIT, 22, 15)
    stopped = _spread(sample, SPLIT + timedelta(seconds=22), 49, 4)
    assert abs(19 / 71 - 35 / 63) < MIN_SHARE_CHANGE <= abs(4 / 49 - 35 / 63)
    assert change_score(35, 63, 4, 49) >= MIN_SCORE + math.log10(71)
    (change,) = _changes(sample)
    assert change.kind == "vanished"
    assert (change.incident_with, change.incident_spans) == (19, 71)
    assert change.since >= stopped[0].start and change.share_since < 0.1
    # a busy operation whose share barely moved, but whose last 12 spans happen to lack the
    # line: that run is significant by itself (p < 0.001), not once counted for each of the
    # 312 places a run could start; the move is small over the whole incident: nothing
    busy = _Sample()
    _spread(busy, SPLIT - timedelta(seconds=1800), 1800, 1000)
    _spread(busy, SPLIT, 300, 138)
    _spread(busy, SPLIT + timedelta(seconds=300), 12, 0)
    assert change_score(1000, 1800, 138, 312) >= MIN_SCORE
    assert abs(138 / 312 - 1000 / 1800) < MIN_SHARE_CHANGE
    assert MIN_SCORE <= change_score(1000, 1800, 0, 12) < MIN_SCORE + math.log10(312)
    assert _changes(busy) == []


def test_an_error_line_that_stops_is_a_recovery_not_a_finding() -> None:
    sample = _Sample()
    sample.period(T0, 20, 20, (LogLevel.ERROR, FAILED))
    sample.period(SPLIT, 20, 0, (LogLevel.ERROR, FAILED))
    assert _changes(sample) == []


def test_reference_spans_are_the_normal_period_when_given() -> None:
    sample = _Sample()
    sample.period(T0, 20, 0, (LogLevel.INFO, QUERY))  # already broken before the start
    sample.period(SPLIT, 20, 0, (LogLevel.INFO, QUERY))
    assert _changes(sample) == []
    healthy = _Sample(first_trace=10**6)
    healthy.period(T0 - timedelta(days=1), 30, 30, (LogLevel.INFO, QUERY))
    (change,) = _changes(sample, healthy)
    assert change.kind == "vanished" and change.against_reference
    assert (change.normal_with, change.normal_spans) == (30, 30)
    assert (change.incident_with, change.incident_spans) == (0, 20)


def test_an_operation_the_reference_lacks_keeps_the_spans_before_the_start() -> None:
    sample = _Sample()
    sample.period(T0, 20, 20, (LogLevel.INFO, QUERY), service="new", operation="get")
    sample.period(SPLIT, 20, 0, (LogLevel.INFO, QUERY), service="new", operation="get")
    healthy = _Sample(first_trace=10**6)
    healthy.period(T0 - timedelta(days=1), 30, 30, (LogLevel.INFO, QUERY))
    (change,) = _changes(sample, healthy)
    assert change.service == "new" and not change.against_reference
    assert (change.normal_with, change.normal_spans) == (20, 20)


def test_an_operation_with_too_few_normal_spans_is_not_compared() -> None:
    sample = _Sample()
    sample.period(T0, MIN_SPANS - 1, MIN_SPANS - 1, (LogLevel.INFO, QUERY))
    sample.period(SPLIT, 40, 0, (LogLevel.INFO, QUERY))
    assert _changes(sample) == []


@pytest.mark.parametrize(("incident", "changed"), [(1, False), (MIN_SPANS - 1, True)])
def test_a_few_incident_spans_are_a_change_when_the_tail_says_so(
    incident: int, changed: bool
) -> None:
    """The incident needs no minimum count: 0 of 1 where 40 of 40 wrote the line is p ~ 0.01,
    0 of 4 is p ~ 1e-6. A fault whose traces end soon after it shows in the few there are
    (checkoutservice's exception at 2022-08-23 13:02 on OnlineBoutique, traced for 18 s)."""
    sample = _Sample()
    sample.period(T0, 40, 40, (LogLevel.INFO, QUERY))
    sample.period(SPLIT, incident, 0, (LogLevel.INFO, QUERY))
    changes = _changes(sample)
    assert [(c.kind, c.normal_with, c.incident_spans) for c in changes] == (
        [("vanished", 40, incident)] if changed else []
    )


def test_logs_without_a_span_id_or_whose_span_was_not_sampled_are_ignored() -> None:
    sample = _Sample()
    sample.period(T0, 14, 0, (LogLevel.ERROR, FAILED))
    incident = sample.period(SPLIT, 12, 0, (LogLevel.ERROR, FAILED))
    at = SPLIT + timedelta(seconds=1)
    for span in incident:
        sample.logs += [
            LogRecord(at, "route", LogLevel.ERROR, "failed", span.trace_id, None),
            LogRecord(at, "route", LogLevel.ERROR, "failed", None, None),
            LogRecord(at, "route", LogLevel.ERROR, "failed", span.trace_id, "ffffffff"),
        ]
    assert _changes(sample) == []


def test_a_line_written_several_times_in_one_span_counts_once() -> None:
    sample = _Sample()
    sample.period(T0, 14, 0, (LogLevel.ERROR, FAILED))
    incident = sample.period(SPLIT, 12, 8, (LogLevel.ERROR, FAILED))
    sample.logs += [r for r in sample.logs if r.level is LogLevel.ERROR] * 2
    (change,) = _changes(sample)
    assert (change.incident_with, change.incident_spans) == (8, len(incident))


def test_ids_join_whatever_their_case_and_zero_padding() -> None:
    sample = _Sample()
    sample.period(T0, 14, 0, (LogLevel.ERROR, FAILED))
    incident = sample.period(SPLIT, 12, 0, (LogLevel.ERROR, FAILED))
    for span in incident[:8]:
        trace_id, span_id = span.trace_id.lstrip("0").upper(), span.span_id.lstrip("0")
        sample.logs.append(LogRecord(SPLIT, "route", LogLevel.ERROR, "boom", trace_id, span_id))
    (change,) = _changes(sample)
    assert change.template == "boom" and change.incident_with == 8


def test_messages_are_redacted_before_mining() -> None:
    sample = _Sample()
    sample.period(T0, 14, 0, (LogLevel.ERROR, "auth failed token=s3cr3t"))
    sample.period(SPLIT, 12, 8, (LogLevel.ERROR, "auth failed token=s3cr3t"))
    (change,) = _changes(sample, redact=lambda text: text.replace("s3cr3t", "[REDACTED]"))
    assert "s3cr3t" not in change.template and "s3cr3t" not in change.example
    assert change.example == "auth failed token=[REDACTED]"


def test_most_surprising_first_and_the_order_is_deterministic() -> None:
    sample = _Sample()
    for operation, writing in (("a", 12), ("b", 8), ("c", 12)):
        sample.period(T0, 14, 0, (LogLevel.ERROR, FAILED), operation=operation)
        sample.period(SPLIT, 12, writing, (LogLevel.ERROR, FAILED), operation=operation)
    changes = _changes(sample)
    assert [c.operation for c in changes] == ["a", "c", "b"]  # a and c tie: by name
    assert changes[0].score == changes[1].score > changes[2].score
    assert _changes(sample) == changes


def test_the_score_is_an_exact_beta_binomial_tail_capped() -> None:
    for normal_with, normal_spans, incident_with, incident_spans in [
        (29, 40, 0, 35),
        (0, 14, 8, 12),
        (3, 10, 9, 10),
        (10, 10, 2, 10),
    ]:
        upper = incident_with / incident_spans > normal_with / normal_spans
        tail = _exact_tail(incident_with, incident_spans, normal_with, normal_spans, upper=upper)
        expected = min(MAX_SCORE, -math.log10(tail))
        score = change_score(normal_with, normal_spans, incident_with, incident_spans)
        assert score == pytest.approx(expected)
    assert change_score(40, 40, 0, 400) == MAX_SCORE
    assert change_score(5, 10, 5, 10) == 0.0


def test_a_change_below_which_a_call_failed_says_so() -> None:
    """Spans that started writing an error line because the call they made failed: the change
    is their reaction to a callee, which ``callee_failed`` measures."""
    sample = _Sample()
    sample.period(T0, 14, 0, (LogLevel.ERROR, FAILED))
    incident = sample.period(SPLIT, 12, 8, (LogLevel.ERROR, FAILED))
    failed_calls = [
        Span(
            span.trace_id,
            f"{i + 1:08x}ca11",
            span.span_id,
            "route",
            "call price",
            span.start,
            5.0,
            error=True,
            kind="client",
        )
        for i, span in enumerate(incident[:6])
    ]
    found = compare_code_paths([*sample.spans, *failed_calls], sample.logs, SPLIT).changes
    (change,) = [c for c in found if c.event == "line"]
    assert change.kind == "appeared"
    assert change.callee_failed == pytest.approx(6 / 8)
    (own,) = _changes(sample)
    assert own.callee_failed == 0.0


def _timed_call(span: Span, n: int, ms: float) -> Span:
    """A call ``span`` made to price that took ``ms``."""
    return Span(
        span.trace_id,
        f"{n + 1:08x}ca11",
        span.span_id,
        "route",
        "call price",
        span.start,
        ms,
        kind="client",
    )


@pytest.mark.parametrize(
    ("span_ms", "slowest_before_ms", "explained"),
    [
        (1000.0, 8.0, 6 / 8),  # waited 900 of 1000 ms on a call slower than ever: a timeout
        (4000.0, 8.0, 0.0),  # the call was a quarter of the span: the span's own doing
        (1000.0, 950.0, 0.0),  # calls took that long before: nothing new below
    ],
)
def test_a_change_in_a_span_that_waited_on_a_call_slower_than_ever_is_the_calls_doing(
    span_ms: float, slowest_before_ms: float, explained: float
) -> None:
    """Spans that started writing an error line after waiting on a call slower than any
    before the start, for most of their time: a timeout, the slow link's or callee's doing."""
    sample = _Sample()
    before = sample.period(T0, 14, 0, (LogLevel.ERROR, FAILED))
    incident = sample.period(SPLIT, 12, 8, (LogLevel.ERROR, FAILED))
    sample.spans = [*before, *(replace(s, duration_ms=span_ms) for s in incident)]
    calls = [
        _timed_call(span, i, slowest_before_ms if i == 0 else 5.0) for i, span in enumerate(before)
    ]
    calls += [
        _timed_call(span, 100 + i, 900.0 if i < 6 else 5.0) for i, span in enumerate(incident)
    ]
    found = compare_code_paths([*sample.spans, *calls], sample.logs, SPLIT).changes
    (change,) = [c for c in found if c.event == "line"]
    assert change.kind == "appeared"
    assert change.callee_failed == pytest.approx(explained)


def test_only_a_change_that_is_a_fault_below_explains_a_callers_change() -> None:
    """travel stopped writing a line, and the basic spans under those very spans started
    writing one. A new INFO line is other input taking another branch (the ranking does not
    count it as a fault), so it does not explain travel's change; a new ERROR line does."""
    for level, explained in ((LogLevel.INFO, 0.0), (LogLevel.ERROR, 1.0)):
        sample = _Sample()
        where = {"service": "travel", "operation": "queryInfo"}
        callers = [
            *sample.period(T0, 20, 20, (LogLevel.INFO, QUERY), **where),
            *sample.period(SPLIT, 20, 0, (LogLevel.INFO, QUERY), **where),
        ]
        callees = [_child(s, "basic", "queryForTravel", n) for n, s in enumerate(callers)]
        logs = [
            LogRecord(at, "basic", lvl, text, span.trace_id, span.span_id)
            for span in callees
            for at in [datetime.fromtimestamp(span.start, UTC)]
            for lvl, text in [(LogLevel.INFO, "query stations")]
            + ([(level, "route has no stations")] if at >= SPLIT else [])
        ]
        found = compare_code_paths([*callers, *callees], [*sample.logs, *logs], SPLIT).changes
        by_service = {c.service: c for c in found}
        assert by_service["basic"].kind == "appeared" and by_service["basic"].level == level
        assert by_service["travel"].kind == "vanished"
        assert by_service["travel"].callee_failed == explained


def test_one_text_written_at_two_places_in_the_code_is_two_lines() -> None:
    """Every span wrote "calculate time" at line 366 and, before the start, again at line
    372 (TrainTicket's travel2 on the Nezha day, whose injected exception stopped the second):
    the text alone is still written in every span, the statement at 372 is not."""
    sample = _Sample()
    line = (LogLevel.INFO, "calculate time {n}")
    sample.period(T0, 20, 20, line)
    sample.period(SPLIT, 20, 20, line)
    first = [replace(r, source="t.s.TravelServiceImpl#366") for r in sample.logs]
    again = [
        replace(r, source="t.s.TravelServiceImpl#372")
        for r in sample.logs
        if r.ts < SPLIT and r.message.startswith("calculate")
    ]
    sample.logs = first + again
    (change,) = _changes(sample)
    assert change.kind == "vanished" and change.source == "t.s.TravelServiceImpl#372"
    assert (change.normal_with, change.incident_with) == (20, 0)
    assert _changes(sample, redact=str.upper)[0].source == "T.S.TRAVELSERVICEIMPL#372"
    # without the statements the two are one line, written in every span before and after
    sample.logs = [replace(r, source=None) for r in sample.logs]
    assert _changes(sample) == []


def test_a_statement_that_still_writes_another_text_has_not_stopped() -> None:
    """One statement (line 119) writes its result, whose text depends on the data: before the
    start most spans wrote one train type, since then most another (TrainTicket's basic on
    2023-01-30, when a callee's network was slowed). The miner sees two templates and one of
    them all but vanished; the code still gets there, so that is no code-path change. Where
    the same text comes from a logger that names no line, it cannot be told from a stop."""
    sample = _Sample()
    before = (LogLevel.INFO, "[all done][result: train ZhiDa class {n}]")
    since = (LogLevel.INFO, "[all done][result: coach DongCheOne seat {n}]")
    sample.period(T0, 20, 20, before)
    sample.period(SPLIT, 20, 20, since)
    done = [r for r in sample.logs if "all done" in r.message]
    steady = [r for r in sample.logs if "all done" not in r.message]
    sample.logs = steady + [replace(r, source="f.m.s.BasicServiceImpl#119") for r in done]
    assert [c.kind for c in _changes(sample)] == ["appeared"]  # the new text: INFO, no fault
    sample.logs = steady + [replace(r, source="f.m.s.BasicServiceImpl") for r in done]
    assert sorted(c.kind for c in _changes(sample)) == ["appeared", "vanished"]


def test_a_line_number_shared_by_every_text_is_a_helpers_not_a_statement() -> None:
    """A logging helper that reports its own line (a wrapper's ``log.py:12``) writes every text
    of a span: it says nothing of the code path, and a text that stopped is still a stop."""
    sample = _Sample()
    line = (LogLevel.INFO, "[all done][result: train ZhiDa class {n}]")
    sample.period(T0, 20, 20, line)
    sample.period(SPLIT, 20, 0, line)
    sample.logs = [replace(r, source="app/log.py:12") for r in sample.logs]
    (change,) = _changes(sample)
    assert change.kind == "vanished" and change.source == "app/log.py:12"


def test_a_statement_that_stopped_is_a_stop_whatever_it_wrote() -> None:
    sample = _Sample()
    line = (LogLevel.INFO, "[all done][result: train ZhiDa class {n}]")
    sample.period(T0, 20, 20, line)
    sample.period(SPLIT, 20, 2, line)
    sample.logs = [
        replace(r, source="f.m.s.BasicServiceImpl#119" if "all done" in r.message else None)
        for r in sample.logs
    ]
    (change,) = _changes(sample)
    assert change.kind == "vanished" and change.source == "f.m.s.BasicServiceImpl#119"


def _branches(sample: _Sample, start: datetime, one: int, other: int) -> None:
    """``one`` spans that look a train type up by name, then ``other`` that look up a list."""
    for i in range(one + other):
        found = "train type {n} found by name" if i < one else "listing every train type in {n}"
        sample.add(start + timedelta(seconds=i), [(LogLevel.INFO, found)])


def test_the_other_branch_of_a_choice_it_always_made_is_other_input() -> None:
    """``retrieveByName`` took one of two branches, never both (18 and 25 of 43 spans); since
    the start every request takes the second (ts-train-service on 2023-01-30 at 13:52, when the
    requests asked for lists): the input mix changed, not the code. Where the second branch is
    new, or was not what the other spans did, the first stopping is a stop."""
    sample = _Sample()
    _branches(sample, T0, 18, 25)
    _branches(sample, SPLIT, 0, 17)
    assert [c.kind for c in _changes(sample)] == []  # the new share is INFO: no change either
    # a path taken instead that never showed before: the code went somewhere new
    new = _Sample()
    _branches(new, T0, 43, 0)
    _branches(new, SPLIT, 0, 17)
    assert sorted(c.kind for c in _changes(new)) == ["appeared", "vanished"]
    # an event written beside the gone one (the same span did both): not an alternative
    beside = _Sample()
    beside.period(T0, 20, 10, (LogLevel.INFO, QUERY))
    beside.period(SPLIT, 20, 0, (LogLevel.INFO, QUERY))
    (change,) = _changes(beside)
    assert change.kind == "vanished" and change.template.startswith("Query route by id")


def test_where_in_the_incident_a_line_stopped_is_placed() -> None:
    """The line went on for 11 spans after the start, then stopped: the change is still one on
    the whole incident, and since it began no span wrote the line."""
    sample = _Sample()
    sample.period(T0, 12, 12, (LogLevel.INFO, QUERY))
    late = sample.period(SPLIT, 26, 11, (LogLevel.INFO, QUERY))
    (change,) = _changes(sample)
    assert (change.incident_with, change.incident_spans) == (11, 26)
    assert change.since == late[11].start
    assert (change.since_with, change.since_spans) == (0, 15)
    assert change.share_since == 0.0 < change.share_incident
    # a line that stopped at the start: since is the start, the share the whole incident's
    sample = _Sample()
    sample.period(T0, 12, 12, (LogLevel.INFO, QUERY))
    at_once = sample.period(SPLIT, 26, 0, (LogLevel.INFO, QUERY))
    (change,) = _changes(sample)
    assert change.since == at_once[0].start and change.since_spans == 26
    assert change.share_since == change.share_incident == 0.0


def test_a_share_seen_in_few_spans_is_uncertain_and_needs_a_larger_move() -> None:
    """6 of 9 spans wrote the line before, 1 of 15 since: with 9 spans the normal share could be
    anywhere from about 0.35 to 0.9, and this is p ~ 0.002 (the demo's seed 6: one user agent of
    an access log, by chance). The same shares seen in 90 and 150 spans are a change."""
    line = (LogLevel.INFO, "login from {n} via iPhone")
    thin = _Sample()
    thin.period(T0, 9, 6, line)
    thin.period(SPLIT, 15, 1, line)
    assert _changes(thin) == []
    assert 2 < change_score(6, 9, 1, 15) < MIN_SCORE
    seen = _Sample()
    seen.period(T0, 90, 60, line)
    seen.period(SPLIT, 150, 10, line)
    (change,) = _changes(seen)
    assert change.kind == "vanished" and change.score > 20


def _child(parent: Span, service: str, operation: str, n: int, kind: str = "internal") -> Span:
    return Span(
        parent.trace_id,
        f"{n:08x}c0de",
        parent.span_id,
        service,
        operation,
        parent.start,
        2.0,
        kind=kind,
    )


def test_an_internal_call_the_operation_stopped_making_is_a_code_path_change() -> None:
    """An exception before a query: the operation's span runs, its query span is gone."""
    sample = _Sample()
    before = sample.period(T0, 30, 0, (LogLevel.INFO, QUERY))
    incident = sample.period(SPLIT, 30, 0, (LogLevel.INFO, QUERY))
    queries = [_child(s, "route", "SELECT route", i) for i, s in enumerate(before)]
    queries += [_child(s, "route", "SELECT route", 100 + i) for i, s in enumerate(incident[:2])]
    (change,) = compare_code_paths([*sample.spans, *queries], sample.logs, SPLIT).changes
    assert change.event == "call" and change.kind == "vanished"
    assert change.template == "SELECT route"
    assert (change.normal_with, change.incident_with) == (30, 2)


def test_calls_to_other_services_are_not_counted() -> None:
    """What happens under a call to another service is the callee's doing."""
    sample = _Sample()
    before = sample.period(T0, 30, 0, (LogLevel.INFO, QUERY))
    sample.period(SPLIT, 30, 0, (LogLevel.INFO, QUERY))
    spans = list(sample.spans)
    for i, span in enumerate(before):
        client = _child(span, "route", "HTTP POST", i, kind="client")
        spans += [client, _child(client, "price", "query", 500 + i, kind="server")]
    assert compare_code_paths(spans, sample.logs, SPLIT).changes == []


def _failing(spans: list[Span]) -> list[Span]:
    return [replace(s, error=True) for s in spans]


def test_an_event_of_the_failure_path_that_stops_is_a_recovery_not_a_finding() -> None:
    """An error handler's call made by failing spans before the start, by none after: the
    operation stopped failing, which is no cause of anything."""
    sample = _Sample()
    before = _failing(sample.period(T0, 30, 0, (LogLevel.INFO, QUERY)))
    incident = sample.period(SPLIT, 30, 0, (LogLevel.INFO, QUERY))
    handler = [_child(s, "route", "ErrorController.error", i) for i, s in enumerate(before)]
    spans = [*before, *incident, *handler]
    assert compare_code_paths(spans, sample.logs, SPLIT).changes == []
    # the same call made by spans that did not fail is the operation's normal path
    healthy = [replace(s, error=False) for s in before]
    (change,) = compare_code_paths([*healthy, *incident, *handler], sample.logs, SPLIT).changes
    assert change.kind == "vanished" and change.template == "ErrorController.error"


def test_a_reference_that_caught_the_service_failing_is_not_its_normal() -> None:
    """The reference's spans of route failed (another incident); before the start they did
    not: the minutes before are route's normal, so the line it stops writing is compared with
    them, and the reference's failure path (an error line) is no news."""
    sample = _Sample()
    sample.period(T0, 20, 20, (LogLevel.INFO, QUERY))
    sample.period(SPLIT, 20, 0, (LogLevel.INFO, QUERY))
    caught = _Sample(first_trace=10**6)
    spans = caught.period(T0 - timedelta(days=1), 30, 30, (LogLevel.ERROR, FAILED))
    caught.spans = _failing(spans)
    (change,) = _changes(sample, caught)
    assert change.kind == "vanished" and not change.against_reference
    assert (change.normal_with, change.normal_spans) == (20, 20)
    # the same reference without the failures is route's normal, and it never wrote the line
    caught.spans = spans
    assert _changes(sample, caught) == []


def _failing_reference(wrote: int) -> _Sample:
    """A day-old reference of route: 8 requests that failed, writing an error line, then 6
    that did not, the first ``wrote`` of them writing the query line."""
    reference = _Sample(first_trace=10**6)
    failed = reference.period(T0 - timedelta(days=1), 8, 8, (LogLevel.ERROR, FAILED))
    rest = reference.period(T0 - timedelta(days=1, minutes=-1), 6, wrote, (LogLevel.INFO, QUERY))
    reference.spans = [*_failing(failed), *rest]
    return reference


def test_the_requests_of_a_failing_reference_that_did_not_fail_are_still_normal() -> None:
    """8 of 14 reference requests failed, none before the start; the 6 others wrote the line
    that an earlier fault had already stopped before the start (ts-travel2-service, Nezha
    2023-01-29 10:45 after 10:26). Compared with those 6 the line vanished; the minutes before
    the start show nothing."""
    sample = _Sample()
    sample.period(T0, 20, 0, (LogLevel.INFO, QUERY))
    sample.period(SPLIT, 20, 0, (LogLevel.INFO, QUERY))
    (change,) = _changes(sample, _failing_reference(wrote=6))
    assert change.kind == "vanished" and change.against_reference
    assert change.template == "Query route by id <NUM>"
    assert (change.normal_with, change.normal_spans) == (6, 6)
    assert (change.incident_with, change.incident_spans) == (0, 20)


def test_where_the_reference_is_in_doubt_a_change_from_the_minutes_before_counts_too() -> None:
    """The same failing reference, whose 6 other requests never wrote the line; the 20 spans
    before the start all did, the incident's none (ts-travel2-service at 10:26 on the Nezha
    day, its reference's rest 6 requests): a change against the minutes before."""
    sample = _Sample()
    sample.period(T0, 20, 20, (LogLevel.INFO, QUERY))
    sample.period(SPLIT, 20, 0, (LogLevel.INFO, QUERY))
    (change,) = _changes(sample, _failing_reference(wrote=0))
    assert change.kind == "vanished" and not change.against_reference
    assert (change.normal_with, change.normal_spans) == (20, 20)


def test_a_score_reads_as_the_p_value_it_stands_for_and_a_capped_one_as_a_bound() -> None:
    assert p_value_text(change_score(6, 9, 1, 15)) == "p ≈ 2e-03"
    assert p_value_text(change_score(40, 40, 0, 400)) == f"p < 1e-{MAX_SCORE:.0f}"
