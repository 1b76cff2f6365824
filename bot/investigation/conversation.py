"""A conversation: the previous turns of a thread, passed with a follow-up question.

The Slack thread (later) and ``rcabot ask --history FILE`` hand the agent what was asked and
answered before, with the evidence each answer cited, so a follow-up ("and the db?") is
answered in context. The type is bounded, whatever produced it: at most :data:`MAX_TURNS`
turns (the oldest are dropped), each with clipped text and at most :data:`MAX_TURN_EVIDENCE`
evidence items (those the answer cites first). It is plain JSON (``model_dump_json`` /
:meth:`Conversation.model_validate_json`), versioned like the report.

A turn's evidence ids are that turn's own (``E3`` of the report that answered it). A follow-up
gives them new ids continuing its own report's numbering (:func:`carry`), and rewrites the
previous answers' citations to match, so every id the model sees means one item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.investigation.report import CITATION, Report
from tools.errors import InvestigationError
from tools.evidence import Evidence, UtcDatetime, clip
from tools.text import TextPipeline

CONVERSATION_VERSION = "1"
MAX_TURNS = 8
MAX_TURN_EVIDENCE = 12
MAX_QUESTION_CHARS = 2_000
MAX_ANSWER_CHARS = 4_000
MAX_FILE_BYTES = 1_000_000
MAX_CARRIED_EVIDENCE = 16  # a follow-up carries at most this many items of earlier turns


def _clipped(limit: int) -> Callable[[object], object]:
    def clip_text(value: object) -> object:
        return clip(value, limit) if isinstance(value, str) else value

    return clip_text


class Turn(BaseModel):
    """One question of a thread, its answer (with ``[E#]`` citations) and that evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: Annotated[str, BeforeValidator(_clipped(MAX_QUESTION_CHARS))]
    answer: Annotated[str, BeforeValidator(_clipped(MAX_ANSWER_CHARS))]
    evidence: list[Evidence] = Field(default_factory=list)
    answered_at: UtcDatetime

    @field_validator("evidence")
    @classmethod
    def _bounded(cls, evidence: list[Evidence], info: ValidationInfo) -> list[Evidence]:
        if len({e.id for e in evidence}) != len(evidence):
            raise ValueError("duplicate evidence ids in a turn")
        cited = set(CITATION.findall(str(info.data.get("answer", ""))))
        kept = [e for e in evidence if e.id in cited] + [e for e in evidence if e.id not in cited]
        return kept[:MAX_TURN_EVIDENCE] if len(evidence) > MAX_TURN_EVIDENCE else evidence

    @classmethod
    def from_report(cls, report: Report, answered_at: datetime | None = None) -> Turn:
        """The turn ``report`` answered: its question, answer, and the evidence the answer
        cites (the top candidate's when it cites none)."""
        by_id = report.evidence_by_id()
        ids = list(dict.fromkeys(CITATION.findall(report.answer)))
        if not ids and report.candidates:
            ids = report.candidates[0].evidence_ids
        return cls(
            question=report.question,
            answer=report.answer,
            evidence=[by_id[i] for i in ids if i in by_id][:MAX_TURN_EVIDENCE],
            answered_at=answered_at or datetime.now(UTC),
        )


class Conversation(BaseModel):
    """The previous turns of a thread, oldest first (only the last :data:`MAX_TURNS` kept)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = CONVERSATION_VERSION
    turns: list[Turn] = Field(default_factory=list)

    @field_validator("version")
    @classmethod
    def _known_version(cls, version: str) -> str:
        if version != CONVERSATION_VERSION:
            raise ValueError(f"unsupported conversation version {version!r}")
        return version

    @field_validator("turns")
    @classmethod
    def _last_turns(cls, turns: list[Turn]) -> list[Turn]:
        return turns[-MAX_TURNS:]

    def then(self, turn: Turn) -> Conversation:
        """This conversation followed by ``turn`` (still bounded)."""
        return Conversation(turns=[*self.turns, turn])


def read_conversation(path: Path, option: str = "--history") -> Conversation:
    """The conversation in the JSON file ``path``; :class:`InvestigationError` (one line) when
    it cannot be read or is not a valid conversation."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvestigationError(f"{option} {path}: cannot read it: {exc.strerror}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise InvestigationError(f"{option} {path}: larger than {MAX_FILE_BYTES} bytes")
    try:
        return Conversation.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvestigationError(
            f"{option} {path}: not a conversation: {where}: {first['msg']}{more}"
        ) from exc


def write_conversation(
    path: Path, conversation: Conversation, option: str = "--save-history"
) -> None:
    """Write ``conversation`` to ``path`` as JSON; :class:`InvestigationError` when it cannot."""
    try:
        path.write_text(conversation.model_dump_json(indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvestigationError(f"{option} {path}: cannot write it: {exc.strerror}") from exc


@dataclass(frozen=True)
class CarriedTurn:
    """A previous turn as a follow-up shows it: its answer cites the follow-up's ids."""

    question: str
    answer: str


@dataclass(frozen=True)
class Carried:
    evidence: list[Evidence]  # the report's evidence, then the turns' not already in it
    turns: list[CarriedTurn]


def carry(
    conversation: Conversation | None,
    evidence: Sequence[Evidence],
    text: TextPipeline,
    limit: int = MAX_CARRIED_EVIDENCE,
) -> Carried:
    """Number the turns' evidence after ``evidence`` (an item with a key already there keeps
    that id) and rewrite each answer's citations to the new ids (unknown ones are removed).
    At most ``limit`` new items are carried, the latest turns' first.

    Every text that came with the conversation goes through ``text`` (the questions, the
    answers between their citations, the evidence): a thread's history is input, not trusted.
    """
    items = list(evidence)
    by_key = {e.key: e.id for e in items}
    history = conversation.turns if conversation else []
    chosen: set[str] = set()
    for turn in reversed(history):
        for item in turn.evidence:
            if item.key not in by_key and len(chosen) < limit:
                chosen.add(item.key)
    turns: list[CarriedTurn] = []
    for turn in history:
        renumbered: dict[str, str] = {}
        for item in turn.evidence:
            if item.key not in by_key and item.key in chosen:
                by_key[item.key] = new_id = f"E{len(items) + 1}"
                draft = text.evidence(item).model_dump(exclude={"id"})
                items.append(Evidence(id=new_id, **draft))
            if item.key in by_key:
                renumbered[item.id] = by_key[item.key]
        question = text(turn.question, MAX_QUESTION_CHARS)
        turns.append(CarriedTurn(question, _recite(turn.answer, renumbered, text)))
    return Carried(items, turns)


_SPLIT = re.compile(r"(\[E[1-9][0-9]*\])")


def _recite(answer: str, renumbered: dict[str, str], text: TextPipeline) -> str:
    parts = []
    for piece in _SPLIT.split(answer):
        found = CITATION.fullmatch(piece)
        if found:
            new = renumbered.get(found.group(1))
            parts.append(f"[{new}]" if new else "")
        else:
            core = piece.strip()
            lead, trail = piece[: len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()) :]
            parts.append(lead + text(core, MAX_ANSWER_CHARS) + trail if core else piece)
    return "".join(parts)
