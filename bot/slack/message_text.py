"""The readable text of a Slack message: its text, attachments, fields and Block Kit parts,
cleaned of Slack's wire format (``<url|label>``, ``&lt;``) and bounded (:data:`MAX_TEXT` of
text, :data:`MAX_PARTS` parts, :data:`MAX_URL` characters of a link), for the alert-bot
message parsers of :mod:`bot.slack.alert_messages`. Every pattern is RE2 (linear time), and no
input makes these raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

MAX_TEXT = 20_000  # characters of a message read; the rest is ignored
MAX_PARTS = 20  # attachments, blocks or fields looked at
MAX_URL = 4_096

_LINK = re2.compile(r"<([^<>|\n]*)(?:\|([^<>\n]*))?>")


@dataclass
class MessageText:
    """The readable parts of one message, cleaned of Slack's wire format, within budget."""

    budget: int = MAX_TEXT
    titles: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # attachments' title_link
    text_links: list[str] = field(default_factory=list)  # http(s) links inside the text
    colors: list[str] = field(default_factory=list)

    def take(self, value: Any) -> str | None:
        """``value`` as clean text, charged to the budget (``None`` if not text or spent)."""
        raw = str_or_none(value)
        if not raw or self.budget <= 0:
            return None
        raw = raw[: self.budget]
        self.budget -= len(raw)
        for link in _LINK.finditer(raw):
            if len(self.text_links) < MAX_PARTS and (url := http_url(link.group(1))):
                self.text_links.append(url)
        return _clean(raw)

    def add(self, where: list[str], value: Any) -> None:
        if (text := self.take(value)) is not None:
            where.append(text)

    @property
    def body(self) -> str:
        return "\n".join(self.bodies)

    @property
    def everything(self) -> list[str]:
        return [*self.titles, *self.bodies, *self.fallbacks]


def collect_text(message: Mapping[str, Any]) -> MessageText:
    text = MessageText()
    text.add(text.bodies, message.get("text"))
    for attachment in _mappings(message.get("attachments")):
        text.add(text.titles, attachment.get("title"))
        text.add(text.bodies, attachment.get("pretext"))
        text.add(text.bodies, attachment.get("text"))
        text.add(text.fallbacks, attachment.get("fallback"))
        if (link := http_url(attachment.get("title_link"))) is not None:
            text.links.append(link)
        if color := str_or_none(attachment.get("color")):
            text.colors.append(color.lower())
        for item in _mappings(attachment.get("fields")):
            name, value = text.take(item.get("title")), text.take(item.get("value"))
            if name and value is not None:
                text.fields.append((name, value))
        _blocks(text, attachment.get("blocks"))
    _blocks(text, message.get("blocks"))
    return text


def _blocks(text: MessageText, blocks: Any) -> None:
    for block in _mappings(blocks):
        kind = block.get("type")
        if kind == "header":
            text.add(text.titles, _text_object(block.get("text")))
        elif kind == "section":
            text.add(text.bodies, _text_object(block.get("text")))
            for item in _mappings(block.get("fields")):
                if (value := text.take(item.get("text"))) is not None:
                    name, _, rest = value.partition("\n")
                    text.fields.append((name.strip("*_: "), rest.strip()))
        elif kind == "context":
            for element in _mappings(block.get("elements")):
                text.add(text.bodies, element.get("text"))


def _clean(text: str) -> str:
    """Slack's wire format undone: ``<url|label>`` → label, ``<url>`` → url (mentions like
    ``<@U1>`` stay: the renderer neutralises them), then ``&lt; &gt; &amp;`` unescaped."""

    def unwrap(match: re2._Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("!", "@", "#")):
            return match.group(0)
        return label or target

    return _LINK.sub(unwrap, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def http_url(value: Any) -> str | None:
    text = str_or_none(value)
    if not text or len(text) > MAX_URL or not text.startswith(("http://", "https://")):
        return None
    return None if any(c.isspace() for c in text) else text


def message_of(event: Any) -> Mapping[str, Any] | None:
    """The message of an event; an edit (``message_changed``) is read as its new message."""
    if not isinstance(event, Mapping):
        return None
    inner = event.get("message")
    if event.get("subtype") == "message_changed" and isinstance(inner, Mapping):
        return inner
    return event


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value[:MAX_PARTS] if isinstance(item, Mapping)]


def _text_object(value: Any) -> Any:
    return value.get("text") if isinstance(value, Mapping) else None


def str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
