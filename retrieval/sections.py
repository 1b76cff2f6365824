"""Map the headings people actually write onto the canonical :class:`SectionName` set.

Postmortems follow no single template: "Root Causes", "Why did it happen?", "ROOT CAUSE AND
REMEDIATION" and "What went wrong" all mean the same part of the story. Retrieval filters and
boosts by section (a question about causes should match cause text, not the timeline), so every
heading is mapped here with a small keyword table. The mapping is deliberately plain: a heading is
normalised (case, numbering, punctuation), then the keyword that occurs *first* in it wins, so
"Root cause and mitigation" is a root cause and "Remediation and prevention" a mitigation.
Anything unrecognised is ``other``; the caller may let a sub-heading inherit its parent's name.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tools.postmortems import SectionName

# "summary of impact", "detailed description of impact": the head noun is what follows "of".
_OF_PREFIX = re.compile(
    r"^(?:(?:brief|short|detailed|high level|technical|preliminary|final)\s+)*"
    r"(?:summary|description|overview|details?|analysis)\s+of\s+(?:the\s+)?(?P<rest>.+)$"
)
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[ivx]+[.)]|[a-h][.)])\s+")
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Order inside a section's list does not matter; across sections the earliest match wins.
# "Lessons learned" and its usual sub-questions (what went well, where we got lucky, which
# weaknesses we found) are mapped to contributing factors: they describe what made the incident
# possible or worse, which is what a reader searching for causes wants to see; concrete tasks
# are action items.
_KEYWORDS: dict[SectionName, tuple[str, ...]] = {
    SectionName.SUMMARY: (
        r"summary",
        r"overview",
        r"tl ?dr",
        r"what happened",
        r"description",
        r"synopsis",
        r"abstract",
        r"introduction",
    ),
    SectionName.IMPACT: (
        r"impact(?:s|ed)?",
        r"(?:who|what) was affected",
        r"were affected",
        r"symptoms?",
        r"blast radius",
    ),
    SectionName.TIMELINE: (
        r"time ?line",
        r"chronology",
        r"sequence of events",
        r"event log",
    ),
    SectionName.DETECTION: (
        r"detect(?:ion|ed|ing)?",
        r"found out",
        r"discover(?:y|ed)",
        r"noticed",
        r"alerting",
    ),
    SectionName.ROOT_CAUSE: (
        r"root ?causes?",
        r"causes?",
        r"what went wrong",
        r"why (?:did )?(?:it|this) happen(?:ed)?",
        r"why did (?:it|this) happen",
        r"triggers?",
        r"(?:five|5) whys",
    ),
    SectionName.CONTRIBUTING_FACTORS: (
        r"contributing",
        r"factors",
        r"lessons?(?: learn(?:ed|t))?",
        r"learnings?",
        r"what went (?:well|poorly|badly)",
        r"(?:got|get) lucky",
        r"weakness(?:es)?",
    ),
    SectionName.MITIGATION: (
        r"mitigat(?:ion|ions|ed|ing|e)",
        r"resolution",
        r"resolved?",
        r"recover(?:y|ed|ing)?",
        r"remediation",
        r"workarounds?",
        r"fix(?:es|ed)?",
        r"restor(?:ation|ed|e)",
        r"roll ?back",
    ),
    SectionName.ACTION_ITEMS: (
        r"action (?:items?|points?)",
        r"actionables?",
        r"follow ?ups?",
        r"next steps?",
        r"corrective actions?",
        r"prevent(?:ion|ive|ative|ing)?",
        r"to ?dos?",
        r"improvements?",
        r"future work",
    ),
}

_PATTERN = re.compile(
    "|".join(rf"(?P<{name.value}>\b(?:{'|'.join(words)})\b)" for name, words in _KEYWORDS.items())
)


def normalise_heading(heading: str) -> str:
    """Lower-case words only: numbering, punctuation and Markdown decoration removed."""
    text = heading.strip().lower().replace("&", " and ")
    text = _NUMBERING.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=4096)
def section_for_heading(heading: str) -> SectionName:
    """The canonical section a heading introduces, ``other`` when no keyword matches."""
    text = normalise_heading(heading)
    if not text:
        return SectionName.OTHER
    prefixed = _OF_PREFIX.match(text)
    if prefixed:
        inner = _first_keyword(prefixed.group("rest"))
        if inner is not SectionName.OTHER:
            return inner
    return _first_keyword(text)


def _first_keyword(text: str) -> SectionName:
    match = _PATTERN.search(text)
    if match is None or match.lastgroup is None:
        return SectionName.OTHER
    return SectionName(match.lastgroup)
