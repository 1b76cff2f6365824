"""The conversation type: bounded, serialisable, renumbered for a follow-up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.investigation.conversation import (
    MAX_ANSWER_CHARS,
    MAX_TURN_EVIDENCE,
    MAX_TURNS,
    Conversation,
    Turn,
    carry,
    read_conversation,
)
from tools.errors import InvestigationError
from tools.evidence import Evidence, Source
from tools.text import TextPipeline

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)


def item(n: int, key: str | None = None) -> Evidence:
    return Evidence(
        id=f"E{n}", key=key or f"k{n}", source=Source.LOGS, title=f"t{n}", summary="s", query="q"
    )


def test_a_conversation_is_bounded_and_round_trips_as_json() -> None:
    turns = [
        Turn(question=f"q{i}", answer="a" * 10_000, evidence=[item(1)], answered_at=AT)
        for i in range(MAX_TURNS + 3)
    ]
    conversation = Conversation(turns=turns)
    assert len(conversation.turns) == MAX_TURNS and conversation.turns[0].question == "q3"
    assert len(conversation.turns[0].answer) == MAX_ANSWER_CHARS
    assert Conversation.model_validate_json(conversation.model_dump_json()) == conversation


def test_a_turn_keeps_the_evidence_its_answer_cites_first() -> None:
    many = [item(n) for n in range(1, MAX_TURN_EVIDENCE + 6)]
    last = many[-1].id
    turn = Turn(question="q", answer=f"It broke [{last}].", evidence=many, answered_at=AT)
    assert len(turn.evidence) == MAX_TURN_EVIDENCE and turn.evidence[0].id == last


def test_carry_renumbers_after_the_report_and_reuses_known_keys() -> None:
    turn = Turn(
        question="<!channel> what?",
        answer="Known [E1], new [E2], gone [E7].",
        evidence=[item(1, key="shared"), item(2, key="fresh")],
        answered_at=AT,
    )
    report_evidence = [item(1, key="a"), item(2, key="shared")]
    carried = carry(Conversation(turns=[turn]), report_evidence, TextPipeline())
    assert [(e.id, e.key) for e in carried.evidence] == [
        ("E1", "a"),
        ("E2", "shared"),
        ("E3", "fresh"),
    ]
    (shown,) = carried.turns
    assert shown.answer == "Known [E2], new [E3], gone ."
    assert "<!channel>" not in shown.question


@pytest.mark.parametrize(
    "content",
    ["not json", '{"turns": [{"question": "q"}]}', '{"version": "9", "turns": []}', "[]"],
)
def test_a_bad_history_file_is_one_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "history.json"
    path.write_text(content)
    with pytest.raises(InvestigationError, match=r"--history .*history\.json: not a conversation"):
        read_conversation(path)
