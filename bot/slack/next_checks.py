"""What the on-call engineer could check next, derived only from the report.

The suggestions are deterministic: each comes from a top candidate's fault type and the
evidence behind it (with that evidence's exact query where it fits on a line), or from a source
that failed. They are phrased as suggestions, since a ranking is not a diagnosis, and they cite
the evidence they start from, like every other statement rcabot makes.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.investigation.report import Candidate, FaultType, Report, SourceStatus
from bot.slack import mrkdwn
from tools.evidence import Evidence, Source

MOST_CHECKS = 5
CANDIDATES_CHECKED = 3
QUERY_CHARS = 200

# Where to look first for each fault: the evidence sources, most telling first.
_LOOK_AT: dict[FaultType, tuple[Source, ...]] = {
    FaultType.BAD_DEPLOY: (Source.CHANGE, Source.LOGS, Source.METRICS),
    FaultType.EXCEPTION: (Source.LOGS, Source.TRACES, Source.METRICS),
    FaultType.ERROR_RETURN: (Source.TRACES, Source.LOGS, Source.METRICS),
    FaultType.ERRORS: (Source.LOGS, Source.TRACES, Source.METRICS),
    FaultType.LATENCY: (Source.TRACES, Source.METRICS),
    FaultType.NETWORK_DELAY: (Source.TRACES, Source.METRICS),
    FaultType.CPU: (Source.METRICS,),
    FaultType.MEMORY: (Source.METRICS,),
    FaultType.RESOURCE_EXHAUSTION: (Source.METRICS, Source.LOGS),
    FaultType.DEPENDENCY_OUTAGE: (Source.TRACES, Source.LOGS, Source.METRICS),
    FaultType.UNKNOWN: (),
}


def _starting_point(candidate: Candidate, by_id: dict[str, Evidence]) -> Evidence | None:
    items = [by_id[i] for i in candidate.evidence_ids if i in by_id]
    for source in _LOOK_AT[candidate.fault_type]:
        for evidence in items:
            if evidence.source is source:
                return evidence
    return items[0] if items else None


def _suggestion(candidate: Candidate, evidence: Evidence | None) -> str:
    """The check as untrusted text with ``[E#]`` markers (escaped and linked later)."""
    svc = candidate.service
    cite = f" [{evidence.id}]" if evidence is not None else ""
    source = evidence.source if evidence is not None else None
    match candidate.fault_type:
        case FaultType.BAD_DEPLOY if source is Source.CHANGE and evidence is not None:
            return (
                f"Compare {svc}'s last change ({evidence.title}){cite} with the version before "
                "it; roll it back if the symptoms started right after it."
            )
        case FaultType.BAD_DEPLOY:
            return (
                f"Look for a deploy or config change to {svc} just before the incident{cite}; "
                "roll it back if the timing matches."
            )
        case FaultType.EXCEPTION:
            return (
                f"Find where {svc}'s code now fails{cite}: the first stack trace, or the "
                "operation that stopped writing its usual log lines; roll back if it is new code."
            )
        case FaultType.ERROR_RETURN:
            return (
                f"Read which requests {svc} now answers with errors{cite}, and why it refuses "
                "them (bad input, a missing record, a failing check)."
            )
        case FaultType.ERRORS:
            return f"Read {svc}'s new errors{cite} and the first stack trace among them."
        case FaultType.LATENCY if source is Source.TRACES:
            return f"Open the slowest trace{cite} and see which of {svc}'s spans takes the time."
        case FaultType.LATENCY:
            return f"Check {svc}'s latency{cite} against its callers' timeouts."
        case FaultType.NETWORK_DELAY:
            return (
                f"Check the network path to {svc} (packet loss, retransmits, DNS){cite}; "
                "its own processing may be healthy."
            )
        case FaultType.CPU:
            return f"Check {svc}'s CPU{cite}; scale it out or restart it if it is still saturated."
        case FaultType.MEMORY:
            return (
                f"Check {svc}'s memory{cite}; restart it or roll back if it is still growing "
                "(a leak)."
            )
        case FaultType.RESOURCE_EXHAUSTION:
            return (
                f"Check what {svc} ran out of{cite} (pool, connections, disk, file "
                "descriptors, threads); find who holds it, then raise the limit or restart."
            )
        case FaultType.DEPENDENCY_OUTAGE:
            return f"Check that {svc} is up and reachable from its callers{cite}."
        case _:
            return f"Look at {svc}'s strongest signal{cite}."


def _restore(status: SourceStatus) -> str:
    detail = f": {status.detail}" if status.detail else ""
    return (
        f"Restore the {status.source} source ({status.backend}){detail}; then ask again, as this "
        "answer could not use it."
    )


def _candidate_checks(report: Report) -> list[str]:
    by_id = report.evidence_by_id()
    # a propagated candidate is likely a symptom: check the causes (symptoms only if all are)
    causes = [c for c in report.candidates if not c.propagated] or report.candidates
    checks: list[str] = []
    for candidate in causes[:CANDIDATES_CHECKED]:
        evidence = _starting_point(candidate, by_id)
        check = mrkdwn.cite_links(_suggestion(candidate, evidence), by_id)
        # the exact query, where an inline code span can hold it (the evidence pages always do)
        code = mrkdwn.inline_code(evidence.query, QUERY_CHARS) if evidence is not None else None
        checks.append(check + (f" Query: {code}" if code else ""))
    return checks


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def next_checks(report: Report, most: int = MOST_CHECKS) -> list[str]:
    """Up to ``most`` suggested checks as escaped mrkdwn lines (no bullet), the candidates'
    first and at least one per failed source (two at most) when there are any."""
    restores = _unique(
        [
            mrkdwn.clip(mrkdwn.inert(_restore(s), multiline=False), 600)
            for s in report.failed_sources
        ]
    )
    room = most - min(len(restores), 2)
    checks = _unique(_candidate_checks(report))[:room]
    return [*checks, *restores][:most]
