from __future__ import annotations

from bot.investigation.validate import validate_answer


def test_uncited_sentences_are_dropped() -> None:
    result = validate_answer("payments is failing [E1]. The moon is made of cheese.", {"E1"})
    assert result.text == "payments is failing [E1]."
    assert result.dropped == ["The moon is made of cheese."]


def test_unknown_ids_are_stripped_and_a_sentence_left_without_any_is_dropped() -> None:
    result = validate_answer("A fact [E1] [E7]. An invention [E9].", {"E1"})
    assert result.text == "A fact [E1]."
    assert result.dropped == ["An invention."]


def test_bullets_and_headings_keep_their_shape() -> None:
    text = "# Summary\n- cart is slow [E2]\n- made up claim\n1. db pool full [E3]."
    result = validate_answer(text, {"E2", "E3"})
    assert result.text == "# Summary\n- cart is slow [E2]\n1. db pool full [E3]."
    assert result.dropped == ["made up claim"]


def test_everything_uncited_leaves_nothing() -> None:
    result = validate_answer("All good. Nothing to see.", set())
    assert result.text == ""
    assert len(result.dropped) == 2
