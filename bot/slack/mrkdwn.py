"""Slack mrkdwn from untrusted text: shown exactly as written, never pinging, never hiding a link.

Slack parses ``<…>`` in message text as control sequences: ``<!channel>`` pings a channel,
``<@U1>`` a person, ``<https://evil|bank>`` shows "bank" over another address. Its one escaping
rule (``&`` → ``&amp;``, ``<`` → ``&lt;``, ``>`` → ``&gt;``) makes all of them inert text, so
every piece of text rcabot did not write goes through :func:`escape` (or :func:`inert`, which
also applies the text pipeline's neutralising, idempotent on text that already went through it).

The only ``<…>`` sequences in what rcabot posts are the links made here: http(s) only, the URL
percent-encoded where Slack would read it differently, and a label that cannot mislead — a
citation (``[E3]``, which names the evidence it opens) or a label followed by the link's host.

Length limits apply to the escaped text, so :func:`clip` and :func:`split` count escaped
characters and never cut inside an entity (``&amp;``) or a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from bot.investigation.report import CITATION
from tools.evidence import Evidence
from tools.text import defuse_broadcasts, neutralise

ELLIPSIS = "…"
MIN_LIMIT = 16
"""The smallest limit :func:`clip` and :func:`split` accept: room for a few entities."""
MAX_URL_CHARS = 2_000
"""Longer URLs are not linked (Slack's own cap on a button's URL is 3,000)."""
LABEL_CHARS = 200

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Characters a URL inside <…|…> must not carry raw: the delimiters, whitespace, quotes and
# backticks (which would end a code span around the link).
_URL_UNSAFE = str.maketrans(
    {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", '"': "%22", "`": "%60", "\\": "%5C"}
)
_URL_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\s]")
# What escaped mrkdwn can hold that must not be cut: an entity, or a link made by this module.
_TOKEN = re.compile(r"<[^<>\n]*>|&(?:amp|lt|gt);")


def escape(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped: Slack shows it literally, links nothing."""
    return text.translate(_ESCAPES)


def plain(text: str, *, multiline: bool = False) -> str:
    """``text`` safe for a ``plain_text`` object (not parsed by Slack, so not escaped): no
    invisible characters, no markup, no ``@here``."""
    return defuse_broadcasts(neutralise(text, multiline=multiline))


def inert(text: str, *, multiline: bool = True) -> str:
    """Untrusted ``text`` as mrkdwn: neutralised like the text pipeline does, then escaped."""
    return escape(plain(text, multiline=multiline))


def slack_url(url: str | None) -> str | None:
    """``url`` ready to sit inside ``<…|…>``, or ``None`` when it must not be linked: not
    http(s), no host, control characters or whitespace, a non-ASCII host (look-alike letters),
    or too long."""
    if not url or len(url) > MAX_URL_CHARS or _URL_FORBIDDEN.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or not host.isascii():
        return None
    target = escape(url.translate(_URL_UNSAFE))
    return target if len(target) <= MAX_URL_CHARS else None


def url_host(url: str) -> str:
    """The host a reader is sent to (after any ``user@``), as escaped mrkdwn."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return escape(host)


def link(url: str | None, label: str) -> str:
    """``label`` linked to ``url`` where it is an http(s) URL, else the label alone.

    The label is untrusted text and cannot hide where the link goes: the host follows it in
    parentheses, whatever it says (a title that reads ``[E1]`` is not a citation).
    """
    text = clip(inert(label, multiline=False).replace("|", "¦"), LABEL_CHARS) or ELLIPSIS
    target = slack_url(url)
    if target is None or url is None:
        return text
    return f"<{target}|{text}> ({url_host(url)})"


def cite(evidence: Evidence) -> str:
    """``[E3]``, linked to that evidence's deep link where it is an http(s) URL: a citation
    rcabot makes names what it opens, so no host follows it."""
    label = f"[{evidence.id}]"
    target = slack_url(evidence.link)
    return f"<{target}|{label}>" if target is not None else label


def cite_links(text: str, evidence_by_id: Mapping[str, Evidence]) -> str:
    """``text`` as inert mrkdwn whose ``[E3]`` markers open that evidence's deep link.

    A marker whose evidence has no http(s) link (or is unknown) stays plain ``[E3]``.
    """

    def anchor(match: re.Match[str]) -> str:
        evidence = evidence_by_id.get(match.group(1))
        return cite(evidence) if evidence is not None else match.group()

    return CITATION.sub(anchor, inert(text))


def _check(limit: int) -> None:
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT}, got {limit}")


def _safe_end(text: str, end: int) -> int:
    """The largest cut ``<= end`` that is not inside an entity or a link."""
    for token in _TOKEN.finditer(text, max(0, end - MAX_URL_CHARS - 2 * LABEL_CHARS)):
        if token.start() >= end:
            break
        if token.end() > end:
            return token.start()
    return end


def clip(text: str, limit: int) -> str:
    """Escaped mrkdwn ``text`` cut to at most ``limit`` characters, marked with "…".

    The cut backs off to before an entity or link it would split (so ``&amp;`` and
    ``<url|[E1]>`` are whole or gone).
    """
    _check(limit)
    if len(text) <= limit:
        return text
    end = _safe_end(text, limit - len(ELLIPSIS))
    return text[:end].rstrip() + ELLIPSIS


def _unlink(token: str) -> str:
    """A link too long for the limit, as its label alone."""
    return token[1:-1].partition("|")[2] or ELLIPSIS


def _cut_line(line: str, limit: int) -> tuple[str, str]:
    """A first piece of ``line`` (at most ``limit`` characters, ending at a space when one is
    in its second half, never inside a token) and the rest."""
    end = _safe_end(line, limit)
    if end == 0:  # a link longer than the limit opens the line: keep its label only
        token = _TOKEN.match(line)
        assert token is not None
        return "", _unlink(token.group()) + line[token.end() :]
    space = line.rfind(" ", limit // 2, end)
    if space > 0 and _safe_end(line, space) == space:
        end = space
    return line[:end], line[end:].lstrip(" ")


def split(text: str, limit: int) -> list[str]:
    """Escaped mrkdwn ``text`` in pieces of at most ``limit`` characters, split at line ends
    where the lines fit and at spaces (never inside a token) where one line is too long."""
    _check(limit)
    pieces: list[str] = []
    for line in text.split("\n"):
        while len(line) > limit:
            head, line = _cut_line(line, limit)
            if head:
                pieces.append(head)
        pieces.append(line)
    chunks: list[str] = []
    current: str | None = None
    for piece in pieces:
        if current is not None and len(current) + 1 + len(piece) <= limit:
            current += "\n" + piece
            continue
        if current is not None and current.strip():
            chunks.append(current.rstrip())
        current = piece
    if current is not None and current.strip():
        chunks.append(current.rstrip())
    return chunks


def code_fence_safe(text: str) -> str:
    """``text`` able to sit inside a ```` ``` ```` block: runs of two or more backticks (which
    could close it) become modifier grave accents; single backticks stay."""
    return re.sub(r"``+", lambda m: "ˋ" * len(m.group()), text)


def inline_code(text: str, limit: int = 300) -> str | None:
    """``text`` as an inline code span (escaped), or ``None`` where it cannot be shown exactly
    in one: a backtick or a line break in it, or longer than ``limit``."""
    if not text or "`" in text or "\n" in text or len(text) > limit:
        return None
    return f"`{inert(text, multiline=False)}`"


def code_blocks(text: str, limit: int) -> list[str]:
    """``text`` as escaped ```` ``` ```` blocks of at most ``limit`` characters each; the
    blocks' contents, unescaped and joined, are :func:`code_fence_safe` of ``text``."""
    _check(limit)
    body = code_fence_safe(plain(text, multiline=True))
    fence_open, fence_close = "```\n", "\n```"
    budget = limit - len(fence_open) - len(fence_close)
    blocks: list[str] = []
    current: list[str] = []
    size = 0
    for char in body:
        piece = escape(char)
        if size + len(piece) > budget:
            blocks.append(fence_open + "".join(current) + fence_close)
            current, size = [], 0
        current.append(piece)
        size += len(piece)
    if current or not blocks:
        blocks.append(fence_open + "".join(current) + fence_close)
    return blocks
