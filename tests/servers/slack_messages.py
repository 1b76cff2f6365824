"""Slack messages for the Slack **stand-in** (tests/servers/slack.py): the workspace's identities,
a message as the stand-in stores it, and as people in the channel see it.

Two shapes because tests ask two questions: "what did the app send?" (the calls) and "what does
the thread look like now?" (:class:`VisibleMessage`: edits applied, streamed chunks joined,
ephemeral ones marked with their one reader). The second is what a user would judge the bot by.
``ts`` values are Slack's ``seconds.micros`` strings; they order messages, so they are compared as
integers of microseconds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "rcabot"
TEAM_ID = "T0001"
TEAM_NAME = "rcabot test"
TEAM_DOMAIN = "rcabot-test"
APP_ID = "A0001"
FIRST_TS_US = 1_700_000_000_000_100  # "1700000000.000100", the first ts this workspace hands out
TS_STEP_US = 100

Json = dict[str, Any]


def ts_to_us(ts: str) -> int:
    seconds, _, micros = ts.partition(".")
    return int(seconds) * 1_000_000 + int(micros.ljust(6, "0")[:6] or 0)


def us_to_ts(us: int) -> str:
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def texts_in(value: object) -> Iterator[str]:
    """Every string under a ``"text"`` key, depth first: what a block or attachment shows."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from texts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts_in(item)


@dataclass(frozen=True)
class VisibleMessage:
    """One message as people in the channel see it now (a snapshot: later edits don't show)."""

    channel: str
    ts: str
    thread_ts: str | None
    user: str  # the author (UBOT for everything the bot posted)
    text: str  # the ``text`` argument (for blocks: the notification fallback)
    blocks: list[Json]
    attachments: list[Json]
    markdown: str  # markdown_text posted, or every streamed markdown chunk, concatenated
    chunks: list[Json]  # streamed chunks other than markdown (task_update, plan_update, blocks)
    streamed: bool
    stopped: bool  # a stream that chat.stopStream finished
    ephemeral: bool
    visible_to: str | None  # an ephemeral message's one reader
    edited: bool
    reactions: list[str]

    @property
    def bot(self) -> bool:
        return self.user == BOT_USER_ID

    @property
    def shown_text(self) -> str:
        """The words on screen: the markdown, then the blocks' text (or ``text`` when no blocks)."""
        parts = [self.markdown] if self.markdown else []
        if self.blocks:
            parts.extend(texts_in(self.blocks))
        elif self.text and not self.markdown:
            parts.append(self.text)
        parts.extend(texts_in(self.attachments))
        return "\n".join(parts)


@dataclass
class StoredMessage:
    channel: str
    ts: str
    user: str
    text: str = ""
    thread_ts: str | None = None
    blocks: list[Json] = field(default_factory=list)
    attachments: list[Json] = field(default_factory=list)
    markdown: str = ""
    chunks: list[Json] = field(default_factory=list)
    metadata: Json | None = None
    streamed: bool = False
    stopped: bool = False
    ephemeral: bool = False
    visible_to: str | None = None
    edited: bool = False
    deleted: bool = False
    reactions: list[str] = field(default_factory=list)

    @property
    def order(self) -> int:
        return ts_to_us(self.ts)

    def visible(self) -> VisibleMessage:
        return VisibleMessage(
            channel=self.channel,
            ts=self.ts,
            thread_ts=self.thread_ts,
            user=self.user,
            text=self.text,
            blocks=copy.deepcopy(self.blocks),
            attachments=copy.deepcopy(self.attachments),
            markdown=self.markdown,
            chunks=copy.deepcopy(self.chunks),
            streamed=self.streamed,
            stopped=self.stopped,
            ephemeral=self.ephemeral,
            visible_to=self.visible_to,
            edited=self.edited,
            reactions=list(self.reactions),
        )

    def api_shape(self) -> Json:
        """The ``message`` object Slack's methods answer with."""
        shape: Json = {
            "type": "message",
            "user": self.user,
            "text": self.markdown if self.streamed else self.text,
            "ts": self.ts,
            "team": TEAM_ID,
        }
        if self.user == BOT_USER_ID:
            shape["bot_id"] = BOT_ID
            shape["app_id"] = APP_ID
            shape["bot_profile"] = {"id": BOT_ID, "app_id": APP_ID, "name": BOT_NAME}
        if self.thread_ts is not None:
            shape["thread_ts"] = self.thread_ts
        for key in ("blocks", "attachments", "metadata"):
            value = getattr(self, key)
            if value:
                shape[key] = copy.deepcopy(value)
        if self.edited:
            shape["edited"] = {"user": self.user, "ts": self.ts}
        if self.reactions:
            shape["reactions"] = [
                {"name": name, "users": [BOT_USER_ID], "count": 1} for name in self.reactions
            ]
        return shape
