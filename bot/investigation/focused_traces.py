"""A second look at the lead candidates' traces, where the first sample held too few of them.

``trace_attribution`` samples the newest traces of each period, whatever they pass through
(``Limits.trace_sample``). A service on a rare path (an order's checkout, one request in ten)
can be in fewer than ``MIN_SAMPLES`` of them on one side of the start, and its own time is then
not compared at all: a checkout at its CPU limit has its CPU to show and no trace finding,
however much longer its spans took. The on-call engineer's next step is the one taken here:
search the traces *through that service* (Jaeger's and Tempo's searches take a service). For
each of the first :data:`LEADS` candidates the first sample left thin, the engine samples the
traces through it over the same periods, that finding replaces the thin one, and the
candidates are ranked again (:func:`bot.investigation.candidates.rank_candidates`).

Only the service's own finding and its own evidence are taken from a focused sample: the other
services' shares there are of traces chosen for passing through it, not of the traffic. Its own
figures compare like with like: traces through it, before the start (or in the reference) and
after.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeGuard

from bot.investigation.ranking import RankedService
from tools.analysis.span_attribution import ServiceTraceFinding, TraceAnalysis
from tools.concurrency import gather_all
from tools.evidence import EvidenceDraft, TimeWindow
from tools.gateway import ToolGateway
from tools.trace_attribution import trace_attribution

LEADS = 3  # the candidates an engineer reads first: worth a query each


@dataclass(frozen=True)
class SecondLook:
    analysis: TraceAnalysis | None  # the first one, with the focused findings in place
    drafts: list[EvidenceDraft] = field(default_factory=list)  # the focused services' own
    notes: list[str] = field(default_factory=list)

    def cited_with(self, drafts: list[EvidenceDraft]) -> list[EvidenceDraft]:
        """``drafts`` with the focused services' own in place of any under the same key."""
        keys = {d.key for d in self.drafts}
        return [d for d in drafts if d.key not in keys] + self.drafts


def compared(finding: ServiceTraceFinding | None) -> TypeGuard[ServiceTraceFinding]:
    """Its own time compared: enough traces through it on both sides of the start."""
    return (
        finding is not None
        and finding.baseline_critical_ms is not None
        and finding.incident_critical_ms is not None
    )


def thin_leads(ranked: list[RankedService], analysis: TraceAnalysis | None) -> list[str]:
    """The first :data:`LEADS` candidates whose own time the trace sample could not compare,
    where there were traces on both sides to sample from."""
    if analysis is None or not analysis.incident_traces:
        return []
    if not analysis.baseline_traces and not analysis.reference_traces:
        return []  # no trace before the start: a focused sample has none either
    leads = [r.service for r in ranked[:LEADS]]
    return [s for s in leads if not compared(analysis.services.get(s))]


async def second_look(
    gateway: ToolGateway,
    window: TimeWindow,
    start: datetime,
    reference: TimeWindow | None,
    ranked: list[RankedService],
    analysis: TraceAnalysis | None,
) -> SecondLook:
    """Sample the traces through each thin lead (:func:`thin_leads`) and put its finding from
    that sample in place of the first; ``analysis`` itself when there is nothing to replace."""
    leads = thin_leads(ranked, analysis)
    if analysis is None or not leads:
        return SecondLook(analysis)
    looks = await gather_all(
        *(
            gateway.call(
                trace_attribution,
                window=window,
                incident_start=start,
                service=service,
                reference=reference,
            )
            for service in leads
        )
    )
    replaced: dict[str, ServiceTraceFinding] = {}
    drafts: list[EvidenceDraft] = []
    notes = []
    for service, look in zip(leads, looks, strict=True):
        if look.data is None:
            notes.append(f"a second look at the traces through {service} failed: {look.error}")
            continue
        finding = look.data.services.get(service)
        if not compared(finding):
            continue
        replaced[service] = finding
        drafts += [d for d in look.evidence if d.service == service]
        before = "in the reference period" if finding.reference else "before the start"
        notes.append(
            f"{service} was in too few of the sampled traces to compare its own time: its trace "
            f"figures are from the traces through it, {finding.baseline_traces} {before} and "
            f"{finding.incident_traces} after"
        )
    if not replaced:
        return SecondLook(analysis, notes=notes)
    services = {**analysis.services, **replaced}
    return SecondLook(replace(analysis, services=services), drafts, notes)
