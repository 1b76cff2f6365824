"""Document fields from an outline: named sections, title, date, services, cause category.

The readers in ``retrieval.formats`` only find headings and lines; everything that decides what
a document *is* lives here, the same for every format: which canonical section a block is (a
sub-heading without a keyword takes its parent's: "### Day 2" under "## Timeline" is
timeline), which text is the summary, and where the metadata comes from. Metadata is read
conservatively, because a wrong date or service on a document misleads more than a missing one:
dates only as ``YYYY-MM-DD`` (or ``YYYYMMDD`` opening a file name), services only from front
matter or a "Services: a, b" line that reads as a list of names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from retrieval.formats import (
    Outline,
    clean_heading,
    clean_inline,
    is_bullet,
    is_nav,
    normalise_newlines,
)
from retrieval.sections import section_for_heading
from tools.postmortems import Section, SectionName

_ISO_DATE = re.compile(r"(?<![\d-])((?:19|20)\d\d)-(\d\d)-(\d\d)(?![\d])")
_COMPACT_DATE = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)(?!\d)")
_LEADING_DATE = re.compile(r"^(?:(?:19|20)\d\d-?\d\d-?\d\d)[-_ ]*")
_META_LINE = re.compile(r"^\s*(?:[-*+•]\s+)?([A-Za-z][A-Za-z()\- ]{1,40}?)\s*:\s*(.+?)\s*$")
_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)")
_SUFFIX = re.compile(r"\.(?:md|markdown|mdown|mkd|txt|text|html?|xhtml|json)$", re.IGNORECASE)
_SERVICE_KEYS = frozenset(
    f"{prefix}{noun}{suffix}"
    for noun in ("service", "services")
    for prefix, suffix in (("", ""), ("", " affected"), ("affected ", ""), ("impacted ", ""))
)
_DATE_KEYS = frozenset({"date", "incident date", "date of incident"})
_CAUSE_KEYS = frozenset({"root cause category", "root cause type", "cause category"})
_MIN_DEDUPED_WORDS = 8  # shorter repeated paragraphs ("- none") are kept
_DATE_SEARCH_LINES = 30
_LEAD_WORDS = 120  # a summary paragraph or two


@dataclass(slots=True)
class Fields:
    """What a document says about itself, before its id, url and hash are added."""

    title: str
    date: date | None
    services: tuple[str, ...]
    root_cause_category: str | None
    sections: list[Section]


def outline_fields(outline: Outline, *, kind: str, file_name: str) -> Fields:
    """Sections (named, de-duplicated) and metadata of a Markdown, text or HTML outline.

    Metadata falls back in a fixed order: front matter, then "Key: value" lines, then the
    title, the file name and the first lines of text (dates); the document's own title, then
    (plain text) its first sentence, then the file name (titles).
    """
    markup = kind != "html"  # Markdown decoration also appears in scraped plain text
    sections: list[Section] = []
    stack: list[tuple[int, SectionName]] = []
    for block in outline.blocks:
        if kind == "text" and is_nav(block.heading):
            continue  # the menu and banner of a scraped status page, not the postmortem
        lines = [clean_inline(line) if markup else line for line in block.lines]
        text = _tidy("\n".join(lines))
        heading = clean_heading(block.heading) if block.heading else ""
        name = section_for_heading(heading) if heading else SectionName.OTHER
        if block.level:
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            if name is SectionName.OTHER and stack:
                name = stack[-1][1]  # "### Day 2" under "## Timeline" is timeline
            stack.append((block.level, name))
        if text:
            sections.append(Section(name, heading, text))
    front = _front_matter(outline.front_matter)
    if "root_cause_text" in front:
        sections.insert(0, Section(SectionName.ROOT_CAUSE, "Root cause", front["root_cause_text"]))
    sections = _lead_as_summary(dedupe_paragraphs(sections))
    meta = _meta_lines(sections)
    title = front.get("title") or outline.title
    if not title and kind == "text":
        title = _first_sentence(sections)
    title = title or title_from_name(file_name)
    services = front.get("services") or meta.get("services") or ()
    found_date = (
        front.get("date")
        or meta.get("date")
        or find_date(title)
        or _date_from_name(file_name)
        or find_date("\n".join(_first_lines(sections, _DATE_SEARCH_LINES)))
    )
    cause = front.get("root_cause_category") or meta.get("root_cause_category")
    return Fields(title, found_date, tuple(services), cause, sections)


def _lead_as_summary(sections: list[Section]) -> list[Section]:
    """Without a summary section, the opening paragraphs (up to ``_LEAD_WORDS`` words, at
    least one, never a list) of the text before the first heading become the summary.

    Plain-text postmortems open with what happened; the rest of an un-headed text (timelines,
    follow-ups) stays ``other`` rather than being passed off as a summary.
    """
    if any(section.name is SectionName.SUMMARY for section in sections):
        return sections
    index = next((i for i, s in enumerate(sections) if not s.heading), None)
    if index is None:
        return sections
    paragraphs = sections[index].text.split("\n\n")
    taken, words = 0, 0
    for paragraph in paragraphs:
        count = len(paragraph.split())
        if is_bullet(paragraph) or (taken and words + count > _LEAD_WORDS):
            break
        taken, words = taken + 1, words + count
    if not taken:
        return sections
    lead = Section(SectionName.SUMMARY, "", "\n\n".join(paragraphs[:taken]))
    rest = (
        [Section(SectionName.OTHER, "", "\n\n".join(paragraphs[taken:]))]
        if paragraphs[taken:]
        else []
    )
    return [*sections[:index], lead, *rest, *sections[index + 1 :]]


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in normalise_newlines(text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n").strip()


def dedupe_paragraphs(sections: list[Section]) -> list[Section]:
    """Sections without paragraphs already seen earlier in the document; empty ones dropped.

    Scraped status pages repeat every update, and structured records repeat their details in
    their cause and mitigation fields; a repeated paragraph would only be a duplicate chunk.
    """
    seen: set[str] = set()
    out = []
    for section in sections:
        kept = []
        for paragraph in re.split(r"\n\s*\n", section.text):
            key = " ".join(paragraph.split()).casefold()
            if not key:
                continue
            if len(key.split()) >= _MIN_DEDUPED_WORDS:
                if key in seen:
                    continue
                seen.add(key)
            kept.append(paragraph.strip("\n"))
        if kept:
            out.append(Section(section.name, section.heading, "\n\n".join(kept)))
    return out


def _front_matter(front: dict[str, Any]) -> dict[str, Any]:
    """title, date, services, root_cause_category (and a long root_cause) from front matter.

    A short ``root_cause`` is a category ("dns"); a long one is prose and becomes a section.
    """
    out: dict[str, Any] = {}
    keys = {re.sub(r"[\s-]+", "_", key): value for key, value in front.items()}
    if isinstance(keys.get("title"), str) and keys["title"].strip():
        out["title"] = " ".join(keys["title"].split())
    value = keys.get("date")
    if isinstance(value, datetime):
        out["date"] = value.date()
    elif isinstance(value, date):
        out["date"] = value
    elif isinstance(value, str):
        out["date"] = find_date(value)
    services = keys.get("services", keys.get("service"))
    if isinstance(services, str):
        out["services"] = _split_services(services)
    elif isinstance(services, list):
        out["services"] = tuple(dict.fromkeys(str(s).strip() for s in services if str(s).strip()))
    cause = next((keys[key] for key in ("root_cause_category", "root_cause") if key in keys), None)
    if isinstance(cause, str) and cause.strip():
        if len(cause) <= 80:
            out["root_cause_category"] = cause.strip()
        else:
            out["root_cause_text"] = cause.strip()
    return out


def _meta_lines(sections: list[Section]) -> dict[str, Any]:
    """The first "Services: a, b", "Date: ..." and "Root-cause category: ..." lines.

    A line that continues on the next one (hard-wrapped text) is not used: its value is cut.
    """
    out: dict[str, Any] = {}
    for section in sections:
        lines = section.text.split("\n")
        for index, line in enumerate(lines):
            if ":" not in line:
                continue
            match = _META_LINE.match(line.replace("**", "").replace("__", ""))
            if not match:
                continue
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.strip() and not (is_bullet(following) or _META_LINE.match(following)):
                continue
            key = " ".join(match.group(1).lower().replace("(s)", "s").replace("-", " ").split())
            value = match.group(2).strip()
            if key in _SERVICE_KEYS and "services" not in out:
                if services := _split_services(value):
                    out["services"] = services
            elif key in _DATE_KEYS and "date" not in out:
                if found := find_date(value):
                    out["date"] = found
            elif key in _CAUSE_KEYS and "root_cause_category" not in out and len(value) <= 80:
                out["root_cause_category"] = value.rstrip(".")
    return out


def _split_services(value: str) -> tuple[str, ...]:
    """Names from "a, b; c"; () when the value reads like prose rather than a list of names."""
    names = [name.strip().strip(".").strip() for name in re.split(r"[,;]", value)]
    names = [name for name in names if name]
    if not names or len(names) > 20 or any(len(name) > 60 for name in names):
        return ()
    return tuple(dict.fromkeys(names))


def find_date(text: str | None) -> date | None:
    """The first valid ``YYYY-MM-DD`` in ``text``; other spellings are too ambiguous."""
    for match in _ISO_DATE.finditer(text or ""):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            continue
    return None


def _date_from_name(name: str) -> date | None:
    """``YYYY-MM-DD`` anywhere in a file name, or ``YYYYMMDD`` at its start (wiki exports)."""
    found = find_date(name)
    if found is None and (match := _COMPACT_DATE.match(name)):
        try:
            found = date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    return found


def _first_lines(sections: list[Section], count: int) -> list[str]:
    lines: list[str] = []
    for section in sections:
        lines.extend(line for line in section.text.split("\n") if line.strip())
        if len(lines) >= count:
            break
    return lines[:count]


def _first_sentence(sections: list[Section]) -> str | None:
    """The first sentence of a plain-text postmortem, if short enough to name it."""
    lines = _first_lines(sections, 1)
    if not lines or is_bullet(lines[0]):
        return None
    match = _SENTENCE.match(lines[0].strip())
    sentence = match.group(1) if match else lines[0].strip()
    return sentence if len(sentence.split()) <= 20 else None


def title_from_name(name: str) -> str:
    """A readable title from a file name: known suffix and leading date dropped."""
    stem = _SUFFIX.sub("", name)
    text = _LEADING_DATE.sub("", stem).strip("#").strip()
    if " " not in text:
        text = re.sub(r"[-_]+", " ", text).strip()
    text = text or stem
    return text[:1].upper() + text[1:]
