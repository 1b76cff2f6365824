"""The compact evidence block a model reads, and its size in tokens.

The model never sees raw telemetry: only numbered evidence (title, summary, short excerpt),
rendered from ``prompts/evidence.j2``. ``estimate_tokens`` approximates a BPE tokenizer (words,
numbers and punctuation, long words split every 4 characters); the LLM client replaces it with
the served model's own count.
"""

from __future__ import annotations

import re

from prompts import render
from tools.evidence import Evidence

_PIECES = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]")


def compact_evidence(evidence: list[Evidence]) -> str:
    return render("evidence", evidence=evidence)


def estimate_tokens(text: str) -> int:
    count = 0
    for piece in _PIECES.findall(text):
        count += 1 + (len(piece) - 1) // 4 if piece.isalpha() else 1 + (len(piece) - 1) // 3
    return count
