"""Uncited claims are removed in code: every statement must cite evidence that exists.

The answer is cut into *statements*, and each must cite at least one known evidence id
(``[E3]``; ``[E3, E5]`` and ``[e3]`` are accepted and rewritten as ``[E3] [E5]`` / ``[E3]``).
Citations of unknown ids are stripped; a statement left without a valid citation is dropped
and listed in :attr:`Validated.dropped` (the report's ``dropped_statements``).

Statements are cut, whatever the capitalisation of what follows:

- at every line break (any Unicode line separator);
- after a sentence end: ``.``, ``!`` or ``?`` (closing quotes, brackets or emphasis may
  follow) before whitespace, an invisible format character or the end of the line, or glued
  to the next word right after a citation (``[E1].it``) — except in an ellipsis (``...``,
  ``…``), after an abbreviation (``e.g.``, ``i.e.``, ``vs.``, ``Dr.``, a single capital
  initial; ``etc.``, ``a.m.`` and ``p.m.`` only before a lower-case word) and inside code
  spans, quotations (``“…”``, ``"…"``: a quoted log line), links, bare URLs and HTML entities.
  A decimal (``3.5``), a version (``1.2.3``), an address or a host name has no whitespace
  after its dots, so it never ends a sentence. Citations right after a sentence end
  (``It broke. [E1]``) belong to that sentence;
- at every semicolon outside those spans (a clause after ``;`` is a statement of its own).

A piece is a statement when it has a letter; pieces without one (a number, a lone citation)
and lines without one (rules, fences) state nothing and are kept as they are.

A bullet or numbered item, a block quote, and an emphasised lead label (``*Matching logs:*``,
at most six words) keep their marker in front of what is kept of the line.

**Headings.** A line that is only a *structural label* is kept without a citation: its text,
ignoring ``#`` markers, emphasis, a trailing ``:`` and case, is one of :data:`LABELS` (e.g.
``## Root cause``, ``**Next steps:**``, ``Timeline``). Any other heading states something and
is validated like a sentence (``# The database caused it`` is dropped; with a valid citation it
stays). A label whose section ends up with no statement is removed as well (not listed).

Validating is idempotent, and linear in the length of the answer.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.investigation.report import CITATION

LABELS = frozenset(
    {
        "summary", "tl;dr", "tldr", "answer", "overview", "conclusion", "status",
        "root cause", "root causes", "cause", "causes", "likely cause", "most likely cause",
        "probable cause", "possible causes", "candidates", "other candidates",
        "ranked candidates", "hypothesis", "hypotheses", "evidence", "supporting evidence",
        "findings", "analysis", "details", "context", "impact", "scope", "timeline",
        "symptoms", "symptoms elsewhere", "matching logs", "logs", "metrics", "traces",
        "changes", "recent changes", "similar past incidents", "similar incidents",
        "past incidents", "seen before", "postmortems", "next steps",
        "recommended next steps", "recommendations", "suggested actions", "actions",
        "mitigation", "remediation", "open questions", "unknowns", "caveats",
        "limitations", "notes", "sources",
    }
)  # fmt: skip
"""Structural headings kept without a citation (lower case, no trailing ``:``)."""

# "[E3, E5]", "[ e3 ]", "[E03]" → "[E3] [E5]", "[E3]", "[E3]"
_CITATION_GROUP = re.compile(r"\[\s*E\s*\d{1,9}(?:\s*[,;]\s*E\s*\d{1,9})*\s*\]", re.IGNORECASE)
_GROUP_ID = re.compile(r"E\s*(\d+)", re.IGNORECASE)
_CITED = re.compile(r"\[(E\d+)\]")  # after normalisation; unknown ids are stripped
# spans whose punctuation never cuts a statement: code, quotations (a quoted log line),
# <links|…> and Slack markup, bare URLs (without trailing punctuation, as Markdown autolinks),
# HTML entities, "tl;dr"
_ATOM = re.compile(
    r"`+[^`]*`+|“[^“”\n]{0,500}”|\"[^\"\n]{0,500}\"|<[^<>\n]*>"
    r"|\b(?:https?|ftp)://[^\s<>`\[\]]*[^\s<>`\[\].,;:!?'\")]|&#?\w{1,10};|\btl;dr\b",
    re.IGNORECASE,
)
_INVISIBLE = " \t\n\r\x0b\x0c\u00a0\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
_SPACE_LIKE = r"[\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
_CLOSERS = r"[\"')\]”’»*_~]*"
_BOUNDARY = re.compile(
    r";|(?P<end>\.{3,}|…|[.!?]+)" + _CLOSERS + r"(?=(?P<after>" + _SPACE_LIKE + r"|$|[^\W_]))"
)
_ENDS_WITH_CITATION = re.compile(r"\[E\d+\]$")
_NEXT_CHAR = re.compile(r"\s*(\S?)")
_LEADING_CITATIONS = re.compile(r"(?:" + _SPACE_LIKE + r"*\[E\d+\])+")
_STRONG_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "vs", "cf", "viz", "approx", "incl", "resp", "al", "mr", "mrs", "ms",
     "dr", "prof", "jr", "sr"}
)  # fmt: skip
_WEAK_ABBREVIATIONS = frozenset({"etc", "a.m", "p.m"})  # end a sentence before a capital
_MARKER = re.compile(r"(\s*(?:>\s*)*(?:(?:[-*+•]|\d{1,9}[.)])\s+)?)")
_HEADING = re.compile(r"\s{0,3}#{1,6}(?=\s|$)")
_LEAD_LABEL = re.compile(r"(\*{1,2}|_{1,2})([^*_\n]{1,60}?)(?::\1|\1:)\s+(?=\S)")
_TERMINAL = re.compile(r"([.!?])" + _CLOSERS + r"$")
_ENDING = re.compile(r"[.!?…]+" + _CLOSERS + r"$")


@dataclass(frozen=True)
class Validated:
    text: str
    dropped: list[str]


def normalise_citations(text: str) -> str:
    """Rewrite every citation in the canonical form ``[E3]``, one id per bracket."""
    return _CITATION_GROUP.sub(
        lambda m: " ".join(f"[E{int(n)}]" for n in _GROUP_ID.findall(m.group(0))), text
    )


def _has_content(text: str) -> bool:
    return any(ch.isalpha() for ch in _CITED.sub("", text))


def is_label(text: str) -> bool:
    """Whether ``text`` (a heading's or a line's text) is a structural label (see module).
    A line that cites evidence is a statement, never a label."""
    bare = text.strip(_INVISIBLE).strip("*_`~").strip().rstrip(":").strip().strip("*_")
    return " ".join(bare.casefold().split()) in LABELS and not _CITED.search(text)


def _abbreviation_before(body: str, dot: int, next_char: str) -> bool:
    """Whether the ``.`` at ``dot`` closes an abbreviation or an initial, not a sentence."""
    window = body[max(0, dot - 12) : dot]  # every abbreviation is shorter
    words = window.split()
    if not words or window[-1:].isspace() or (len(words) == 1 and dot > len(window)):
        return False  # nothing before the dot, or a word longer than the window
    word = words[-1].lstrip("([{\"'“‘")
    if word.casefold() in _STRONG_ABBREVIATIONS:
        return True
    if word.casefold() in _WEAK_ABBREVIATIONS:
        return not next_char.isupper()
    return len(word) == 1 and word.isupper()


def split_statements(body: str) -> list[list[str]]:
    """``body`` (one line, no marker) as sentences, each a list of clauses (``;`` removed).

    Citations right after a sentence end belong to that sentence."""
    atoms = [m.span() for m in _ATOM.finditer(body)]
    sentences: list[list[str]] = [[]]

    def add(begin: int, stop: int) -> None:
        if clause := body[begin:stop].strip(_INVISIBLE):
            sentences[-1].append(clause)

    start = 0
    for match in _BOUNDARY.finditer(body):
        at = match.start()
        if at < start or any(a <= at < b for a, b in atoms):
            continue
        end, after = match.group("end"), match.group("after")
        if end is None:  # a semicolon
            add(start, at)
            start = match.end()
            continue
        if end == "…" or end.startswith("..."):
            continue
        glued = after != "" and not re.fullmatch(_SPACE_LIKE, after)
        if glued and not _ENDS_WITH_CITATION.search(body[max(0, at - 16) : at]):
            continue  # 3.5, 1.2.3, api.example.com: no sentence ends here
        following = _NEXT_CHAR.match(body, match.end())
        if end == "." and _abbreviation_before(body, at, following.group(1) if following else ""):
            continue
        cited = _LEADING_CITATIONS.match(body, match.end())
        cut = cited.end() if cited else match.end()
        add(start, cut)
        start = cut
        if sentences[-1]:
            sentences.append([])
    add(start, len(body))
    return [sentence for sentence in sentences if sentence]


def strip_unknown(text: str, known: Collection[str]) -> str:
    """``text`` without citations of ids not in ``known`` (done before cutting statements, so
    what is kept cuts the same way again)."""

    out: list[str] = []
    last = 0
    for match in _CITED.finditer(text):
        if match.group(1) in known:
            continue
        before = text[last : match.start()]
        following = text[match.end() : match.end() + 1]
        if not following or following.isspace() or following in ".,;:!?)":
            before = before.rstrip(" \t")  # "a [E9]." → "a."; "a [E9][E2]" → "a [E2]"
        out.append(before)
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _cites(statement: str, known: Collection[str]) -> bool:
    return any(ref in known for ref in CITATION.findall(statement))


def _terminal(statement: str) -> str:
    found = _TERMINAL.search(_CITED.sub("", statement).rstrip())
    return found.group(1) if found else ""


def _keep_body(body: str, known: Collection[str], dropped: list[str]) -> str:
    """What of ``body`` (one line's text) survives: its cited statements, re-punctuated.
    Empty when no statement is kept (punctuation-only pieces do not count)."""
    kept_sentences: list[str] = []
    for sentence in split_statements(body):
        kept: list[str] = []
        for clause in sentence:
            if _has_content(clause) and not _cites(clause, known):
                dropped.append(clause)
            else:
                kept.append(clause)
        if not any(_has_content(k) for k in kept):
            continue
        if kept_sentences:
            kept[0] = _citations_last(kept[0])
        joined = "; ".join(kept)
        if not _terminal(joined) and _terminal(sentence[-1]):
            joined += _terminal(sentence[-1])  # its last clause, which ended it, was dropped
        kept_sentences.append(joined)
    return " ".join(kept_sentences)


def _citations_last(clause: str) -> str:
    """``[E1] y is slow.`` → ``y is slow [E1].``: after the sentence kept before it, leading
    citations would be read as that sentence's (``X. [E1] y``), so they move to the end."""
    leading = _LEADING_CITATIONS.match(clause)
    if not leading:
        return clause
    rest = clause[leading.end() :].strip(_INVISIBLE)
    ending = _ENDING.search(rest)
    cut = ending.start() if ending else len(rest)
    return f"{rest[:cut].rstrip()} {leading.group(0).strip(_INVISIBLE)}{rest[cut:]}"


@dataclass
class _Line:
    text: str
    level: int = 0  # 1-6: a heading; 7: a label line; 0: anything else
    label: bool = False  # a structural label (kept only if its section keeps a statement)
    states: bool = False  # carries at least one kept statement


def _validate_line(line: str, known: Collection[str], dropped: list[str]) -> _Line | None:
    if not _has_content(line):
        return _Line(line.rstrip())  # a rule, a fence, a lone citation: states nothing
    heading = _HEADING.match(line)
    if heading:
        rest = line[heading.end() :]
        body = rest.strip()
        hashes = line[: heading.end() + len(rest) - len(rest.lstrip())]  # "#", "## " ...
        level = hashes.count("#")
        unclosed = body.rstrip("#")
        if unclosed != body and (not unclosed or unclosed[-1].isspace()):
            body = unclosed.rstrip()  # "## Title ##"
        if is_label(body):
            return _Line(hashes + body, level, label=True)
        kept = _keep_body(body, known, dropped)
        return _Line(hashes + kept, level, states=True) if kept else None
    marker = _MARKER.match(line)
    prefix = marker.group(1) if marker else ""
    body = line[len(prefix) :]
    if is_label(body):
        return _Line(prefix + body.strip(), 7, label=True)
    lead = _LEAD_LABEL.match(body)
    if lead and len(lead.group(2).split()) <= 6:
        prefix, body = prefix + lead.group(0), body[lead.end() :]
    kept = _keep_body(body, known, dropped)
    return _Line(prefix + kept, states=True) if kept else None


def _without_empty_sections(lines: list[_Line]) -> list[str]:
    """Drop each structural label whose section (up to the next heading of the same or a
    higher level; a label line's, up to the next heading or label) keeps no statement."""
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.label:
            section = []
            for after in lines[i + 1 :]:
                if after.level and after.level <= line.level:
                    break
                section.append(after)
            if not any(s.states for s in section):
                continue
        out.append(line.text)
    return out


def validate_answer(text: str, known_ids: Collection[str]) -> Validated:
    """Keep what cites known evidence (see module); list every dropped statement."""
    known = frozenset(known_ids)
    dropped: list[str] = []
    lines: list[_Line] = []
    for raw in strip_unknown(normalise_citations(text), known).splitlines():
        if not raw.strip():
            lines.append(_Line(""))
            continue
        line = _validate_line(raw, known, dropped)
        if line is not None:
            lines.append(line)
    cleaned = "\n".join(_without_empty_sections(lines)).strip()
    return Validated(re.sub(r"\n{3,}", "\n\n", cleaned), dropped)
