from __future__ import annotations

import pytest
from slack_sdk.models.blocks import Block

from bot.slack import kit


def test_sections_split_long_text_and_mark_what_did_not_fit() -> None:
    text = "\n".join(f"line {n} " + "x" * 990 for n in range(20))
    blocks = kit.sections(text, 3)
    assert len(blocks) == 3
    assert all(len(b["text"]["text"]) <= kit.SECTION_CHARS for b in blocks)
    assert blocks[0]["text"]["text"].startswith("line 0 ")
    assert blocks[-1]["text"]["text"].endswith("…")


def test_header_is_plain_neutral_text_within_its_limit() -> None:
    block = kit.header("<!channel> @here " + "word " * 100)
    assert len(block["text"]["text"]) <= kit.HEADER_CHARS
    assert block["text"]["text"].startswith("‹!channel› ＠here ")
    assert Block.parse(block) is not None


def test_context_without_text_is_still_valid() -> None:
    block = kit.context("", "  ")
    parsed = Block.parse(block)
    assert parsed is not None and parsed.to_dict() == block


def test_buttons_refuse_ids_and_values_slack_would_reject() -> None:
    with pytest.raises(ValueError, match="action_id"):
        kit.button("Go", "a" * (kit.ACTION_ID_CHARS + 1), "v")
    with pytest.raises(ValueError, match="value"):
        kit.button("Go", "go", "v" * (kit.VALUE_CHARS + 1))
    with pytest.raises(ValueError, match="value"):
        kit.feedback("fb", "p" * (kit.VALUE_CHARS + 1), "n")


def test_fallback_is_plain_escaped_and_bounded() -> None:
    text = kit.fallback("*Most likely cause:* db <!here>", "", "x" * 5_000)
    assert text.startswith("Most likely cause: db ‹!here›\n")
    assert len(text) <= kit.FALLBACK_CHARS and "<" not in text
