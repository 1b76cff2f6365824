"""``@rcabot <question>``: answered in the thread (a mention inside a thread is a follow-up
with that thread's memory, when rcabot answered there before)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.logs import log_event
from bot.slack.services import services_of
from bot.slack.threads import Question, ask

MESSAGE_CLAIM_S = 24 * 3600.0  # a message is answered once (mention + message events, retries)


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_mention)


async def on_mention(event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]) -> None:
    services = services_of(context)
    if not await services.first_delivery(body):
        return
    channel, ts, user = event.get("channel"), event.get("ts"), event.get("user")
    if not (isinstance(channel, str) and isinstance(ts, str) and isinstance(user, str)):
        log_event("skipped", reason="mention without channel, ts or user")
        return
    if not services.settings.slack.allows(channel):
        log_event("skipped", reason="channel not allowed", channel=channel)
        return
    if not await services.store.claim(f"msg:{channel}:{ts}", MESSAGE_CLAIM_S):
        log_event("skipped", reason="message already handled", channel=channel, ts=ts)
        return
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    question = Question(
        channel=channel,
        thread_ts=thread_ts or ts,
        ts=ts,
        user=user,
        team=event.get("team") if isinstance(event.get("team"), str) else None,
        text=str(event.get("text") or ""),
    )
    await ask(services, question, follow_up=False)
