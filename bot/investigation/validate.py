"""Uncited claims are removed in code: every statement must cite evidence that exists.

The answer is split into statements (lines, then sentences). Citations of unknown ids are
stripped; a statement left with no valid citation is dropped and listed in the report, so a
model cannot slip in a claim the evidence does not back. Markdown headings pass through.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.investigation.report import CITATION

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*_`•(\[-])")
_ANY_CITATION = re.compile(r"\s*\[E\d+\]")


@dataclass(frozen=True)
class Validated:
    text: str
    dropped: list[str]


def _keep_statement(statement: str, known: Collection[str]) -> str | None:
    def replace(match: re.Match[str]) -> str:
        return match.group(0) if match.group(1) in known else ""

    cleaned = CITATION.sub(replace, statement)
    if not any(ref in known for ref in CITATION.findall(cleaned)):
        return None
    return re.sub(r"\s+([.,;:])", r"\1", cleaned).strip()


def validate_answer(text: str, known_ids: Collection[str]) -> Validated:
    kept_lines: list[str] = []
    dropped: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            kept_lines.append(line)
            continue
        prefix = line[: len(line) - len(line.lstrip())]
        bullet = re.match(r"^([-*•]|\d+[.)])\s+", stripped)
        marker = bullet.group(0) if bullet else ""
        kept = []
        for sentence in _SENTENCE_END.split(stripped[len(marker) :]):
            if not sentence.strip():
                continue
            result = _keep_statement(sentence, known_ids)
            if result is None:
                dropped.append(_ANY_CITATION.sub("", sentence).strip())
            else:
                kept.append(result)
        if kept:
            kept_lines.append(prefix + marker + " ".join(kept))
    cleaned = "\n".join(kept_lines).strip()
    return Validated(re.sub(r"\n{3,}", "\n\n", cleaned), dropped)
