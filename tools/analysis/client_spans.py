"""A call in a trace: which service a client span called, and how much of it the spans below
covered.

A client span's *self time* (its duration not covered by its children) is the time on the
network or in the callee's queue: delay injected on a callee's network, or a queue in front of
it, grows it while the callee's own spans stay as they were
(:mod:`tools.analysis.span_attribution` compares it between periods).
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.records import Span


def callee_of(span: Span, children: Sequence[Span]) -> str | None:
    """The service a client span called: its child in another service (or a server span),
    else what its attributes name (``peer.service``, ``db.system``, …); ``None``: unknown."""
    for child in children:
        if child.kind == "server" or child.service != span.service:
            return child.service
    for key in ("peer.service", "db.system", "net.peer.name", "server.address"):
        value = span.attrs.get(key)
        if value:
            return str(value)
    return None


def children_by_parent(spans: Sequence[Span]) -> dict[str, list[Span]]:
    """The spans of a trace under each parent span id."""
    children: dict[str, list[Span]] = {}
    for span in spans:
        if span.parent_id:
            children.setdefault(span.parent_id, []).append(span)
    return children


def covered_ms(span: Span, children: Sequence[Span]) -> float:
    """Milliseconds of ``span`` covered by the union of its children's intervals."""
    intervals = sorted((max(c.start, span.start), min(c.end, span.end)) for c in children)
    covered, cursor = 0.0, span.start
    for lo, hi in intervals:
        lo = max(lo, cursor)
        if hi > lo:
            covered += hi - lo
            cursor = hi
    return covered * 1000.0


def service_calls(spans: Sequence[Span]) -> list[tuple[str, float, float]]:
    """The calls from one service into another in a trace: ``(callee, start, seconds)``, from
    the caller's client span where there is one (it holds the network and the callee's
    queue), else from the callee's span under another service's span."""
    by_id = {s.span_id: s for s in spans}
    children = children_by_parent(spans)
    found = []
    for span in spans:
        if span.kind == "client":
            callee = callee_of(span, children.get(span.span_id, ()))
            if callee is not None and callee != span.service:
                found.append((callee, span.start, span.duration_ms / 1000))
            continue
        parent = by_id.get(span.parent_id) if span.parent_id is not None else None
        if parent is not None and parent.service != span.service and parent.kind != "client":
            found.append((span.service, span.start, span.duration_ms / 1000))
    return found
