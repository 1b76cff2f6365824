"""Read what a free-text question points at: services, quoted phrases, trace ids, and the
log searches they ask for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tools.evidence import TimeWindow

_QUOTED = re.compile(r"[\"“'`]([^\"”'`]{3,200})[\"”'`]")
_TRACE_ID = re.compile(r"\b[0-9a-f]{16,32}\b")
MAX_QUESTION_CHARS = 2_000


@dataclass(frozen=True)
class LogSearch:
    """One extra ``search_logs`` call of an investigation (the tool checks the arguments)."""

    window: TimeWindow
    services: tuple[str, ...] = ()
    text: str | None = None
    trace_id: str | None = None


@dataclass(frozen=True)
class QuestionFocus:
    services: tuple[str, ...]
    phrases: tuple[str, ...]
    trace_ids: tuple[str, ...]

    def log_searches(self, window: TimeWindow) -> list[LogSearch]:
        """A search per quoted phrase (in the named services) and per trace id."""
        searches = [LogSearch(window, self.services, text=p) for p in self.phrases]
        return searches + [LogSearch(window, trace_id=t) for t in self.trace_ids]


def focus(question: str, known_services: Iterable[str]) -> QuestionFocus:
    text = question[:MAX_QUESTION_CHARS]
    lowered = text.lower()
    services: list[str] = []
    for name in sorted(set(known_services), key=len, reverse=True):
        pattern = r"(?<![\w-])" + re.escape(name.lower()) + r"(?![\w-])"
        if re.search(pattern, lowered) and not any(name in s for s in services):
            services.append(name)
    phrases = tuple(dict.fromkeys(m.strip() for m in _QUOTED.findall(text) if m.strip()))
    traces = tuple(dict.fromkeys(_TRACE_ID.findall(lowered)))
    return QuestionFocus(tuple(services), phrases[:3], traces[:3])
