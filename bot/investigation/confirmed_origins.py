"""Error origins that another record confirms: a closed test's second step across modalities.

The share of traces whose errors originate in a service is a finding at p <= 0.001 (Fisher's
exact test, :func:`tools.analysis.surprise.share_rose`), which a thin normal sample makes hard
to reach: 7 failing traces of 49 against 0 of 76 before is p ≈ 0.001. When the service's own
ERROR lines rose significantly (a separate record, the logs, at p <= 0.001: its errors rose),
the traces only say *where* the errors originate, and the conventional 5 % suffices there
(:data:`tools.analysis.span_attribution.CONFIRMED`), as an edge into a callee whose calls
already passed needs only 5 % (:mod:`tools.analysis.link_time`). The trace tool cites such
origins (``tools.trace_attribution``, saying the bar they passed); the engine keeps that
evidence only for the services whose ERROR lines rose, and the ranking counts it only for them.
A burst of registry errors that TrainTicket has when healthy passes neither test (9 of 138
traces against 0 of 62: p ≈ 0.03; its 9 ERROR lines in 2.5 minutes against none in 1.2:
p ≈ 0.03).
"""

from __future__ import annotations

from tools.analysis.span_attribution import ServiceTraceFinding, TraceAnalysis
from tools.evidence import EvidenceDraft
from tools.log_patterns import LogFindings
from tools.trace_attribution import origin_key


def errors_rose(logs: LogFindings | None) -> set[str]:
    """The services whose ERROR+ lines rose significantly (an error burst that scores)."""
    return {b.service for b in logs.bursts if b.score > 0} if logs else set()


def origin_score(finding: ServiceTraceFinding, confirmed: set[str]) -> float:
    """The doublings of ``finding``'s error-origin share that count: significant alone, or at
    5 % where its service's ERROR lines rose (``confirmed``)."""
    if finding.error_score > 0 or finding.service not in confirmed:
        return finding.error_score
    return finding.confirmable_error_score


def without_unconfirmed_origins(
    drafts: list[EvidenceDraft], traces: TraceAnalysis | None, logs: LogFindings | None
) -> list[EvidenceDraft]:
    """``drafts`` without the error origins that passed only at 5 % in services whose ERROR
    lines did not rise: no finding there."""
    if traces is None:
        return drafts
    confirmed = errors_rose(logs)
    unconfirmed = {
        origin_key(f.service)
        for f in traces.services.values()
        if f.error_score == 0 and f.service not in confirmed
    }
    return [d for d in drafts if d.key not in unconfirmed]
