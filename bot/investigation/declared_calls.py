"""The declared service map, where nothing measured a service's calls.

The ranking discounts a caller whose only anomaly is waiting on something below it
(``bot.investigation.ranking``), and needs to know what is below. Measurements say it: the
traces' calls, and the service graph in the metrics (who waited on whom). A service map
(``tools.service_map``) only says who *may* call whom; a measured call graph is better
evidence, since it shows which calls the incident's requests made and which of them changed.
So a service's declared callees count only where neither measured its calls: it has no span
of its own in the traces (in the incident or normally), and no call of its is a series of the
service graph. With metrics alone (OnlineBoutique's 2022-08-22 in the Nezha data has no traces)
the map is then the only call graph there is: without it, a frontend whose error ratio rose
because the checkout it calls threw ranked above the checkout.

A traced service may still make calls its spans do not show (an uninstrumented client, a callee
that drops the trace context): a call the map declares, or the service graph measured, that no
span shows it making is *untraced*, and its time is inside the caller's own spans' time.
OnlineBoutique's checkoutservice calls currencyservice so on 2022-08-23: when currencyservice's
link was delayed at 13:37, the checkout's own time per trace grew tenfold and it ranked above
the delayed service. The mesh's medians of that call (``bot.importers.nezha_edges``) measure
it at both ends; the checkout's spans still hold its time.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tools.analysis.call_edges import CallEdgeChange
from tools.analysis.span_attribution import TraceAnalysis
from tools.service_map import ServiceMap

MAX_NAMED = 5  # services named in the note, then a count


def declared_calls(
    service_map: ServiceMap | None,
    traces: TraceAnalysis | None,
    edges: Iterable[CallEdgeChange] | None,
) -> dict[str, set[str]]:
    """Caller → its callees in ``service_map``, for each caller whose calls neither the traces
    nor the service graph measured."""
    if service_map is None:
        return {}
    measured = {edge.client for edge in edges or ()}
    if traces is not None:
        measured |= set(traces.services) | {edge.caller for edge in traces.edges}
    return {
        caller: set(callees)
        for caller, callees in service_map.calls.items()
        if caller not in measured
    }


def untraced_calls(
    service_map: ServiceMap | None,
    traces: TraceAnalysis | None,
    edges: Iterable[CallEdgeChange] | None,
) -> dict[str, set[str]]:
    """Caller → the callees ``service_map`` declares for it, or the service graph measured it
    calling (``edges``), that its spans were not seen to call, for each caller whose other
    calls the traces measured: calls made by an uninstrumented client, or to a callee that
    drops the trace context, whose time is in the caller's own spans' time. The service graph
    measuring such a call does not take its time out of the caller's spans."""
    if traces is None:
        return {}
    known: dict[str, set[str]] = {}
    for caller, declared in service_map.calls.items() if service_map is not None else ():
        known.setdefault(caller, set()).update(declared)
    for edge in edges or ():
        known.setdefault(edge.client, set()).add(edge.server)
    found: dict[str, set[str]] = {}
    for caller, callees in known.items():
        if caller not in traces.services:
            continue
        unseen = callees - traces.callees(caller) - {caller}
        if unseen:
            found[caller] = unseen
    return found


def declared_note(declared: dict[str, set[str]], service_map: ServiceMap | None) -> list[str]:
    """Say which services' calls came from the map: what is below them was declared, not
    seen, so the discount of a caller as its callee's symptom rests on the map."""
    if not declared or service_map is None:
        return []
    names = sorted(declared)
    more = len(names) - MAX_NAMED
    shown = ", ".join(names[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")
    return [
        f"no trace or service-graph series shows the calls of {shown}: what they call is "
        f"taken from the service map {Path(service_map.source).name or '(unnamed)'}, which "
        "says who may call whom, not who waited on whom"
    ]


def untraced_note(untraced: dict[str, set[str]], listed: Iterable[str]) -> list[str]:
    """Say, for the candidates listed, which of their calls no trace read shows: the time of
    those calls is in their own spans, so their own time may be a callee's."""
    shown = [name for name in listed if name in untraced][:MAX_NAMED]
    return [
        f"no trace read shows {caller} calling {', '.join(sorted(untraced[caller]))}, "
        "which the service map declares or the service graph measured: the time of those "
        "calls is in its own spans' time"
        for caller in shown
    ]
