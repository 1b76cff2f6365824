"""Clipping to a field's limit, the last step of the pipeline."""

from __future__ import annotations

ELLIPSIS = "…"


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def clip(text: str, limit: int) -> str:
    """``text`` stripped and, when longer than ``limit`` characters, cut and marked with "…".

    A cut inside a word backs off to the word's start, so the kept text never ends in a fragment
    that a pattern would read differently — a 20-digit id cut to 16 digits is not a card number;
    only a text that is one word is cut inside it. The result is never longer than ``limit``.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    text = text.strip()
    if len(text) <= limit:
        return text
    end = limit - 1
    if _word(text[end]):
        back = end
        while back > 0 and _word(text[back - 1]):
            back -= 1
        if back > 0:
            end = back
    return text[:end].rstrip() + ELLIPSIS
