"""The answer contract: what the model must return, and what of it is kept.

Plain functions, for the one-call writer (``bot.llm.writer``) and the agent alike::

    ANSWER_SCHEMA: dict                      # JSON schema given to ChatModel.complete_json
    parse_answer(text: str) -> ModelAnswer   # raises ModelOutputError on junk
    check_statements(statements, evidence, services, text, top_service=None) -> Checked
    too_little(checked, required_ids: Collection[str]) -> str | None   # why to fall back
    render_statements(kept: Sequence[Kept]) -> str                     # text with [E3] markers

A statement is kept only if it cites evidence ids that exist **and** every fact in it (service,
number with unit, time, quoted text; see ``bot.llm.grounding``) appears in what it cites. Its
text is made safe (chat markup neutralised, secrets redacted, citation-like markers defused)
before it is shown; its citations come only from its ``evidence`` list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from bot.llm.grounding import grounding_problem
from tools.errors import ModelOutputError
from tools.evidence import Evidence
from tools.text import TextPipeline

MAX_STATEMENTS = 8
MAX_STATEMENT_CHARS = 400
_ID = re.compile(r"^E[1-9][0-9]{0,3}$")


class Statement(BaseModel):
    text: str = Field(max_length=2_000, description="one sentence, plain text, no citations")
    evidence: list[str] = Field(
        default_factory=list, max_length=8, description='ids it rests on, e.g. ["E3"]'
    )


class ModelAnswer(BaseModel):
    statements: list[Statement] = Field(default_factory=list, max_length=32)


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "statements": {
            "type": "array",
            "maxItems": MAX_STATEMENTS,
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "maxLength": MAX_STATEMENT_CHARS},
                    "evidence": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^E[1-9][0-9]{0,3}$"},
                        "minItems": 1,
                        "maxItems": 4,
                    },
                },
                "required": ["text", "evidence"],
            },
        }
    },
    "required": ["statements"],
}


@dataclass(frozen=True, slots=True)
class Kept:
    text: str  # made safe, without citations
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dropped:
    text: str
    reason: str

    def line(self) -> str:
        return f"{self.text} — {self.reason}"


@dataclass(frozen=True, slots=True)
class Checked:
    kept: tuple[Kept, ...]
    dropped: tuple[Dropped, ...]


def parse_answer(text: str) -> ModelAnswer:
    """The model's JSON answer; :class:`ModelOutputError` when it is not one."""
    try:
        return ModelAnswer.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError, RecursionError) as exc:
        raise ModelOutputError(f"the model's answer is not the agreed JSON: {_short(exc)}") from exc


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160]


_INLINE_CITATION = re.compile(r"[\[(（【]\s*E\s*\d+(?:\s*[,;]\s*E\s*\d+)*\s*[\])）】]", re.I)


_CAUSAL = re.compile(r"\b(?:root[- ]cause|caused|causes|cause of|culprit|responsible)\b", re.I)


def contradicts_ranking(text: str, services: Collection[str], top: str | None) -> str | None:
    """A causal statement whose first service named is not rcabot's top candidate."""
    if top is None or not _CAUSAL.search(text):
        return None
    folded = text.casefold()
    named = [
        (m.start(), name)
        for name in services
        if name
        for m in [re.search(rf"(?<![\w.-]){re.escape(name.casefold())}(?![\w-])", folded)]
        if m is not None
    ]
    if named and min(named)[1] != top:
        return f"names {min(named)[1]!r} as the cause; rcabot ranked {top!r} first"
    return None


def check_statement(
    statement: Statement,
    evidence: Mapping[str, Evidence],
    services: Collection[str],
    text: TextPipeline,
    top_service: str | None = None,
) -> Kept | Dropped:
    """One statement kept (made safe) or dropped with the reason."""
    shown = text.line(_INLINE_CITATION.sub(" ", statement.text), MAX_STATEMENT_CHARS)
    shown = " ".join(shown.split())
    if not any(c.isalpha() for c in shown):
        return Dropped(shown or statement.text[:80], "states nothing")
    ids = tuple(dict.fromkeys(i.strip().upper() for i in statement.evidence))
    unknown = [i for i in ids if not _ID.match(i) or i not in evidence]
    if unknown:
        return Dropped(shown, f"cites unknown evidence {', '.join(unknown[:3])}")
    if not ids:
        return Dropped(shown, "cites no evidence")
    problem = grounding_problem(shown, [evidence[i] for i in ids], services)
    problem = problem or contradicts_ranking(shown, services, top_service)
    if problem:
        return Dropped(shown, problem)
    return Kept(shown, ids)


def check_statements(
    statements: Sequence[Statement],
    evidence: Mapping[str, Evidence],
    services: Collection[str],
    text: TextPipeline,
    top_service: str | None = None,
) -> Checked:
    kept: list[Kept] = []
    dropped: list[Dropped] = []
    for statement in statements:
        result = check_statement(statement, evidence, services, text, top_service)
        if isinstance(result, Kept):
            if len(kept) >= MAX_STATEMENTS:
                dropped.append(Dropped(result.text, "too many statements"))
            elif any(k.text.casefold() == result.text.casefold() for k in kept):
                dropped.append(Dropped(result.text, "repeats a statement"))
            else:
                kept.append(result)
        else:
            dropped.append(result)
    return Checked(tuple(kept), tuple(dropped))


def too_little(checked: Checked, required_ids: Collection[str]) -> str | None:
    """Why the kept statements are not enough to replace the deterministic answer, or None.

    Enough means: at least one statement, at least one citing ``required_ids`` (the top
    candidate's evidence) when there are any, and no more statements dropped than kept.
    """
    if not checked.kept:
        if not checked.dropped:
            return "the model returned no statements"
        return f"no statement was grounded ({len(checked.dropped)} dropped)"
    required = set(required_ids)
    if required and not any(required & set(k.evidence) for k in checked.kept):
        return "no grounded statement cites the top candidate's evidence"
    if len(checked.dropped) > len(checked.kept):
        return (
            f"most statements were ungrounded ({len(checked.dropped)} dropped, "
            f"{len(checked.kept)} kept)"
        )
    return None


def render_statement(kept: Kept) -> str:
    body = kept.text.rstrip()
    end = body[-1] if body[-1:] in ("!", "?") else "."
    return f"{body.rstrip('.!?')} {' '.join(f'[{i}]' for i in kept.evidence)}{end}"


def render_statements(kept: Sequence[Kept]) -> str:
    """One statement per line, each with its ``[E#]`` markers before the full stop."""
    return "\n".join(render_statement(k) for k in kept)
