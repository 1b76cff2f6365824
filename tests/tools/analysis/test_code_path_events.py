"""The events of a code path and the rules by which a moved share is not a changed path."""

from __future__ import annotations

from tools.analysis.code_path_events import (
    EventSpans,
    moved_largely,
    share_at_callers_mix,
    share_moved,
    still_written,
    taken_instead,
)
from tools.analysis.code_path_spans import BEFORE, INCIDENT, SpanIndex
from tools.records import LogLevel, Span


def _operation(normal: int, incident: int) -> tuple[SpanIndex, list[int], list[int]]:
    """One operation's spans: ``normal`` before the start, ``incident`` since (their indices)."""
    index = SpanIndex()
    for n in range(normal + incident):
        period = BEFORE if n < normal else INCIDENT
        index.add(Span(f"{n + 1:032x}", f"{n + 1:016x}", None, "train", "byName", n, 2.0), period)
    return index, list(range(normal)), list(range(normal, normal + incident))


def _event(before: list[int], since: list[int]) -> EventSpans:
    event = EventSpans()
    event.spans[BEFORE].update(before)
    event.spans[INCIDENT].update(since)
    return event


def test_a_share_moves_when_the_move_is_both_large_and_surprising() -> None:
    index, normal, incident = _operation(40, 20)
    gone = share_moved(index, 0, BEFORE, _event(normal[:36], incident[:0]))
    assert gone is not None and gone[0] == -0.9 and gone[1] >= 3
    assert share_moved(index, 0, BEFORE, _event(normal[:20], incident[:9])) is None  # small
    thin, few, since = _operation(5, 5)
    assert share_moved(thin, 0, BEFORE, _event(few[:3], since[:0])) is None  # not surprising
    assert still_written(index, 0, BEFORE, _event(normal[:36], incident[:18]))
    assert not still_written(index, 0, BEFORE, _event(normal[:36], incident[:0]))


def test_a_rare_arm_taking_every_request_is_still_the_other_arm() -> None:
    """92 of 115 spans asked by category, 23 for random ads, never both; since the start all 22
    ask for random ads: the input changed (adservice, Nezha 2022-08-23 14:47). An arm in fewer
    than MIN_SPANS normal spans, or one of the failure path, is no alternative."""
    index, normal, incident = _operation(115, 22)
    by_category = _event(normal[:92], [])
    random = _event(normal[92:], incident)
    assert taken_instead(index, 0, BEFORE, by_category, [by_category, random]) is random
    seldom = _event(normal[92:96], incident)  # 4 normal spans: too few to call it an arm
    assert taken_instead(index, 0, BEFORE, by_category, [by_category, seldom]) is None
    handler = _event(normal[92:], incident)
    handler.level = LogLevel.ERROR  # the failure path taking over is the fault, not input
    assert taken_instead(index, 0, BEFORE, by_category, [by_category, handler]) is None


def test_a_move_is_large_by_its_distance_on_the_arcsine_scale() -> None:
    """50 % → 20 % is the bar; a rare call that stops altogether, or a path most spans reach
    that a fifth no longer do, is as large; a few points at the middle or the ends are not."""
    assert moved_largely(0.2, 0.5) and moved_largely(0.5, 0.2)
    assert moved_largely(0.0, 0.18) and moved_largely(0.81, 1.0)
    assert not moved_largely(0.45, 0.5) and not moved_largely(0.95, 1.0)
    assert not moved_largely(0.0, 0.05)


def test_the_other_arm_of_a_choice_made_in_every_normal_span_was_taken_instead() -> None:
    """18 spans of 43 looked up one name, the other 25 a list; since the start all 17 do the
    second: that arm is returned. An event that showed beside the gone one, or in too few of
    the other spans, or no more often since, is not an alternative."""
    index, normal, incident = _operation(43, 17)
    by_name = _event(normal[:18], [])
    by_names = _event(normal[18:], incident)
    logged = _event(normal, incident)  # written in every span, beside both arms
    assert taken_instead(index, 0, BEFORE, by_name, [by_name, logged, by_names]) is by_names
    assert taken_instead(index, 0, BEFORE, by_name, [by_name, logged]) is None
    rare = _event(normal[18:28], incident)  # 10 of the 25 other spans: no choice between two
    assert taken_instead(index, 0, BEFORE, by_name, [by_name, rare]) is None
    fewer = _event(normal[18:], incident[:8])  # the other arm is taken less often since
    assert taken_instead(index, 0, BEFORE, by_name, [by_name, fewer]) is None
    every = _event(normal, [])  # nothing left that did not show it
    assert taken_instead(index, 0, BEFORE, every, [every, by_names]) is None


def test_the_failure_path_or_a_rare_arm_is_no_choice_made_as_a_rule() -> None:
    """``Get Route By Ids Success`` in 32 of 33 spans, ``… Failed`` (ERROR) in the other one;
    since the fault every span fails: the success line stopping is the fault, not other input.
    An INFO arm taken in 3 of 33 spans (a cache miss) taking every request is a change too."""
    index, normal, incident = _operation(33, 20)
    success = _event(normal[:32], [])
    failed = _event(normal[32:], incident)
    failed.level = LogLevel.ERROR
    assert taken_instead(index, 0, BEFORE, success, [success, failed]) is None
    failed.level = LogLevel.INFO  # the same shares, not an error line: still a rare arm
    assert taken_instead(index, 0, BEFORE, success, [success, failed]) is None
    hit = _event(normal[:30], [])
    miss = _event(normal[30:], incident)
    assert taken_instead(index, 0, BEFORE, hit, [hit, miss]) is None


def _asked(index: SpanIndex, n: int, caller: str, period: int) -> int:
    """A seat span under a client span of ``caller``; returns the seat span's index."""
    trace, start = f"{n + 1:032x}", float(n)
    index.add(Span(trace, f"{n + 1:015x}c", None, caller, "ask", start, 3.0, kind="client"), period)
    seat = Span(trace, f"{n + 1:015x}s", f"{n + 1:015x}c", "seat", "left", start, 2.0)
    index.add(seat, period)
    return len(index.spans) - 1


def _seat(travel: int, travel2: int, period: int, index: SpanIndex, first: int) -> list[int]:
    """seat spans asked by travel (the first ``travel``) and by travel2."""
    return [
        _asked(index, first + i, "travel" if i < travel else "travel2", period)
        for i in range(travel + travel2)
    ]


def test_who_called_a_span_is_the_first_service_above_it() -> None:
    index = SpanIndex()
    seat = _asked(index, 0, "travel", BEFORE)
    assert index.who_called(seat) == "travel"
    assert index.who_called(seat - 1) == ""  # travel's span: the request began there


def test_a_line_written_less_because_its_callers_changed_is_no_change() -> None:
    """seat writes "Get Order tickets" for the trains travel asks about (20 of 30 normal
    spans, every one of travel's); travel failed before asking it, and 2 of 22 spans write it
    since, both of them travel's: at the incident's mix of callers nothing changed."""
    index = SpanIndex()
    normal = _seat(20, 10, BEFORE, index, 0)
    incident = _seat(2, 20, INCIDENT, index, 100)
    line = _event(normal[:20], incident[:2])
    assert share_at_callers_mix(index, 1, BEFORE, line.spans[BEFORE]) == 2 / 22
    assert share_moved(index, 1, BEFORE, line) is None
    index = SpanIndex()  # as many of travel's as travel2's since, none writing it: a change
    normal = _seat(20, 10, BEFORE, index, 0)
    _seat(10, 10, INCIDENT, index, 100)
    stopped = _event(normal[:20], [])
    assert share_at_callers_mix(index, 1, BEFORE, stopped.spans[BEFORE]) == 0.5
    assert share_moved(index, 1, BEFORE, stopped) is not None


def test_one_and_the_same_caller_in_both_periods_is_nothing_to_mix() -> None:
    index = SpanIndex()
    normal = _seat(20, 0, BEFORE, index, 0)
    _seat(10, 0, INCIDENT, index, 100)
    assert share_at_callers_mix(index, 1, BEFORE, set(normal[:10])) is None
