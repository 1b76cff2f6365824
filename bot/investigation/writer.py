"""The deterministic writer: an answer built only from ranked candidates and their evidence.

It is the fallback when no model is configured, down or slow, and the baseline any model's
answer is compared with. Every sentence cites the evidence it restates.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.investigation.report import Candidate, FaultType
from tools.evidence import Evidence

FAULT_WORDS: dict[FaultType, str] = {
    FaultType.BAD_DEPLOY: "a bad change (deploy/config)",
    FaultType.EXCEPTION: "exceptions in the service's code",
    FaultType.ERROR_RETURN: "the service returning errors",
    FaultType.ERRORS: "errors originating in the service",
    FaultType.LATENCY: "slow processing in the service",
    FaultType.CPU: "CPU saturation",
    FaultType.MEMORY: "memory growth",
    FaultType.RESOURCE_EXHAUSTION: "an exhausted resource (pool, disk, file descriptors, threads)",
    FaultType.NETWORK_DELAY: "network delay on calls to the service",
    FaultType.DEPENDENCY_OUTAGE: "the dependency being unavailable",
    FaultType.UNKNOWN: "an anomaly of unclear kind",
}
MAX_CITED = 4


def _cite(ids: Sequence[str]) -> str:
    return " ".join(f"[{i}]" for i in ids)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text


def hypothesis(candidate_service: str, fault: FaultType, items: Sequence[Evidence]) -> str:
    """One sentence stating the hypothesis and the facts behind it, each cited."""
    if not items:
        return f"{candidate_service}: {FAULT_WORDS[fault]}."
    changes = [e for e in items if e.source.value == "change"]
    facts = [e for e in items if e.source.value != "change"][: MAX_CITED - len(changes[:1])]
    parts = [f"{_lower_first(e.title)} [{e.id}]" for e in facts]
    if fault is FaultType.BAD_DEPLOY and changes:
        lead = f"{changes[0].title} [{changes[0].id}]"
        return f"{lead} was followed by " + "; ".join(parts) + "." if parts else lead + "."
    return f"{FAULT_WORDS[fault].capitalize()}: " + "; ".join(parts) + "."


def write_answer(
    scope_label: str,
    alert_evidence: Evidence | None,
    candidates: Sequence[Candidate],
    evidence: dict[str, Evidence],
    matches: Sequence[Evidence] = (),
    seen_before: Sequence[Evidence] = (),
    unread: Sequence[str] = (),
) -> str:
    """The deterministic answer; ``unread`` says which telemetry sources could not be read
    (``"logs could not be read (HTTP 503)"``), said when no candidate came out of the rest."""
    answer = _candidates_answer(scope_label, alert_evidence, candidates, evidence, unread)
    found = " ".join(f"{m.title} [{m.id}]." for m in matches)
    if found:
        answer += f"\n*Matching logs:* {found}"
    similar = " ".join(f"{_upper_first(p.title)} [{p.id}]." for p in seen_before)
    if similar:
        answer += f"\n*Seen before:* {similar}"
    return answer


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _candidates_answer(
    scope_label: str,
    alert_evidence: Evidence | None,
    candidates: Sequence[Candidate],
    evidence: dict[str, Evidence],
    unread: Sequence[str] = (),
) -> str:
    if not candidates:
        if alert_evidence is None:
            return ""
        cite = f"[{alert_evidence.id}]"
        if unread:
            lines = [
                f"{alert_evidence.title} {cite}, but no service showed a significant change in "
                f"the telemetry that could be read {cite}."
            ]
            lines += [f"Not compared with normal: {what} {cite}." for what in unread]
            return "\n".join(lines)
        return (
            f"{alert_evidence.title} {cite}, but no service showed a "
            f"significant change in the telemetry that was available {cite}."
        )
    top = candidates[0]
    trigger = (
        f"{alert_evidence.title} [{alert_evidence.id}]" if alert_evidence else f"The {scope_label}"
    )
    lines = [
        f"*Most likely cause:* {top.service}, {FAULT_WORDS[top.fault_type]} "
        f"{_cite(top.evidence_ids[:2])}.",
        f"{trigger} is best explained by {top.service}: {_lower_first(top.hypothesis)}",
    ]
    symptoms = [c for c in candidates[1:] if c.propagated]
    others = [c for c in candidates[1:] if c not in symptoms]
    if symptoms:
        lines.append(
            "*Symptoms elsewhere:* "
            + " ".join(
                f"{evidence[c.evidence_ids[0]].title} [{c.evidence_ids[0]}]."
                for c in symptoms
                if c.evidence_ids
            )
        )
    if others:
        lines.append(
            "*Other candidates:* "
            + " ".join(
                f"{c.service} ({FAULT_WORDS[c.fault_type]}, score {c.score:.2f}) "
                f"{_cite(c.evidence_ids[:2])}."
                for c in others
                if c.evidence_ids
            )
        )
    return "\n".join(lines)
