"""One text pipeline for everything that leaves a tool or comes in as input.

Order: neutralise (control, bidi, zero-width characters, chat markup) → defuse citation-like
markers → redact secrets and PII → clip. Redaction runs before clipping so nothing leaks through
a cut, and clipping runs last so nothing grows past a limit. One concept per module:
``neutralise``, ``citations``, ``redactor`` (with ``rules``, ``maintained`` and ``validators``),
``clip``; ``pipeline`` puts them together.
"""

from __future__ import annotations

from tools.text.citations import defuse_citations
from tools.text.clip import clip
from tools.text.neutralise import defuse_broadcasts, neutralise
from tools.text.pipeline import (
    EXCERPT_CHARS,
    LINE_CHARS,
    LINK_CHARS,
    QUERY_CHARS,
    SERVICE_CHARS,
    SUMMARY_CHARS,
    TITLE_CHARS,
    TextPipeline,
)
from tools.text.redactor import PatternError, Redactor

__all__ = [
    "EXCERPT_CHARS",
    "LINE_CHARS",
    "LINK_CHARS",
    "QUERY_CHARS",
    "SERVICE_CHARS",
    "SUMMARY_CHARS",
    "TITLE_CHARS",
    "PatternError",
    "Redactor",
    "TextPipeline",
    "clip",
    "defuse_broadcasts",
    "defuse_citations",
    "neutralise",
]
