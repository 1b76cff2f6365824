"""The span index of the code-path comparison: ids, periods, baselines."""

from __future__ import annotations

from tools.analysis import code_path_spans as index_of
from tools.analysis.code_path_spans import SpanIndex, same_id
from tools.records import Span


def _span(n: int, *, operation: str = "query", error: bool = False) -> Span:
    return Span(f"{n:032x}", f"{n:016x}", None, "route", operation, float(n), 5.0, error=error)


def test_ids_agree_whatever_their_case_padding_and_spaces() -> None:
    assert same_id(" 00AB12 ") == same_id("ab12") == "ab12"


def test_a_span_seen_twice_counts_once_but_the_reference_may_reuse_an_id() -> None:
    index = SpanIndex()
    index.add(_span(1), index_of.INCIDENT)
    index.add(_span(1), index_of.BEFORE)  # the same span again, from another page
    index.add(_span(1), index_of.REFERENCE)  # another span that happens to have its id
    assert index.counts == [[0, 1, 1]]
    assert index.incident == [[0]]


def test_each_operation_is_compared_with_the_reference_when_it_has_enough_and_is_healthy() -> None:
    index = SpanIndex()
    for n in range(index_of.MIN_SPANS):
        index.add(_span(n + 1), index_of.BEFORE)
        index.add(_span(100 + n), index_of.INCIDENT)
        index.add(_span(200 + n), index_of.REFERENCE)
        index.add(_span(300 + n, operation="thin"), index_of.INCIDENT)
    assert index.baselines() == [(index_of.REFERENCE,), ()]  # "thin" has nothing to compare with
    failing = SpanIndex()  # the reference caught the service failing: the minutes before
    for n in range(index_of.MIN_SPANS * 4):
        failing.add(_span(n + 1), index_of.BEFORE)
        failing.add(_span(100 + n), index_of.INCIDENT)
        failing.add(_span(200 + n, error=True), index_of.REFERENCE)
    assert failing.less_healthy() == {"route"}
    assert failing.baselines() == [(index_of.BEFORE,)]


def _request(n: int, *, failed: bool) -> list[Span]:
    """One request through route: its server span (failing or not) and a query inside it."""
    trace, server = f"{n:032x}", f"{n:015x}a"
    return [
        Span(trace, server, None, "route", "GET /route", float(n), 9.0, error=failed),
        Span(trace, f"{n:015x}b", server, "route", "query", float(n), 5.0),
    ]


def _requests(reference: list[bool], before: int = 20, incident: int = 20) -> SpanIndex:
    """An index of route's requests: one in the reference per flag (failed or not), then
    ``before`` and ``incident`` that did not fail."""
    index = SpanIndex()
    for n, failed in enumerate(reference):
        for span in _request(1000 + n, failed=failed):
            index.add(span, index_of.REFERENCE)
    for first, count, period in (
        (2000, before, index_of.BEFORE),
        (3000, incident, index_of.INCIDENT),
    ):
        for n in range(count):
            for span in _request(first + n, failed=False):
                index.add(span, period)
    return index


def test_a_service_failing_in_the_reference_is_compared_with_its_other_requests_too() -> None:
    """8 of 14 reference requests failed, none of 20 before: the 6 others are still its normal
    code path; every span of the 8 (its query too, which did not fail) is set aside."""
    index = _requests([n < 8 for n in range(14)])
    assert index.less_healthy() == {"route"}
    index.set_aside_failed_requests()
    assert len(index.aside) == 16 and index.less_healthy() == set()
    assert [counts[index_of.REFERENCE] for counts in index.counts] == [6, 6]
    # which is normal cannot be told: compared with the reference's rest and the minutes before
    both = (index_of.REFERENCE, index_of.BEFORE)
    assert index.doubted == {"route"} and index.baselines() == [both, both]
    assert all(index.period[i] == index_of.REFERENCE for i in index.aside)
    kept = index.members[0][index_of.REFERENCE][0]
    assert index.compared(kept, both) and not index.compared(kept, (index_of.BEFORE,))
    assert not any(index.compared(i, both) for i in index.aside)


def test_a_healthy_reference_keeps_every_request_and_too_few_left_fall_back_to_before() -> None:
    healthy = _requests([n == 0 for n in range(10)])  # one failure in ten is no news
    healthy.set_aside_failed_requests()
    assert healthy.aside == set() and healthy.doubted == set()
    broken = _requests([n >= 3 for n in range(12)])  # 3 did not fail: too few to compare with
    broken.set_aside_failed_requests()
    assert broken.baselines() == [(index_of.BEFORE,), (index_of.BEFORE,)]
