"""The text pipeline: the one way untrusted text becomes safe to show."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from tools.evidence import (
    MAX_EXCERPT_CHARS,
    MAX_LINK_CHARS,
    MAX_QUERY_CHARS,
    MAX_SERVICE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    EvidenceDraft,
)
from tools.settings import RedactionSettings
from tools.text.citations import defuse_citations
from tools.text.clip import clip
from tools.text.neutralise import defuse_broadcasts, neutralise
from tools.text.redactor import Redactor

TITLE_CHARS = MAX_TITLE_CHARS
SUMMARY_CHARS = MAX_SUMMARY_CHARS
QUERY_CHARS = MAX_QUERY_CHARS
LINK_CHARS = MAX_LINK_CHARS
EXCERPT_CHARS = MAX_EXCERPT_CHARS
SERVICE_CHARS = MAX_SERVICE_CHARS
LINE_CHARS = 500


class TextPipeline:
    """Makes untrusted text safe for the model, the terminal and Slack.

    ``pipeline(text, limit)``: neutralise (``tools.text.neutralise``) → defuse citation-like
    markers (``tools.text.citations``) → redact (``tools.text.redactor``) → defuse ``@here``
    and friends (after redaction, so ``jane@here.com`` is redacted as an e-mail) → clip to
    ``limit`` (``tools.text.clip``). In that order nothing leaks through a cut (a PEM block is
    redacted before its END could be clipped away) and nothing grows past the limit (a replacement
    longer than its secret is clipped). The result is idempotent: running it on its own output
    changes nothing.
    """

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        self.extra_patterns = tuple(extra_patterns)
        self._redactor = Redactor(self.extra_patterns)

    @classmethod
    def from_settings(cls, settings: RedactionSettings) -> TextPipeline:
        """The pipeline for these settings; built once per pattern list (compiling the rules
        costs milliseconds, and every investigation asks for one)."""
        return _shared(tuple(settings.extra_patterns))

    def redact(self, text: str) -> str:
        """Secrets and PII replaced by ``[REDACTED kind]``; nothing else changes.

        For text that is processed further before it is shown (log messages before template
        mining); what is shown must still go through the whole pipeline.
        """
        return self._redactor(text)

    def __call__(self, text: str, limit: int = LINE_CHARS, *, multiline: bool = True) -> str:
        """``text`` made safe and at most ``limit`` characters; ``multiline=False`` turns
        newlines and tabs into spaces (titles, names, links)."""
        neutral = defuse_citations(neutralise(_bounded(text, limit), multiline=multiline))
        safe = defuse_broadcasts(self._redactor(neutral))
        clipped = clip(safe, limit)
        # a text that is one long word is cut inside it; its fragment is checked once more
        again = self._redactor(clipped)
        return clipped if again == clipped else clip(again, limit)

    def line(self, text: str, limit: int = LINE_CHARS) -> str:
        """One line of safe text: the pipeline with ``multiline=False``."""
        return self(text, limit, multiline=False)

    def strings(self, items: Sequence[str], limit: int = LINE_CHARS) -> list[str]:
        return [self(item, limit) for item in items]

    def evidence(self, draft: EvidenceDraft) -> EvidenceDraft:
        """``draft`` with every text field through the pipeline, each within its limit."""
        return draft.model_copy(
            update={
                "title": self.line(draft.title, TITLE_CHARS),
                "summary": self(draft.summary, SUMMARY_CHARS),
                "query": self(draft.query, QUERY_CHARS),
                "link": self.line(draft.link, LINK_CHARS) if draft.link else None,
                "excerpt": self(draft.excerpt, EXCERPT_CHARS),
                "service": self.line(draft.service, SERVICE_CHARS) if draft.service else None,
            }
        )


PRE_CUT_FACTOR = 8
PRE_CUT_MIN = 16_384
PRE_CUT_BACK_OFF = 512


def _bounded(text: str, limit: int) -> str:
    """At most ``max(8 × limit, 16 KiB)`` characters of ``text``, cut at whitespace where one is
    near, so the work per field is bounded whatever arrives.

    Safe because the cut lies far past what the final clip keeps: a secret can only become
    visible through the cut if redaction before it shrank the text by thousands of characters,
    and then the cut is at whitespace (tokens have none) or inside a multi-line block that the
    block rules redact to the end of the text (an unterminated PEM block).
    """
    bound = max(PRE_CUT_FACTOR * limit, PRE_CUT_MIN)
    if len(text) <= bound:
        return text
    space = max(text.rfind(" ", bound - PRE_CUT_BACK_OFF, bound), text.rfind("\n", 0, bound))
    return text[: space if space >= bound - PRE_CUT_BACK_OFF else bound]


@functools.lru_cache(maxsize=16)
def _shared(extra_patterns: tuple[str, ...]) -> TextPipeline:
    return TextPipeline(extra_patterns)
