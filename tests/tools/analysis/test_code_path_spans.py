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
    assert index.baselines() == [index_of.REFERENCE, None]  # "thin" has nothing to compare with
    failing = SpanIndex()  # the reference caught the service failing: the minutes before
    for n in range(index_of.MIN_SPANS * 4):
        failing.add(_span(n + 1), index_of.BEFORE)
        failing.add(_span(100 + n), index_of.INCIDENT)
        failing.add(_span(200 + n, error=True), index_of.REFERENCE)
    assert failing.less_healthy() == {"route"}
    assert failing.baselines() == [index_of.BEFORE]
