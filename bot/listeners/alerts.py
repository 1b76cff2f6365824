"""Alerts: alert bots' messages in watched channels, and the Alertmanager webhook receiver.

- An alert bot's top-level message in one of ``slack.watched_channels`` (Alertmanager's Slack
  notifier, Grafana, PagerDuty) that reads as an alert is summarised in its thread. rcabot's
  own messages never get here (Bolt drops them); other bots' replies in threads are skipped.
- ``POST /alertmanager[?channel=C…]``: Alertmanager's webhook (payload version 4),
  authenticated with the bearer token or basic auth its ``http_config`` sends; each alert is
  summarised in the channel named in the URL, else ``slack.alert_channel``. The HTTP answer
  says what happened to each alert; a bad payload is a 400 naming the problem, bad credentials
  a 401, and nothing is processed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.listeners.mentions import MESSAGE_CLAIM_S
from bot.slack.alert_flow import handle_alert
from bot.slack.alert_messages import is_alert_bot, parse_alert_message
from bot.slack.alertmanager import MAX_BODY, WebhookError, authorized, parse_webhook
from bot.slack.logs import log_event
from bot.slack.responder import SLACK_ERRORS
from bot.slack.services import Services, services_of
from bot.slack.settings import CHANNEL_ID
from tools.errors import StateError


def register(app: AsyncApp) -> None:
    app.event("message", matchers=[_watched_alert_bot])(on_alert_message)


async def _watched_alert_bot(event: dict[str, Any], context: dict[str, Any]) -> bool:
    services = services_of(context)
    channel = event.get("channel")
    return (
        channel in services.settings.slack.watched_channels
        and services.settings.slack.allows(channel)
        and event.get("subtype") not in ("message_changed", "message_deleted")
        and is_alert_bot(event)
    )


async def on_alert_message(
    event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]
) -> None:
    services = services_of(context)
    channel, ts = str(event.get("channel")), event.get("ts")
    if not isinstance(ts, str) or event.get("thread_ts") not in (None, ts):
        log_event("skipped", reason="a bot's reply in a thread", channel=channel)
        return
    try:
        at = datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError):
        at = datetime.now(UTC)
    alert = parse_alert_message(event, at)
    if alert is None:
        log_event("skipped", reason="a bot's message that is not an alert", channel=channel)
        return
    if not await services.first_delivery(body):
        return
    if not await services.store.claim(f"msg:{channel}:{ts}", MESSAGE_CLAIM_S):
        return
    outcome = await handle_alert(services, alert, channel, thread_ts=ts)
    log_event("alert_message", channel=channel, alert=alert.name, outcome=outcome)


def alertmanager_endpoint(services: Services) -> Any:
    """The Starlette endpoint for ``POST /alertmanager``."""

    async def receive(request: Request) -> Response:
        if not authorized(request.headers, services.settings.slack):
            log_event("webhook_refused", reason="unauthorized", client=_client(request))
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        channel = request.query_params.get("channel") or services.settings.slack.alert_channel
        if not channel or not CHANNEL_ID.fullmatch(channel):
            return JSONResponse(
                {
                    "error": "no channel: add ?channel=C… to the receiver URL or set "
                    "slack.alert_channel"
                },
                status_code=400,
            )
        if not services.settings.slack.allows(channel):
            return JSONResponse({"error": f"channel {channel} is not allowed"}, status_code=403)
        body = await bounded_body(request)
        if body is None:
            return JSONResponse({"error": f"payload larger than {MAX_BODY} bytes"}, 413)
        try:
            webhook = parse_webhook(body)
        except WebhookError as exc:
            log_event("webhook_refused", reason=str(exc))
            return JSONResponse({"error": str(exc)}, status_code=400)
        outcomes: list[dict[str, str]] = []
        try:
            for alert in webhook.alerts:
                outcome = await handle_alert(services, alert, channel)
                outcomes.append({"alert": alert.name, "status": alert.status, "outcome": outcome})
        except (StateError, *SLACK_ERRORS) as exc:
            log_event("webhook_failed", error=type(exc).__name__, channel=channel)
            # 503: Alertmanager retries; alerts already handled are deduplicated by fingerprint
            return JSONResponse({"error": "rcabot could not handle the alerts now"}, 503)
        log_event("webhook", channel=channel, group=webhook.group_key[:80], alerts=outcomes)
        return JSONResponse({"alerts": outcomes, "warnings": webhook.warnings})

    return receive


async def bounded_body(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The body, or ``None`` as soon as it is over ``limit`` bytes (kept for later readers)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's cache: request.body() returns it again
    return body


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
