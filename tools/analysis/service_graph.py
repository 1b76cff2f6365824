"""The service graph from spans, as the OpenTelemetry Collector's ``servicegraph`` connector
(and Tempo's metrics-generator) derives it: per client → server edge and time step, the calls,
the share that failed, and the median duration of a call at each end.

A call is a client (or producer) span with a server (or consumer) span of another service as
its child. A client span with no such child but naming its peer (``peer.service``,
``db.system``: a database, or a server that never answered) is a call too, to that peer, with
no server side: what the connector reports for an uninstrumented or unreachable server. The
series are those of ``tools.analysis.call_edges`` (the client's, labelled with the ``server``),
so a bundle with traces can be investigated as if it had only the metrics a team exporting
this graph has (``bench/rca_eval.py``'s ``metrics+graph`` datasets).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType

from tools.analysis.call_edges import CALLS, CLIENT_TIME, FAILED, SERVER_LABEL, SERVER_TIME
from tools.records import MetricSeries, Span

STEP_S = 15.0  # the connector's usual flush interval; a Prometheus scrape interval
CALLERS = frozenset({"client", "producer"})
ANSWERERS = frozenset({"server", "consumer"})
PEER_ATTRIBUTES = ("peer.service", "db.system")


@dataclass
class _Step:
    calls: int = 0
    failed: int = 0
    client_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)


def _peer(span: Span) -> str | None:
    for name in PEER_ATTRIBUTES:
        value = span.attrs.get(name)
        if isinstance(value, str) and value and value != span.service:
            return value
    return None


def service_graph(spans: Iterable[Span], step_s: float = STEP_S) -> list[MetricSeries]:
    """The edges' series (:data:`CALLS`, :data:`FAILED`, :data:`CLIENT_TIME`,
    :data:`SERVER_TIME`) at ``step_s``, each point at the start of its step; a step without a
    server side has no :data:`SERVER_TIME` point."""
    spans = list(spans)
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    answered: set[tuple[str, str]] = set()
    steps: dict[tuple[str, str], dict[float, _Step]] = {}

    def count(client: Span, server: str, answer: Span | None) -> None:
        at = math.floor(client.start / step_s) * step_s
        step = steps.setdefault((client.service, server), {}).setdefault(at, _Step())
        step.calls += 1
        step.failed += int(client.error or (answer is not None and answer.error))
        step.client_ms.append(client.duration_ms)
        if answer is not None:
            step.server_ms.append(answer.duration_ms)

    for span in spans:
        parent = by_id.get((span.trace_id, span.parent_id)) if span.parent_id else None
        if parent is None or parent.service == span.service:
            continue
        if parent.kind in CALLERS and span.kind in ANSWERERS:
            count(parent, span.service, span)
            answered.add((parent.trace_id, parent.span_id))
    for span in spans:
        peer = _peer(span) if span.kind in CALLERS else None
        if peer is not None and (span.trace_id, span.span_id) not in answered:
            count(span, peer, None)
    return [s for edge, by_step in sorted(steps.items()) for s in _series(edge, by_step, step_s)]


def _series(
    edge: tuple[str, str], by_step: dict[float, _Step], step_s: float
) -> list[MetricSeries]:
    client, server = edge
    moments = sorted(by_step)
    labels = MappingProxyType({SERVER_LABEL: server})

    def one(metric: str, value_of: dict[float, float]) -> MetricSeries:
        at = [t for t in moments if t in value_of]
        return MetricSeries(metric, client, tuple(at), tuple(value_of[t] for t in at), labels)

    steps = [(t, by_step[t]) for t in moments]
    found = [
        one(CALLS, {t: s.calls / step_s for t, s in steps}),
        one(FAILED, {t: s.failed / s.calls for t, s in steps}),
        one(CLIENT_TIME, {t: statistics.median(s.client_ms) / 1000 for t, s in steps}),
        one(
            SERVER_TIME, {t: statistics.median(s.server_ms) / 1000 for t, s in steps if s.server_ms}
        ),
    ]
    return [s for s in found if s.timestamps]
