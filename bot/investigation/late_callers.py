"""Whose side of a slower call the time is on: the callee's link, or a caller late on every call.

Time on a call outside the callee's spans grows when the network or a queue in front of the
callee slows (the callee's link), and when the caller itself is late to send and read (its own
network, or a CPU too starved to run its client code). :func:`caller_side` tells them apart by
who else saw it; the ranking (``bot.investigation.signals``) credits the time to the side it
finds, and :func:`cite_callers_side` files the evidence with it. Where the time is the callee's,
its callers' own measure of their calls is a second record of it (:func:`seen_by_callers`).
"""

from __future__ import annotations

from tools.analysis.metric_kinds import SignalGroup
from tools.analysis.span_attribution import TraceAnalysis
from tools.evidence import EvidenceDraft
from tools.metric_changes import evidence_group
from tools.trace_attribution import gap_key


def caller_side(traces: TraceAnalysis) -> set[tuple[str, str]]:
    """The slower edges (caller, callee) whose time outside the callee's spans is the
    caller's: every service it calls (two or more) got slower there, and no other caller of
    those callees saw it. Delay on a callee's network slows the calls into it from everyone;
    delay on the caller's own network, or a caller starved of CPU that is late to send and
    read, slows everything it calls, and only its calls. Another caller "saw it" when its calls
    into the callee got at least half as much slower (in doublings): a delay on the callee's
    network adds about the same time to every call into it, whoever makes it, where a starved
    frontend's calls to a catalog went from 2 to 96 ms and a recommender's from 1.87 to 1.96 ms
    (OnlineBoutique, 2022-08-23 12:01: significant, but not the same delay)."""
    compared: dict[str, set[str]] = {}
    slower: dict[str, dict[str, float]] = {}
    for e in traces.edges:
        if e.baseline_gap_ms is not None and e.incident_gap_ms is not None:
            compared.setdefault(e.caller, set()).add(e.callee)
        if e.gap_score > 0:
            slower.setdefault(e.caller, {})[e.callee] = e.gap_score
    return late_callers(compared, slower)


def late_callers(
    compared: dict[str, set[str]], slower: dict[str, dict[str, float]]
) -> set[tuple[str, str]]:
    """:func:`caller_side` on any record of calls: ``compared``, caller → the callees whose
    time outside them was compared; ``slower``, caller → callee → doublings it grew by."""
    into: dict[str, dict[str, float]] = {}
    for caller, callees in slower.items():
        for callee, size in callees.items():
            into.setdefault(callee, {})[caller] = size
    return {
        (caller, callee)
        for caller, callees in slower.items()
        if len(callees) >= 2 and set(callees) == compared.get(caller)
        for callee, size in callees.items()
        if all(other == caller or seen < size / 2 for other, seen in into[callee].items())
    }


def cite_callers_side(
    drafts: list[EvidenceDraft], traces: TraceAnalysis | None
) -> list[EvidenceDraft]:
    """``drafts`` with the time on each edge that :func:`caller_side` gives the caller cited
    for the caller, whose signal it is: a candidate is listed only with evidence of its own."""
    owners = {gap_key(c, e): c for c, e in caller_side(traces)} if traces is not None else {}
    return [
        d.model_copy(update={"service": owners[d.key]}) if d.key in owners else d for d in drafts
    ]


def seen_by_callers(
    drafts: list[EvidenceDraft], traces: TraceAnalysis | None
) -> dict[str, list[EvidenceDraft]]:
    """Per service the traces found slower to reach (time outside its spans on calls into it,
    on its side: not :func:`caller_side`'s), the metric items of its callers' client-side
    latency (``SignalGroup.DOWNSTREAM``: the calls a service makes, timed where it makes them)
    that rose: the same delay, measured by the callers' proxies or client libraries instead of
    the spans. A delay on the link into a callee leaves its own metrics as they were, so
    without these it has the traces alone to show for it. The items stay the callers'."""
    if traces is None:
        return {}
    theirs = caller_side(traces)
    callers: dict[str, set[str]] = {}
    for e in traces.edges:
        if e.gap_score > 0 and (e.caller, e.callee) not in theirs:
            callers.setdefault(e.callee, set()).add(e.caller)
    timed: dict[str, list[EvidenceDraft]] = {}
    for d in drafts:
        if d.service and evidence_group(d) is SignalGroup.DOWNSTREAM:
            timed.setdefault(d.service, []).append(d)
    found = {
        callee: [d for caller in sorted(them) for d in timed.get(caller, [])]
        for callee, them in callers.items()
    }
    return {callee: items for callee, items in found.items() if items}
