"""Block Kit building blocks that hold Slack's limits by construction.

Slack rejects a whole message when one block breaks a limit (``invalid_blocks``), and an
incident is exactly when an oversized answer must still get through. So every builder here
clips or splits its text to the limit of the field it fills, and the message builders
(:mod:`bot.slack.blocks`, :mod:`bot.slack.evidence_blocks`) only count blocks. Blocks are plain
dicts (what ``chat.postMessage`` takes); the tests check them against slack_sdk's models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.slack import mrkdwn
from tools.text import clip as clip_plain

MAX_BLOCKS = 50
SECTION_CHARS = 3_000
CONTEXT_CHARS = 3_000
CONTEXT_ELEMENTS = 10
HEADER_CHARS = 150
BUTTON_TEXT_CHARS = 75
VALUE_CHARS = 2_000
ACTION_ID_CHARS = 255
FALLBACK_CHARS = 4_000
"""``text`` of a message with blocks: the notification and screen-reader fallback."""

Block = dict[str, Any]

_BOLD = re.compile(r"\*([^*\n]+)\*")


@dataclass(frozen=True)
class SlackMessage:
    """What ``chat.postMessage`` needs: ``text`` (plain fallback, at most 4,000 characters,
    escaped so it pings no one) and ``blocks``."""

    text: str
    blocks: list[Block]


def plain_text(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip_plain(mrkdwn.plain(text), limit) or "…"}


def header(text: str) -> Block:
    return {"type": "header", "text": plain_text(text, HEADER_CHARS)}


def section(text: str, accessory: Block | None = None) -> Block:
    """A section of escaped mrkdwn ``text``, clipped to the section limit."""
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": mrkdwn.clip(text, SECTION_CHARS) or "…"},
    }
    if accessory is not None:
        block["accessory"] = accessory
    return block


def sections(text: str, most: int) -> list[Block]:
    """Escaped mrkdwn ``text`` in at most ``most`` sections, split at line ends; what does not
    fit ends the last one with "…"."""
    pieces = mrkdwn.split(text, SECTION_CHARS)
    if len(pieces) > most:
        pieces = [*pieces[: most - 1], mrkdwn.clip(pieces[most - 1] + "\n…", SECTION_CHARS)]
    return [section(piece) for piece in pieces]


def context(*texts: str) -> Block:
    """A context block of escaped mrkdwn ``texts`` (empty ones left out)."""
    elements = [
        {"type": "mrkdwn", "text": mrkdwn.clip(text, CONTEXT_CHARS)}
        for text in texts[:CONTEXT_ELEMENTS]
        if text.strip()
    ]
    return {"type": "context", "elements": elements or [{"type": "mrkdwn", "text": "…"}]}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    """A button; ``text`` is ours (clipped), ``action_id`` and ``value`` must fit their limits."""
    if not action_id or len(action_id) > ACTION_ID_CHARS:
        raise ValueError(f"action_id must be 1 to {ACTION_ID_CHARS} characters")
    if len(value) > VALUE_CHARS:
        raise ValueError(f"button value is over {VALUE_CHARS} characters")
    element: Block = {
        "type": "button",
        "text": plain_text(text, BUTTON_TEXT_CHARS),
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        element["style"] = style
    return element


def actions(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements)}


def feedback(action_id: str, positive_value: str, negative_value: str) -> Block:
    """A ``context_actions`` block holding Slack's thumbs up/down ``feedback_buttons``."""
    for value in (positive_value, negative_value):
        if len(value) > VALUE_CHARS:
            raise ValueError(f"feedback value is over {VALUE_CHARS} characters")
    return {
        "type": "context_actions",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": action_id,
                "positive_button": {
                    "text": plain_text("Helpful", BUTTON_TEXT_CHARS),
                    "value": positive_value,
                },
                "negative_button": {
                    "text": plain_text("Not helpful", BUTTON_TEXT_CHARS),
                    "value": negative_value,
                },
            }
        ],
    }


def fallback(*lines: str) -> str:
    """Notification text from untrusted ``lines``: bold markers dropped, neutralised,
    escaped, at most :data:`FALLBACK_CHARS`."""
    text = "\n".join(_BOLD.sub(r"\1", line).strip() for line in lines if line.strip())
    return mrkdwn.clip(mrkdwn.inert(text), FALLBACK_CHARS) or "rcabot"
