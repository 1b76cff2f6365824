"""Messages: a reply in a thread rcabot answered in is a follow-up; the rest is skipped.

Skipped (one log line each, nothing posted): top-level chatter, edits and deletions (the answer
in progress goes on; an edit is not asked again), replies that mention rcabot (the mention
listener answers those), other bots' replies, and events of types rcabot does not handle
(acknowledged, so Slack does not retry them).
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.listeners.mentions import MESSAGE_CLAIM_S
from bot.slack.logs import log_event
from bot.slack.services import services_of
from bot.slack.threads import Question, ask

SKIPPED_SUBTYPES = {"message_changed", "message_deleted", "message_replied", "thread_broadcast"}


def register(app: AsyncApp) -> None:
    app.event("message")(on_message)
    app.event(re.compile(r".+"))(on_other_event)  # last: acknowledge what nothing handles


async def on_message(event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]) -> None:
    services = services_of(context)
    channel, ts = event.get("channel"), event.get("ts")
    subtype = event.get("subtype")
    if subtype in SKIPPED_SUBTYPES:
        log_event("skipped", reason=f"message {subtype}", channel=channel)
        return
    if subtype or event.get("bot_id"):
        log_event("skipped", reason="a bot's or system message", channel=channel, subtype=subtype)
        return
    thread_ts, user = event.get("thread_ts"), event.get("user")
    if (
        not (
            isinstance(channel, str)
            and isinstance(ts, str)
            and isinstance(thread_ts, str)
            and isinstance(user, str)
        )
        or thread_ts == ts
    ):
        return  # not a reply in a thread: nothing to do, not worth a log line
    text = str(event.get("text") or "")
    bot_user = context.get("bot_user_id") or services.bot_user_id
    if bot_user and f"<@{bot_user}" in text:
        return  # the mention listener answers it
    if not services.settings.slack.allows(channel):
        return
    if await services.store.get_thread(channel, thread_ts) is None:
        return  # a thread rcabot never answered in
    if not await services.first_delivery(body):
        return
    if not await services.store.claim(f"msg:{channel}:{ts}", MESSAGE_CLAIM_S):
        log_event("skipped", reason="message already handled", channel=channel, ts=ts)
        return
    team = event.get("team")
    question = Question(
        channel=channel,
        thread_ts=thread_ts,
        ts=ts,
        user=user,
        team=team if isinstance(team, str) else None,
        text=text,
    )
    await ask(services, question, follow_up=True)


async def on_other_event(event: dict[str, Any]) -> None:
    log_event("skipped", reason="event type not handled", type=str(event.get("type"))[:40])
