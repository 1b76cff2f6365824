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
