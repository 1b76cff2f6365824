"""``/rca <alert|service> [window]``: ack within Slack's 3 s, then the report in the channel.

The arguments are checked before the ack, so a mistake is answered by the ack itself, as an
ephemeral usage message only the user sees. The investigation is queued after the ack. When
nothing can be posted in the channel (rcabot was not invited), the user is told through the
command's ``response_url``, which works without membership; that call is bounded and logged,
never left hanging on an unreachable hook.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack.blocks import usage_message
from bot.slack.logs import log_event
from bot.slack.rca import rca
from bot.slack.rca_args import RcaUsageError, parse_rca
from bot.slack.services import services_of

RESPOND_TIMEOUT_S = 10.0
NOT_IN_CHANNEL = "rcabot could not post in this channel: invite it (/invite @rcabot) and retry."


def register(app: AsyncApp) -> None:
    app.command("/rca")(on_rca)


async def on_rca(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: dict[str, Any]
) -> None:
    services = services_of(context)
    channel = str(command.get("channel_id") or "")
    if not services.settings.slack.allows(channel):
        await ack(
            text="rcabot is not enabled in this channel (slack.allowed_channels).",
            response_type="ephemeral",
        )
        log_event("skipped", reason="channel not allowed", channel=channel, command="/rca")
        return
    now = datetime.now(UTC)
    try:
        args = parse_rca(str(command.get("text") or ""), now)
    except RcaUsageError as exc:
        await ack(text=usage_message(str(exc)), response_type="ephemeral")
        return
    await ack()
    outcome = await rca(services, args, channel=channel, now=now)
    if outcome == "unposted":
        await _tell_user(respond, channel, NOT_IN_CHANNEL)


async def _tell_user(respond: AsyncRespond, channel: str, text: str) -> None:
    """An ephemeral message through ``response_url``; a failure is logged (nothing else can
    reach the user)."""
    try:
        async with asyncio.timeout(RESPOND_TIMEOUT_S):
            sent = await respond(text=text, response_type="ephemeral")
    except (ClientError, OSError, TimeoutError, ValueError) as exc:  # ValueError: no URL
        log_event("respond_failed", channel=channel, error=type(exc).__name__)
        return
    if sent.status_code != 200:
        log_event("respond_failed", channel=channel, error=f"HTTP {sent.status_code}")
