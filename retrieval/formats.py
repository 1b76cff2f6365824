"""Turn the text of one Markdown or plain-text file into an :class:`Outline`.

An outline is the document's headings and the lines under each, before any decision about
canonical sections, titles or metadata (``retrieval.fields`` makes those, the same way for
every format; HTML is read in ``retrieval.html_outline``). Keeping the formats this thin means
a heading found by any reader is treated alike, and the readers stay easy to test on small
strings.

Plain text has no markup, so its headings are guessed, conservatively: a false heading only
splits a section in two, but a missed one merges causes into a summary, and neither loses text.
Recognised: Markdown ``#`` headings and underlined (setext) titles, which scraped pages keep;
lines that are a known section keyword ("Impact", "ROOT CAUSE:"); short stand-alone lines ending
in ":"; short all-caps lines; the stand-alone questions of the Wikimedia template ("What went
well?"); short Title Case lines standing alone between blank lines before text; and known labels
that open a line or follow a sentence ("... resolved. Root cause: a bad deploy"), as Azure
status reports write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from retrieval.sections import section_for_heading
from tools.postmortems import SectionName


@dataclass(slots=True)
class Block:
    """A heading and the raw lines under it; ``heading == ""`` is text before any heading."""

    heading: str
    level: int  # 1-6 for explicit heading levels, 0 for the preamble and guessed headings
    lines: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Outline:
    title: str | None  # from the document itself (first H1 or title line); None: caller decides
    blocks: list[Block]
    front_matter: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?:={3,}|-{3,})[ \t]*$")
_THEMATIC = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|(?:-[ \t]*){3,})$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+•▪◦·]|\d{1,3}[.)])\s")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_LINK_REST = re.compile(r"\]\([^)]*\)?")  # what is left of a link cut off at the line end
_NAV_HEADING = re.compile(r"^!?\[.*\]\(")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
# A label ("Root cause: ...") candidate at every capital letter; validated in _labels.
_LABEL = re.compile(r"(?=([A-Z][A-Za-z&/\- ]{1,60}?):[ \t]+\S)")
_WORDS = re.compile(r"[^\W\d_][\w &/()'’\-]*")
_DANGLING = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to"}
)
_QUESTION_WORDS = frozenset(
    {"what", "where", "when", "why", "how", "who", "which", "did", "was", "were", "could"}
    | {"can", "should", "is", "are", "do", "does"}
)

_DECORATION = re.compile(r"[\[*`<]")
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: keep the alt text
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links: keep the link text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"\1"),  # bold (not "__": snake_case)
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # inline code
    (re.compile(r"<br\s*/?>", re.IGNORECASE), " "),
)


def clean_inline(line: str) -> str:
    """Markdown decoration removed (links keep their text), so it neither embeds nor matches."""
    if not _DECORATION.search(line):
        return line
    for pattern, replacement in _INLINE_RULES:
        line = pattern.sub(replacement, line)
    return line


def clean_heading(raw: str) -> str:
    """A heading as a reader would quote it: no markup, no trailing colon, one line."""
    text = _LINK_REST.sub("", clean_inline(raw)).replace("![", "").replace("[", "")
    return " ".join(text.split()).rstrip(":").strip()


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def is_bullet(line: str) -> bool:
    return _BULLET.match(line) is not None


def is_nav(raw_heading: str) -> bool:
    """A heading that is a link (site navigation of scraped pages): never a title."""
    return _NAV_HEADING.match(raw_heading.strip()) is not None


# --- labels ("Root cause: ...") ---------------------------------------------------------------


def _labels(line: str, *, inline: bool) -> list[tuple[int, int, str]]:
    """(start, end of "label: ", label) of known section labels in ``line``.

    A label counts only if it maps to a canonical section, has at most six words and starts the
    line or (with ``inline``) follows the end of a sentence; "Note:" or "at 10:25" never do.
    """
    found: list[tuple[int, int, str]] = []
    last_end = 0
    indent = len(line) - len(line.lstrip())
    for match in _LABEL.finditer(line):
        start, label = match.start(), match.group(1).strip()
        if start < last_end or len(label.split()) > 6:
            continue
        if start > indent:  # not at the start: only after a sentence, and only if inline
            before = line[max(0, start - 8) : start].rstrip()
            if not inline or _SENTENCE_END.search(before) is None:
                continue
        if section_for_heading(label) is SectionName.OTHER:
            continue
        end = start + len(match.group(1)) + 1
        while end < len(line) and line[end] in " \t":
            end += 1
        found.append((start, end, label))
        last_end = end
    return found


def split_labels(text: str, *, inline: bool) -> list[tuple[str | None, str]]:
    """``text`` cut at known labels: ``(None, leading text)``, then ``(label, text after it)``."""
    pieces: list[tuple[str | None, str]] = []
    cursor, current = 0, None
    for start, end, label in _labels(text, inline=inline):
        if start > cursor or current is not None:
            pieces.append((current, text[cursor:start].strip()))
        cursor, current = end, label
    pieces.append((current, text[cursor:].strip()))
    return [(label, body) for label, body in pieces if label is not None or body]


# --- Markdown -------------------------------------------------------------------------------


def split_front_matter(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """YAML front matter (``---`` ... ``---`` at the very top) and the rest of the text."""
    opening = re.match(r"---[ \t]*\n", text)
    if opening is None:
        return {}, text, []
    start = opening.end()
    match = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[start:], re.MULTILINE)
    if match is None:
        return {}, text, []
    raw, rest = text[start : start + match.start()], text[start + match.end() :].lstrip("\n")
    try:
        loaded = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__
        return {}, rest, [f"front matter is not valid YAML ({problem}), ignored"]
    if loaded is None:
        return {}, rest, []
    if not isinstance(loaded, dict):
        return {}, rest, ["front matter is not a mapping, ignored"]
    return {str(key).strip().lower(): value for key, value in loaded.items()}, rest, []


def parse_markdown(text: str) -> Outline:
    """ATX and setext headings, fenced code kept verbatim, comments and table rules dropped."""
    front, body, warnings = split_front_matter(normalise_newlines(text))
    blocks = [Block("", 0)]
    fence: str | None = None
    for line in _HTML_COMMENT.sub("", body).split("\n"):
        current = blocks[-1]
        if fence is not None:
            current.lines.append(line)
            if line.strip().startswith(fence):
                fence = None
            continue
        opened = _FENCE.match(line)
        if opened:
            fence = opened.group(1)
            current.lines.append(line)
            continue
        atx = _ATX.match(line)
        if atx:
            blocks.append(Block((atx.group(2) or "").strip(), len(atx.group(1))))
            continue
        if _SETEXT.match(line):
            paragraph = _trailing_paragraph(current.lines)
            if paragraph:
                del current.lines[-len(paragraph) :]
                level = 1 if line.strip().startswith("=") else 2
                blocks.append(Block(" ".join(p.strip() for p in paragraph), level))
                continue
        if _THEMATIC.match(line):
            current.lines.append("")
        elif not _TABLE_RULE.match(line):  # the rule under a table header is only decoration
            current.lines.append(_squeeze_row(line))
    declared = front.get("title")
    title = take_title(blocks, only=declared if isinstance(declared, str) else None)
    return Outline(title, blocks, front, warnings)


def _squeeze_row(line: str) -> str:
    """A table row without the padding that aligns its columns in the source."""
    return " ".join(line.split()) if line.lstrip().startswith("|") else line


def _trailing_paragraph(lines: list[str]) -> list[str]:
    """The last lines of a paragraph (for a setext underline), or [] if it is not one."""
    paragraph: list[str] = []
    for line in reversed(lines):
        if not line.strip():
            break
        paragraph.insert(0, line)
    if not paragraph or len(paragraph) > 3:
        return []
    if any(is_bullet(line) or line.lstrip().startswith(("|", ">")) for line in paragraph):
        return []
    return paragraph


def _add_line(blocks: list[Block], line: str) -> None:
    """Append a body line, opening a new block at each known label in it.

    Only plain text does this: its labels are its headings (Azure writes "Root cause: ..." with
    no line of its own). Markdown has real headings, and a label line in it would swallow the
    rest of its section.
    """
    if is_bullet(line) or ":" not in line:
        blocks[-1].lines.append(line)
        return
    for label, rest in split_labels(line, inline=True):
        if label is not None:
            blocks.append(Block(label, 0))
        if rest:
            blocks[-1].lines.append(rest)


def take_title(blocks: list[Block], *, only: str | None = None) -> str | None:
    """The first level-1 heading that is not navigation becomes the title, not a section.

    Its text is the document's introduction, so the block keeps its lines under heading "".
    A heading that names a canonical section ("Summary") is not a title. With ``only`` (a title
    declared in front matter) just a heading repeating it is taken.
    """
    for block in blocks:
        if block.level == 1 and block.heading and not is_nav(block.heading):
            title = clean_heading(block.heading)
            if only is None and section_for_heading(title) is not SectionName.OTHER:
                continue  # "# Summary" is a section of an untitled document
            if only is not None and title.casefold() != " ".join(only.split()).casefold():
                return None
            if title:
                block.heading, block.level = "", 0
                return title
    return None


# --- plain text -----------------------------------------------------------------------------


def parse_text(text: str) -> Outline:
    """Headings by the conservative rules in the module docstring; a title line is taken out."""
    lines = normalise_newlines(text).split("\n")
    title: str | None = None
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and _is_title_line(lines[first]):
        title = " ".join(lines[first].split())
        underlined = first + 1 < len(lines) and _SETEXT.match(lines[first + 1]) is not None
        lines = lines[first + (2 if underlined else 1) :]
    blocks = [Block("", 0)]
    previous_blank = True
    underline = -1  # index of a setext underline already used
    for index, line in enumerate(lines):
        stripped = line.strip()
        if index == underline:
            continue
        if not stripped:
            blocks[-1].lines.append("")
            previous_blank = True
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        standalone = (
            index + 2 < len(lines)
            and not lines[index + 1].strip()
            and bool(lines[index + 2].strip())
        )
        atx = _ATX.match(line)
        if atx:
            blocks.append(Block((atx.group(2) or "").strip(), len(atx.group(1))))
        elif previous_blank and _SETEXT.match(following) and len(stripped) <= 100:
            blocks.append(Block(stripped, 1 if following.strip().startswith("=") else 2))
            underline = index + 1
        elif _TABLE_RULE.match(line):
            pass
        elif _is_text_heading(stripped, previous_blank=previous_blank, standalone=standalone):
            blocks.append(Block(stripped, 0))
        else:
            _add_line(blocks, line)
        previous_blank = False
    if title is None:
        title = take_title(blocks)
    return Outline(title, blocks)


def _is_title_line(line: str) -> bool:
    """A first line that names the document rather than starting its prose."""
    stripped = line.strip()
    words = stripped.split()
    if not words or len(words) > 20 or len(stripped) > 160:
        return False
    if is_bullet(line) or _ATX.match(line) or stripped[-1] in ".!?;:,":
        return False
    return section_for_heading(stripped) is SectionName.OTHER or len(words) > 4


def _is_text_heading(line: str, *, previous_blank: bool, standalone: bool) -> bool:
    """Whether a plain-text line is a heading; ``standalone``: a blank line, then text, follow."""
    if len(line) > 100 or is_bullet(line):
        return False
    words = line.split()
    if len(words) > 12:
        return False
    core = line.rstrip(":").strip()
    if line.endswith(":"):
        if len(words) <= 6 and _known(core):
            return True
        return (
            previous_blank
            and len(words) <= 6
            and core[:1].isupper()
            and not re.search("[.,;]", core)
        )
    if line[-1] in ".,;!":
        return False
    if len(words) <= 8 and core.isupper() and sum(c.isalpha() for c in core) >= 4:
        return previous_blank or _known(core)
    if line.endswith("?"):
        return (
            previous_blank
            and len(words) <= 12
            and words[0].lower() in _QUESTION_WORDS
            and not re.search("[.,;]", line)
        )
    if previous_blank and len(words) <= 4 and _known(core):
        return True
    return (
        previous_blank
        and standalone
        and ":" not in line
        and "," not in line
        and _is_title_case(words)
    )


def _known(heading: str) -> bool:
    """A canonical section keyword, written as words (not a URL or a code fragment)."""
    return _WORDS.fullmatch(heading) is not None and (
        section_for_heading(heading) is not SectionName.OTHER
    )


def _is_title_case(words: list[str]) -> bool:
    """2-10 words, the first and every word over three letters capitalised ("EC2 and EBS",
    "Impact on Amazon Relational Database Service (RDS)"); no word may start with a digit."""
    if not 2 <= len(words) <= 10 or not words[0][:1].isupper():
        return False
    if not all(word[:1].isalpha() or word.startswith("(") for word in words):
        return False
    text = " ".join(words)
    if words[-1].lower() in _DANGLING or text.count("(") != text.count(")"):
        return False  # a line of a wrapped sentence ("Heartbeat and"), not a title
    return all(word[:1].isupper() or len(word) <= 3 or word[0] == "(" for word in words)
