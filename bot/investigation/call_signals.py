"""What the calls between services, counted in the metrics, say about each service.

The service graph in the metrics (``tools.analysis.call_edges``) holds the facts the traces
give per call edge, without the traces: time on a call that neither side spent, calls that
failed, who calls whom. They become the same signals a service gets from its spans
(``bot.investigation.signals``), counted once with them (the larger of the two: the service
graph is usually derived from those very spans):

- ``trace_network`` of the **server**: time on the calls into it outside its own time grew,
  and its own time did not grow as much (the network or a queue on that edge); of the
  **client** instead when it was late on its calls to everyone it calls and no other caller of
  them saw it (``late_callers``: its own network, or a CPU too starved to send and read);
- ``trace_errors`` of the **server**: calls into it failed more, unless its own calls to
  others failed more too (it passes a failure up from below, as a span whose errors originate
  in a callee does). Where it answered the calls it got no worse than before (its own error
  series did not rise) they were lost on the way (``calls_timed_out``: its link, not its
  code); where it measured no call at all in the incident, it was not there to answer
  (``outage``, a dependency down).

And who waited on whom (:func:`callees`): the calls that took longer or failed more, the call
graph along which the ranking discounts a caller as its callee's symptom.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.investigation.late_callers import late_callers
from bot.investigation.signals import ServiceSignals
from tools.analysis.call_edges import CallEdgeChange
from tools.analysis.change_scores import SeriesChange
from tools.analysis.metric_kinds import SignalGroup
from tools.call_edge_changes import link_key
from tools.evidence import EvidenceDraft

# failed calls at least twice as common (a doubling) into a server that answered none of them
OUTAGE_DOUBLINGS = 1.0


def callees(edges: Iterable[CallEdgeChange], at: float) -> dict[str, set[str]]:
    """Who waited on whom in the incident: client → the servers its calls to took longer or
    failed more (``CallEdgeChange.waited_more``). A caller's slowness or errors can be a
    callee's only through calls that changed: a callee it called as before explains nothing of
    it (with traces, its own spans say so; here, the edge does)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.called and edge.client != edge.server and edge.waited_more(at):
            graph.setdefault(edge.client, set()).add(edge.server)
    return graph


def clients_side(edges: Iterable[CallEdgeChange], at: float) -> set[tuple[str, str]]:
    """The edges (client, server) whose grown time outside the server is the client's: it was
    late on its calls to all of its servers (two or more) and no other client of them saw it
    (:func:`bot.investigation.signals.caller_side`, on the service graph)."""
    compared: dict[str, set[str]] = {}
    slower: dict[str, dict[str, float]] = {}
    for edge in edges:
        if edge.link is not None:
            compared.setdefault(edge.client, set()).add(edge.server)
        if size := edge.link_rose(at):
            slower.setdefault(edge.client, {})[edge.server] = size
    return late_callers(compared, slower)


def cite_clients_side(
    drafts: list[EvidenceDraft], edges: Iterable[CallEdgeChange] | None, at: float
) -> list[EvidenceDraft]:
    """``drafts`` with the link time :func:`clients_side` gives the client cited for it."""
    edges = list(edges or [])
    late = clients_side(edges, at)
    owners = {link_key(e): e.client for e in edges if (e.client, e.server) in late}
    return [
        d.model_copy(update={"service": owners[d.key]}) if d.key in owners else d for d in drafts
    ]


def _error_series(metrics: Iterable[SeriesChange], at: float) -> tuple[set[str], set[str]]:
    """Services with an error series of their own, and those whose errors rose by ``at``."""
    have: set[str] = set()
    rose: set[str] = set()
    for change in metrics:
        if change.group is not SignalGroup.ERRORS:
            continue
        have.add(change.service)
        if change.going_on(at):
            rose.add(change.service)
    return have, rose


def add_call_edges(
    signals: dict[str, ServiceSignals],
    edges: list[CallEdgeChange] | None,
    metrics: list[SeriesChange] | None,
    at: float,
) -> dict[str, ServiceSignals]:
    """``signals`` with each service's signals from the call edges into it (see the module);
    ``at``: the incident start (an edge whose change was over by then says nothing)."""
    edges = edges or []
    late = clients_side(edges, at)
    failing_out = {e.client for e in edges if e.rose(e.failed, at)}
    have_errors, errors_rose = _error_series(metrics or [], at)
    for edge in edges:
        link = edge.link_rose(at)
        failed = edge.rose(edge.failed, at)
        if not (link or failed):
            continue
        if (edge.client, edge.server) in late:
            client = signals.setdefault(edge.client, ServiceSignals(edge.client))
            client.bump("trace_network", link)
            client.late_caller = max(client.late_caller, link)
            link = 0.0
            if not failed:
                continue
        s = signals.setdefault(edge.server, ServiceSignals(edge.server))
        s.bump("trace_network", link)
        if not failed or edge.server in failing_out:
            continue  # a failure from below, passed up: its callee's
        s.bump("trace_errors", failed)
        answered_as_before = (
            edge.server in have_errors
            and edge.server not in errors_rose
            and edge.rose(edge.server_time, at) == 0.0
        )
        if not edge.answered:
            s.outage = s.outage or failed >= OUTAGE_DOUBLINGS
        elif answered_as_before:
            s.calls_timed_out = 1.0  # lost on the way, not failed in it
    return signals
