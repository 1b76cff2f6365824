"""Where failures in one trace sit relative to each span: what failed below it, and where.

Part of :mod:`tools.analysis.span_attribution`. Errors are attributed to the deepest failing
span; the spans between two failing ones (TrainTicket's client and handler spans) often carry
no error status, so "below" means anywhere in the subtree, not among the children.
"""

from __future__ import annotations

from collections.abc import Iterator

from tools.analysis.client_spans import callee_of
from tools.analysis.discovery import span_lookup_failed
from tools.records import Span


def origins_below(span: Span, children: dict[str, list[Span]], failed_below: set[str]) -> set[str]:
    """Services where the errors in ``span``'s subtree originate: its failing spans with no
    failing span below them (``failed_below``: ids of the spans with one, ``failing_below``),
    past spans marked ok between two failing ones."""
    found: set[str] = set()
    stack = [span]
    while stack:
        current = stack.pop()
        kids = children.get(current.span_id, [])
        if current.span_id in failed_below:
            stack.extend(kids)
        elif originates(current, failed_below):
            found.add(unanswered_callee(current, kids) or current.service)
    return found


def originates(span: Span, failed_below: set[str]) -> bool:
    """Whether errors originate at ``span``: it failed, nothing below it failed (``failed_below``,
    :func:`failing_below`), and its own error is no failed lookup of a dependency
    (:mod:`tools.analysis.discovery`: the origin of no error)."""
    return span.error and span.span_id not in failed_below and not span_lookup_failed(span)


def unanswered_callee(span: Span, kids: list[Span]) -> str | None:
    """The callee of a client span with no span below it (``kids``): a failing one was never
    answered, and its errors start at that callee."""
    return callee_of(span, kids) if span.kind == "client" and not kids else None


def failing_below(spans: list[Span]) -> set[str]:
    """Ids of the spans with a failing span anywhere below them."""
    by_id = {s.span_id: s for s in spans}
    found: set[str] = set()
    for span in spans:
        if span.error:
            # a parent already found has its ancestors found too (and a cycle stops there)
            found.update(p.span_id for p in _ancestors(span, by_id, stop=found))
    return found


def calls_failed_below(spans: list[Span]) -> set[str]:
    """Services with a failed call anywhere below one of their spans: a failing span of
    another service, or a failing client span of their own (the callee never answered). What
    a service does after such a call (stop calling others, write an error line) may be its
    reaction to it; a failing span of its own with nothing failing below is its own doing."""
    by_id = {s.span_id: s for s in spans}
    found: set[str] = set()
    for span in spans:
        if not span.error:
            continue
        for parent in _ancestors(span, by_id, stop={span.span_id}):
            if parent.service != span.service or span.kind == "client":
                found.add(parent.service)
    return found


def _ancestors(span: Span, by_id: dict[str, Span], stop: set[str]) -> Iterator[Span]:
    """``span``'s parent, its parent, and so on, up to the root or a span in ``stop``; each
    one yielded is added to ``stop`` (so a parent cycle ends the walk)."""
    parent = by_id.get(span.parent_id) if span.parent_id else None
    while parent is not None and parent.span_id not in stop:
        stop.add(parent.span_id)
        yield parent
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
