"""What the agent shows the model: the tools, the seeded context, tool results, the last ask.

The model sees rcabot's facts (question, window, ranked candidates) and numbered evidence,
nothing else: every telemetry text is an :class:`Evidence` item that went through the text
pipeline, escaped (:func:`bot.llm.answer_prompt.escape_data`) into an ``<evidence>`` block no
log line can close. A tool result is shown as its status, its (gateway-cleaned) error and its
evidence items, numbered after the ones the model already has; ``ToolResult.data`` never is.
The tools come from the gateway's registry only, never from text the model read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.investigation.conversation import CarriedTurn
from bot.investigation.report import Report
from bot.llm.answer import MAX_STATEMENTS
from bot.llm.answer_prompt import escape_data, evidence_block
from bot.llm.model import Message, ToolCall, ToolSpec
from prompts import render
from tools.evidence import Evidence, EvidenceDraft
from tools.result import ToolResult
from tools.tool import Tool

MAX_ITEMS_PER_CALL = 5  # evidence items of one tool result numbered (highest score first)
MAX_ARGUMENT_CHARS = 400  # of a call's arguments, shown back to the model


def tool_specs(tools: Iterable[Tool[..., Any]]) -> list[ToolSpec]:
    """The registry's tools as the model is given them (name, description, JSON schema)."""
    return [ToolSpec(t.name, t.description, t.input_schema()) for t in tools]


def call_signature(call: ToolCall) -> str:
    """Identifies a call by what it does (name and arguments), not by the model's call id."""
    return call.name + json.dumps(call.arguments, sort_keys=True, default=str)


@dataclass
class EvidenceBook:
    """Every evidence item the model has seen, numbered E1, E2, ... without gaps; an item
    whose key is already numbered keeps its id."""

    items: list[Evidence] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = {e.key: e.id for e in self.items}

    def add(self, drafts: Sequence[EvidenceDraft], limit: int = MAX_ITEMS_PER_CALL) -> list[str]:
        """Number the ``limit`` highest-scored of ``drafts`` (already through the text
        pipeline, as the gateway returns them); the ids of all of them, in that order."""
        ids: list[str] = []
        for draft in sorted(drafts, key=lambda d: -d.score)[:limit]:
            if draft.key not in self._ids:
                number = len(self.items) + 1
                self.items.append(Evidence.number(draft, number))
                self._ids[draft.key] = f"E{number}"
            ids.append(self._ids[draft.key])
        return list(dict.fromkeys(ids))

    def by_id(self) -> dict[str, Evidence]:
        return {e.id: e for e in self.items}


def _facts(report: Report, question: str, turns: Sequence[CarriedTurn]) -> dict[str, Any]:
    return {
        "question": escape_data(question),
        "scope": escape_data(report.scope),
        "window_start": report.window.start.isoformat(),
        "window_end": report.window.end.isoformat(),
        "incident_start": escape_data(report.incident_start),
        "candidates": [
            {
                "rank": c.rank,
                "service": escape_data(c.service),
                "fault": c.fault_type.value,
                "score": f"{c.score:.2f}",
                "propagated": c.propagated,
                "evidence": ", ".join(c.evidence_ids) or "none",
            }
            for c in report.candidates
        ],
        "turns": [
            {"question": escape_data(t.question), "answer": escape_data(t.answer)} for t in turns
        ],
    }


def seed_messages(
    report: Report,
    question: str,
    turns: Sequence[CarriedTurn],
    evidence: Sequence[Evidence],
    max_tool_calls: int,
) -> list[Message]:
    """The tool loop's first messages: the rules, then everything the investigation found."""
    user = render(
        "agent_user",
        **_facts(report, question, turns),
        evidence=[evidence_block(e) for e in evidence],
        max_tool_calls=max_tool_calls,
    )
    system = render("agent_system", phase="tools", max_tool_calls=max_tool_calls)
    return [Message(role="system", content=system), Message(role="user", content=user)]


def tool_message(
    call: ToolCall,
    result: ToolResult[Any] | None,
    ids: Sequence[str],
    book: EvidenceBook,
    refused: str | None = None,
) -> Message:
    """The answer to ``call``: why it was not run, or the result's status, error and the
    evidence it produced (new items in full, items already shown by id)."""
    by_id = book.by_id()
    content = render(
        "agent_tool_result",
        tool=escape_data(call.name),
        refused=refused,
        status=result.status.value if result else "",
        error=escape_data(result.error or "") if result else "",
        warnings=[escape_data(w) for w in (result.warnings if result else [])][:3],
        evidence=[evidence_block(by_id[i]) for i in ids],
    )
    return Message(role="tool", content=content, tool_call_id=call.id)


def answer_messages(
    report: Report,
    question: str,
    turns: Sequence[CarriedTurn],
    evidence: Sequence[Evidence],
    tool_notes: Sequence[str],
) -> list[Message]:
    """The last call: answer ``question`` as JSON statements from all the evidence gathered."""
    user = render(
        "agent_answer",
        **_facts(report, question, turns),
        evidence=[evidence_block(e) for e in evidence],
        ids=", ".join(e.id for e in evidence) or "none",
        notes=[escape_data(n) for n in tool_notes],
    )
    system = render("agent_system", phase="answer", max_statements=MAX_STATEMENTS)
    return [Message(role="system", content=system), Message(role="user", content=user)]


def shown_arguments(arguments: Mapping[str, Any]) -> str:
    """A call's arguments as one short line (for the notes of what was called)."""
    text = json.dumps(arguments, sort_keys=True, default=str)
    return text if len(text) <= MAX_ARGUMENT_CHARS else text[: MAX_ARGUMENT_CHARS - 1] + "…"
