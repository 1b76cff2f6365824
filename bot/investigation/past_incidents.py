"""Past incidents like this one: what to ask the postmortem index, and which answers to cite.

The query is the symptom, the top suspect and its findings (:func:`similar_incident_query`);
an answer is cited as *seen before* only where both retrievers rank it near the top and its
text is close in meaning (:func:`seen_before`): ranks alone say "most alike", which in a small
index (a team's first confirmed causes) is any document.
"""

from __future__ import annotations

from bot.investigation.ranking import RankedService
from bot.investigation.request import InvestigationRequest
from bot.investigation.writer import FAULT_WORDS
from tools.evidence import EvidenceDraft
from tools.postmortems import Hit
from tools.result import ToolResult

SIMILAR_K = 3
STRONG_RANK = 3  # a past incident is "seen before" when BM25 and embeddings both rank it this high
# ... and its text is this alike (cosine, all-MiniLM-L6-v2): ranks alone say "most alike", which
# in a small index (a team's first confirmed causes) is any document. Calibrated on the demo's
# 6 faults × 6 (a confirmed cause vs. a recurrence with another seed): the same fault scored
# 0.67-0.81, another fault 0.22-0.58.
MIN_SIMILARITY = 0.6


def similar_incident_query(
    request: InvestigationRequest, ranked: list[RankedService], drafts: list[EvidenceDraft]
) -> str:
    """What to look for in past postmortems: the symptom, the top suspect and its findings."""
    parts = [request.question, request.alert.summary if request.alert else ""]
    if ranked:
        top = ranked[0]
        parts.append(f"{top.service}: {FAULT_WORDS[top.fault_type]}")
        by_key = {d.key: d for d in drafts}
        parts += [by_key[k].title for k in top.evidence_keys[:3] if k in by_key]
    elif request.service:
        parts.append(request.service)
    return ". ".join(p for p in parts if p) or "incident"


def seen_before(result: ToolResult[list[Hit]]) -> list[EvidenceDraft]:
    """The postmortem evidence both retrievers rank near the top and that is close in meaning
    (the rest is not cited)."""
    strong = {
        f"postmortem:{h.document.doc_id}"
        for h in result.data or []
        if (h.bm25_rank or STRONG_RANK + 1) <= STRONG_RANK
        and (h.dense_rank or STRONG_RANK + 1) <= STRONG_RANK
        and (h.similarity or 0.0) >= MIN_SIMILARITY
    }
    return [d for d in result.evidence if d.key in strong]
