"""Is a statement grounded in the evidence it cites? Checked in code, not trusted to the model.

A statement asserts *facts*: service names, numbers (with their unit), times and quoted text.
Each fact must appear in the text of the evidence the statement cites (title, summary,
excerpt, query, service, window). Anything else in the sentence (the wording) is free.

Numbers are compared by value in a normalised unit: ``1.5 s`` = ``1500ms``, ``2 min`` =
``120 s``, ``1 GiB`` = ``1024 MiB``; a percentage matches the same percentage or a ratio
(``25%`` = ``0.25``); a statement may round (``42%`` for ``42.3%``, ``0.25`` for ``0.253``),
never invent. Times match on the minute (``09:41`` is grounded by ``2026-03-02T09:41:07Z``);
quotes match case-insensitively with whitespace collapsed.

``grounding_problem(statement, cited, services)`` returns ``None`` when the statement is
grounded, else a short reason naming the first unsupported fact.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

from tools.evidence import Evidence

# unit (lower case) → (dimension, factor to the base unit)
UNITS: dict[str, tuple[str, float]] = {
    "%": ("ratio", 0.01),
    "percent": ("ratio", 0.01),
    "ns": ("time", 1e-6),
    "µs": ("time", 1e-3),
    "us": ("time", 1e-3),
    "ms": ("time", 1.0),
    "s": ("time", 1000.0),
    "sec": ("time", 1000.0),
    "secs": ("time", 1000.0),
    "second": ("time", 1000.0),
    "seconds": ("time", 1000.0),
    "m": ("time", 60_000.0),
    "min": ("time", 60_000.0),
    "mins": ("time", 60_000.0),
    "minute": ("time", 60_000.0),
    "minutes": ("time", 60_000.0),
    "h": ("time", 3_600_000.0),
    "hour": ("time", 3_600_000.0),
    "hours": ("time", 3_600_000.0),
    "b": ("bytes", 1.0),
    "kb": ("bytes", 1e3),
    "mb": ("bytes", 1e6),
    "gb": ("bytes", 1e9),
    "kib": ("bytes", 1024.0),
    "mib": ("bytes", 1024.0**2),
    "gib": ("bytes", 1024.0**3),
    "x": ("times", 1.0),
    "×": ("times", 1.0),
}
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_NUMBER = re.compile(
    r"(?<![\w.])(-?\d+(?:,\d{3})*(?:\.\d+)?)\s?(" + _UNIT_ALT + r")?(?![\w])", re.IGNORECASE
)
_ISO = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?![\d:])")
_QUOTE = re.compile(r"\"([^\"\n]{2,500})\"|“([^“”\n]{2,500})”|`([^`\n]{2,500})`")
_CITATION = re.compile(r"[\[(]\s*E\d+\s*[\])]", re.IGNORECASE)
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_WORDISH = r"[A-Za-z0-9_.-]"


@dataclass(frozen=True, slots=True)
class Quantity:
    written: float  # the number as written
    factor: float  # its unit's factor to the base unit (1 for a bare number)
    dimension: str  # "ratio", "time", "bytes", "times" or "" (a bare number)
    decimals: int  # digits after the point as written: how much the writer rounded

    @property
    def value(self) -> float:
        return self.written * self.factor

    @property
    def tolerance(self) -> float:
        return 0.5 * 10.0**-self.decimals * self.factor + 1e-9 * abs(self.value)


@dataclass(frozen=True, slots=True)
class Facts:
    """What a text asserts (or, for evidence, supports)."""

    quantities: tuple[Quantity, ...]
    minutes: frozenset[str]  # "09:41"
    days: frozenset[str]  # "2026-03-02"
    text: str  # case-folded, whitespace collapsed: for quotes and service names


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _quantities(text: str) -> tuple[Quantity, ...]:
    found = []
    for raw, unit in _NUMBER.findall(text):
        number = raw.replace(",", "")
        decimals = len(number.partition(".")[2])
        dimension, factor = UNITS.get(unit.lower(), ("", 1.0)) if unit else ("", 1.0)
        found.append(Quantity(float(number), factor, dimension, decimals))
    return tuple(found)


def _without_times(text: str) -> str:
    return _CLOCK.sub(" ", _DATE.sub(" ", _ISO.sub(" ", text)))


def facts(text: str) -> Facts:
    """The facts of ``text``: quantities (times and citations are not quantities), times, text."""
    text = _CITATION.sub(" ", text)
    minutes = {f"{int(h):02d}:{m}" for _, h, m in _ISO.findall(text)}
    minutes |= {f"{int(h):02d}:{m}" for h, m in _CLOCK.findall(_ISO.sub(" ", text))}
    days = {d for d, _, _ in _ISO.findall(text)} | set(_DATE.findall(text))
    return Facts(
        _quantities(_without_times(text)), frozenset(minutes), frozenset(days), _fold(text)
    )


@lru_cache(maxsize=4096)
def _evidence_facts(item: Evidence) -> Facts:
    return facts(evidence_text(item))


def evidence_text(item: Evidence) -> str:
    """All the text of ``item`` a statement citing it may restate."""
    parts = [item.title, item.summary, item.excerpt, item.query, item.service or ""]
    if item.window:
        parts += [item.window.start.isoformat(), item.window.end.isoformat()]
    return "\n".join(parts)


def _supported(claim: Quantity, support: Sequence[Quantity]) -> bool:
    """``claim`` restates one of ``support``, rounded at most to its own written precision."""
    for fact in support:
        # same dimension (a ratio may be written as a percentage): compare in base units
        comparable = fact.dimension == claim.dimension or {fact.dimension, claim.dimension} == {
            "ratio",
            "",
        }
        if comparable and abs(claim.value - fact.value) <= claim.tolerance:
            return True
        # a bare number for a number with a unit, or the reverse: the digits as written
        bare = "" in (claim.dimension, fact.dimension)
        if bare and abs(claim.written - fact.written) <= 0.5 * 10.0**-claim.decimals:
            return True
    return False


def _mentions(text: str, name: str) -> bool:
    folded = name.casefold()
    return (
        re.search(rf"(?<!{_WORDISH}){re.escape(folded)}(?!{_WORDISH})", text.replace(". ", " "))
        is not None
    )


def _show(q: Quantity) -> str:
    return f"{q.value:g}" + {"ratio": " (ratio)", "time": " ms", "bytes": " bytes"}.get(
        q.dimension, ""
    )


def grounding_problem(
    statement: str, cited: Sequence[Evidence], services: Collection[str]
) -> str | None:
    """``None`` when every fact of ``statement`` appears in ``cited``; else why not."""
    if not cited:
        return "cites no known evidence"
    claim = facts(statement)
    support = [_evidence_facts(e) for e in cited]
    text = "\n".join(s.text for s in support)
    quantities = [q for s in support for q in s.quantities]
    for name in sorted(services, key=len, reverse=True):
        if name and _mentions(claim.text, name) and not _mentions(text, name):
            return f"service {name!r} is not in the cited evidence"
    for quantity in claim.quantities:
        if not _supported(quantity, quantities):
            return f"number {_show(quantity)} is not in the cited evidence"
    minutes = {m for s in support for m in s.minutes}
    for minute in sorted(claim.minutes - minutes):
        return f"time {minute} is not in the cited evidence"
    days = {d for s in support for d in s.days}
    for day in sorted(claim.days - days):
        return f"date {day} is not in the cited evidence"
    for groups in _QUOTE.findall(statement):
        quoted = _fold(next(g for g in groups if g))
        if quoted and quoted not in text and _fold(_escape_angles(quoted)) not in text:
            return f"quote {quoted[:60]!r} is not in the cited evidence"
    return None


def _escape_angles(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("‹", "<").replace("›", ">")
