"""The compact evidence block a model reads, and its size in tokens.

The model never sees raw telemetry: only numbered evidence (title, summary, short excerpt).
``estimate_tokens`` approximates a BPE tokenizer (words, numbers and punctuation runs, long
words split every 4 characters); the LLM client replaces it with the served model's own count.
"""

from __future__ import annotations

import re

from bot.evidence import Evidence

_PIECES = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]")
EXCERPT_CHARS = 200


def compact_evidence(evidence: list[Evidence]) -> str:
    lines = []
    for item in evidence:
        where = f"{item.source.value}" + (f", {item.service}" if item.service else "")
        line = f"[{item.id}] ({where}) {item.title}: {item.summary}"
        if item.excerpt:
            excerpt = " ".join(item.excerpt.split())[:EXCERPT_CHARS]
            line += f" | excerpt: {excerpt}"
        lines.append(line)
    return "\n".join(lines)


def estimate_tokens(text: str) -> int:
    count = 0
    for piece in _PIECES.findall(text):
        count += 1 + (len(piece) - 1) // 4 if piece.isalpha() else 1 + (len(piece) - 1) // 3
    return count
