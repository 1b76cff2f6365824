"""The one-call writer's prompt: rcabot's facts, then the evidence as escaped data blocks.

Telemetry reaches the model only inside ``<question>`` and ``<evidence>`` blocks, after the text
pipeline (redaction, neutralised markup, defused ``[E#]`` markers) and after escaping ``&``,
``<``, ``>`` and ``"``: no log line, alert annotation or postmortem can close a block, open a
fake one or fake a turn of the conversation. Candidates are given as structured facts (service,
fault, score, ids), never as their free-text hypotheses.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.investigation.report import Report
from bot.llm.answer import MAX_STATEMENTS
from bot.llm.model import Message
from prompts import EXCERPT_CHARS, render
from tools.evidence import Evidence

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def escape_data(text: str) -> str:
    """``text`` safe inside a data block or attribute: one line, nothing that closes a tag."""
    return " ".join(text.split()).translate(_ESCAPES)


def evidence_block(item: Evidence) -> dict[str, str]:
    """One evidence item's fields for a data block, each escaped (:func:`escape_data`)."""
    return {
        "id": item.id,
        "source": escape_data(item.source.value),
        "service": escape_data(item.service or ""),
        "title": escape_data(item.title),
        "summary": escape_data(item.summary),
        "excerpt": escape_data(item.excerpt[:EXCERPT_CHARS]),
    }


def answer_messages(
    report: Report, evidence: Sequence[Evidence], trimmed: int = 0
) -> list[Message]:
    """The system and user messages asking for ``report``'s answer from ``evidence``."""
    given = {e.id for e in evidence}
    candidates = [
        {
            "rank": c.rank,
            "service": escape_data(c.service),
            "fault": c.fault_type.value,
            "score": f"{c.score:.2f}",
            "propagated": c.propagated,
            "evidence": ", ".join(i for i in c.evidence_ids if i in given) or "none",
        }
        for c in report.candidates
    ]
    user = render(
        "answer_user",
        question=escape_data(report.question),
        scope=escape_data(report.scope),
        incident_start=escape_data(report.incident_start),
        candidates=candidates,
        ids=", ".join(e.id for e in evidence) or "none",
        trimmed=trimmed,
        evidence=[evidence_block(e) for e in evidence],
    )
    system = render("answer_system", max_statements=MAX_STATEMENTS)
    return [Message(role="system", content=system), Message(role="user", content=user)]
