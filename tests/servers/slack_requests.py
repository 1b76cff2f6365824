"""What Slack sends an app, built for tests: signed HTTP requests and the payloads inside them
(which Socket Mode delivers unchanged inside its envelopes, tests/servers/slack_socket.py).

Slack is not reachable here, so the shapes follow Slack's documentation (docs.slack.dev: "Verifying
requests from Slack", the Events API's ``event_callback`` wrapper, the ``app_mention`` and
``message`` events and their subtypes, slash commands, ``block_actions`` payloads) with the fields
Slack fills in, so the app's parsers meet what production gives them. tests/servers/
test_slack_standin.py checks them against slack_sdk's SignatureVerifier and Bolt's dispatch.

Payload builders return plain dicts (``event_callback`` for the Events API, ``slash_command`` a
dict of the form fields, ``block_actions`` the interaction payload); HTTP delivery encodes them:

    body = json_body(event_callback(app_mention("<@UBOT> why is checkout slow?")))
    headers = sign(body, SECRET) | {"Content-Type": JSON}

Every id, ts and trigger is fresh per call (a process-wide counter), so events never collide
with each other in a dedup store unless a test reuses one on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from tests.servers.slack_messages import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
USER_ID = "U0USER"
USER_NAME = "alice"
CHANNEL_ID = "C0001"
CHANNEL_NAME = "incidents"
VERIFICATION_TOKEN = "Jhj5dZrVaK7ZwHHjRyZWjbDl"  # the deprecated token Slack still sends along
FIRST_EVENT_SECONDS = 1_710_000_000

Json = dict[str, Any]
_counter = itertools.count(1)
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request-signing headers: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    ts = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(ts).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(ts)}


def json_body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def form_body(fields: Mapping[str, str]) -> bytes:
    return urlencode(fields).encode()


def interaction_body(payload: Mapping[str, Any]) -> bytes:
    """Interactions arrive form-encoded: a single ``payload`` field holding the JSON."""
    return form_body({"payload": json.dumps(payload)})


def fresh_ts() -> str:
    """A message ts no other builder call returns."""
    n = next(_counter)
    return f"{FIRST_EVENT_SECONDS + n}.{n % 1_000_000:06d}"


def _id(prefix: str, width: int = 9) -> str:
    return f"{prefix}{next(_counter):0{width}d}"


def rich_text(text: str) -> list[Json]:
    """The ``rich_text`` blocks Slack's clients attach to a typed message (mentions as users)."""
    elements: list[Json] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": _id("b", 5), "elements": [section]}]


# -- Events API ---------------------------------------------------------------------------------


def url_verification(
    challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
) -> Json:
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


def event_callback(
    event: Mapping[str, Any],
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    bot_user_id: str = BOT_USER_ID,
) -> Json:
    """The Events API wrapper around one event."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or _id("Ev0"),
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": _id("4-eyJldCI6ImFwcF9tZW50aW9uIn0-", 6),
    }


def _typed(text: str, user: str, channel: str, ts: str, thread_ts: str | None) -> Json:
    """The fields a message typed by a person carries."""
    fields: Json = {
        "user": user,
        "text": text,
        "ts": ts,
        "client_msg_id": _id("6a1b2c3d-0000-4000-8000-", 12),
        "team": TEAM_ID,
        "blocks": rich_text(text),
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts is not None:
        fields["thread_ts"] = thread_ts
    return fields


def app_mention(
    text: str = f"<@{BOT_USER_ID}> why is checkout slow?",
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
) -> Json:
    return {"type": "app_mention", **_typed(text, user, channel, ts or fresh_ts(), thread_ts)}


def message(
    text: str,
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    parent_user_id: str = USER_ID,
) -> Json:
    """A person's message, top-level or (with ``thread_ts``) a reply in a thread."""
    event = {"type": "message", **_typed(text, user, channel, ts or fresh_ts(), thread_ts)}
    event["channel_type"] = channel_type
    if thread_ts is not None:
        event["parent_user_id"] = parent_user_id
    return event


def _previous(text: str, user: str, ts: str, thread_ts: str | None) -> Json:
    shape: Json = {"type": "message", "user": user, "text": text, "ts": ts, "team": TEAM_ID}
    shape["blocks"] = rich_text(text)
    if thread_ts is not None:
        shape["thread_ts"] = thread_ts
    return shape


def message_changed(
    ts: str,
    text: str,
    *,
    previous_text: str = "",
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    thread_ts: str | None = None,
    channel_type: str = "channel",
) -> Json:
    """A person edited message ``ts`` to ``text``."""
    event_ts = fresh_ts()
    edited = _previous(text, user, ts, thread_ts)
    edited["edited"] = {"user": user, "ts": event_ts}
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": edited,
        "previous_message": _previous(previous_text, user, ts, thread_ts),
        "channel": channel,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel_type,
    }


def message_deleted(
    ts: str,
    *,
    previous_text: str = "",
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    thread_ts: str | None = None,
    channel_type: str = "channel",
) -> Json:
    event_ts = fresh_ts()
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": _previous(previous_text, user, ts, thread_ts),
        "channel": channel,
        "hidden": True,
        "deleted_ts": ts,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel_type,
    }


def bot_message(
    text: str = "",
    *,
    attachments: list[Json] | None = None,
    bot_id: str = "B0ALERTS",
    username: str = "Alertmanager",
    channel: str = CHANNEL_ID,
    ts: str | None = None,
    channel_type: str = "channel",
) -> Json:
    """A message from another integration (an incoming webhook, e.g. Alertmanager's)."""
    ts = ts or fresh_ts()
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": text,
        "username": username,
        "bot_id": bot_id,
        "attachments": attachments or [],
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }


# -- slash commands and interactions ------------------------------------------------------------


def slash_command(
    text: str = "",
    *,
    command: str = "/rca",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    team_id: str = TEAM_ID,
) -> dict[str, str]:
    """A slash command's fields (form-encoded over HTTP, a JSON object in Socket Mode)."""
    n = next(_counter)
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": f"https://hooks.slack.com/commands/{team_id}/{n}/r{n:023d}",
        "trigger_id": f"{n}.{n + 1000}.t{n:031d}",
    }


def block_actions(
    action_id: str,
    value: str,
    *,
    block_id: str = "rca_actions",
    action_type: str = "button",
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    message_blocks: list[Json] | None = None,
    action_text: str = "Click",
) -> Json:
    """A person clicked an element in one of the bot's messages."""
    n = next(_counter)
    message_ts = message_ts or fresh_ts()
    container: Json = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    bot_message_shape: Json = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "text": "",
        "ts": message_ts,
        "team": TEAM_ID,
        "blocks": message_blocks or [],
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
        bot_message_shape["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "user": {"id": user, "username": USER_NAME, "name": USER_NAME, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": f"{n}.{n + 1000}.t{n:031d}",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": CHANNEL_NAME},
        "message": bot_message_shape,
        "state": {"values": {}},
        "response_url": f"https://hooks.slack.com/actions/{TEAM_ID}/{n}/r{n:023d}",
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_text, "emoji": True},
                "value": value,
                "type": action_type,
                "action_ts": f"{int(time.time())}.{n % 1_000_000:06d}",
            }
        ],
    }


def feedback_action(
    value: str,
    *,
    action_id: str = "feedback",
    block_id: str = "rca_feedback",
    button_text: str = "Helpful",
    **kwargs: Any,
) -> Json:
    """A click on a ``feedback_buttons`` element (a context_actions block's thumbs up/down):
    ``value`` is the clicked button's ``value``, ``button_text`` its label."""
    return block_actions(
        action_id,
        value,
        block_id=block_id,
        action_type="feedback_buttons",
        action_text=button_text,
        **kwargs,
    )
