from __future__ import annotations

from tests.tools.analysis.spans import span
from tools.analysis.client_spans import children_by_parent
from tools.analysis.failures_below import calls_failed_below, failing_below, origins_below
from tools.records import Span


def _span(
    sid: str, parent: str | None, service: str, *, error: bool = False, kind: str = "server"
) -> Span:
    attrs = {"peer.service": "db"} if kind == "client" else {}
    return span("t", sid, parent, service, 1000.0, 10.0, error=error, kind=kind, **attrs)


def _chain(*, callee_fails: bool, client_fails: bool = False) -> list[Span]:
    """frontend (server) → its client span (marked ok unless ``client_fails``) → checkout
    (server) → checkout's client span → payment (server, failing when ``callee_fails``)."""
    return [
        _span("1", None, "frontend", error=callee_fails),
        _span("2", "1", "frontend", kind="client", error=client_fails),
        _span("3", "2", "checkout", error=callee_fails),
        _span("4", "3", "checkout", kind="client"),
        _span("5", "4", "payment", error=callee_fails),
    ]


def test_every_caller_above_a_failing_span_of_another_service_had_a_call_fail() -> None:
    spans = _chain(callee_fails=True)
    assert calls_failed_below(spans) == {"frontend", "checkout"}
    assert failing_below(spans) == {"1", "2", "3", "4"}


def test_a_service_failing_with_nothing_failing_below_had_no_call_fail() -> None:
    spans = [_span("1", None, "frontend"), _span("2", "1", "checkout", error=True)]
    spans.append(_span("3", "2", "checkout", kind="client"))  # checkout's own call is fine
    assert calls_failed_below(spans) == {"frontend"}  # checkout's failure is its own doing


def test_a_failing_client_span_of_its_own_is_a_call_that_failed() -> None:
    """The callee never answered: no span of it, the caller's client span failed."""
    spans = [_span("1", None, "api"), _span("2", "1", "api", kind="client", error=True)]
    assert calls_failed_below(spans) == {"api"}
    assert origins_below(spans[0], children_by_parent(spans), failing_below(spans)) == {"db"}


def test_nothing_failed_nothing_is_below() -> None:
    spans = _chain(callee_fails=False)
    assert calls_failed_below(spans) == set() and failing_below(spans) == set()


def test_errors_originate_past_spans_marked_ok_between_failing_ones() -> None:
    """TrainTicket's client spans carry no error status: the origin is the deepest failing
    span anywhere below, not only below failing children."""
    spans = _chain(callee_fails=True)
    below = failing_below(spans)
    children = children_by_parent(spans)
    assert origins_below(spans[0], children, below) == {"payment"}
    assert origins_below(spans[1], children, below) == {"payment"}  # the client span, ok


def test_parents_forming_a_cycle_end_the_walk() -> None:
    spans = [
        _span("a", "b", "api", error=True),
        _span("b", "a", "db", error=True),
    ]
    assert calls_failed_below(spans) == {"api", "db"}
    assert failing_below(spans) == {"a", "b"}
