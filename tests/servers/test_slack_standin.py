"""The Slack stand-ins checked against the real libraries: slack_sdk's AsyncWebClient (and its
chat_stream helper and rate-limit retry handler) against FakeSlack, slack_sdk's SignatureVerifier
and Bolt's dispatch against the slack_requests builders, and Bolt's Socket Mode handlers (aiohttp
and websockets flavours) against FakeSocketMode."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
import websockets
from slack_bolt.adapter.socket_mode.async_base_handler import AsyncBaseSocketModeHandler
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.websockets import (
    AsyncSocketModeHandler as WebsocketsSocketModeHandler,
)
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.say.async_say import AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.servers import slack_requests as sr
from tests.servers.slack import FakeSlack
from tests.servers.slack_limits import MAX_BLOCKS, MAX_HEADER_TEXT, MAX_SECTION_TEXT, MAX_TEXT
from tests.servers.slack_messages import (
    BOT_USER_ID,
    FIRST_TS_US,
    TEAM_ID,
    ts_to_us,
    us_to_ts,
)
from tests.servers.slack_socket import FakeSocketMode

TOKEN = "xoxb-17653672481-19874698323-standin"
APP_TOKEN = "xapp-1-A0001-0000000000-standin"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = sr.CHANNEL_ID
USER = sr.USER_ID

Json = dict[str, Any]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.api_url)


def section(text: str) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def feedback_block() -> Json:
    button = {"text": {"type": "plain_text", "text": "Helpful"}, "value": "good"}
    bad = {"text": {"type": "plain_text", "text": "Not helpful"}, "value": "bad"}
    element = {
        "type": "feedback_buttons",
        "action_id": "feedback",
        "positive_button": button,
        "negative_button": bad,
    }
    return {"type": "context_actions", "elements": [element]}


async def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


# -- Web API ------------------------------------------------------------------------------------


async def test_posts_and_edits_show_in_the_thread_as_users_see_them(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    first = await client.chat_postMessage(channel=CHANNEL, text="first")
    assert first["ts"] == us_to_ts(FIRST_TS_US)
    parent = slack.add_message(CHANNEL, f"<@{BOT_USER_ID}> why is checkout slow?")
    looking = await client.chat_postMessage(channel=CHANNEL, thread_ts=parent, text="Looking…")
    second = await client.chat_postMessage(channel=CHANNEL, thread_ts=parent, text="Still looking")
    assert ts_to_us(first["ts"]) < ts_to_us(parent) < ts_to_us(looking["ts"])
    assert ts_to_us(looking["ts"]) < ts_to_us(second["ts"])
    assert looking["message"]["thread_ts"] == parent and looking["channel"] == CHANNEL

    updated = await client.chat_update(
        channel=CHANNEL, ts=looking["ts"], text="Found it", blocks=[section("*Cause:* a deploy")]
    )
    assert updated["message"]["edited"]

    parent_msg, edited, still = slack.thread(CHANNEL, parent)
    assert (parent_msg.user, parent_msg.bot) == ("U0USER", False)
    assert edited.text == "Found it" and edited.edited and edited.bot
    assert edited.shown_text == "*Cause:* a deploy"
    assert still.shown_text == "Still looking" and not still.edited
    posts = slack.calls("chat.postMessage")
    assert [c.args["text"] for c in posts] == ["first", "Looking…", "Still looking"]
    assert posts[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert [c.method for c in slack.calls()][-1] == "chat.update"


@pytest.mark.parametrize(
    ("token", "method", "error"),
    [
        ("xoxb-other", "chat.postMessage", None),
        ("xoxp-user-token", "chat.postMessage", "invalid_auth"),
        ("not-a-token", "auth.test", "invalid_auth"),
        (APP_TOKEN, "chat.postMessage", "not_allowed_token_type"),
        (TOKEN, "apps.connections.open", "not_allowed_token_type"),
        (None, "auth.test", "not_authed"),
    ],
)
async def test_tokens_are_checked_like_slack_checks_them(
    slack: FakeSlack, token: str | None, method: str, error: str | None
) -> None:
    client = AsyncWebClient(token=token, base_url=slack.api_url)
    call = client.api_call(method, json={"channel": CHANNEL, "text": "hi"})
    if error is None:
        assert (await call)["ok"]
    else:
        assert (await error_of(call)).response["error"] == error


async def test_an_expected_token_must_match_exactly() -> None:
    async with FakeSlack(token=TOKEN) as slack:
        wrong = AsyncWebClient(token="xoxb-someone-else", base_url=slack.api_url)
        assert (await error_of(wrong.auth_test())).response["error"] == "invalid_auth"
        right = await AsyncWebClient(token=TOKEN, base_url=slack.api_url).auth_test()
        assert (right["user_id"], right["bot_id"], right["team_id"]) == ("UBOT", "BBOT", TEAM_ID)
        assert right["user"] == "rcabot"


async def test_form_and_query_arguments_are_read_like_json(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [section("from a form")]
    form = {"channel": CHANNEL, "text": "fallback", "blocks": json.dumps(blocks)}
    posted = await client.api_call("chat.postMessage", data=form)
    assert slack.calls()[-1].headers["Content-Type"].startswith("application/x-www-form")
    shown = slack.message(CHANNEL, posted["ts"])
    assert shown is not None and shown.blocks == blocks

    await client.reactions_add(channel=CHANNEL, timestamp=posted["ts"], name="eyes")  # query
    shown = slack.message(CHANNEL, posted["ts"])
    assert shown is not None and shown.reactions == ["eyes"]
    again = client.reactions_add(channel=CHANNEL, timestamp=posted["ts"], name="eyes")
    assert (await error_of(again)).response["error"] == "already_reacted"

    await client.chat_delete(channel=CHANNEL, ts=posted["ts"])
    assert slack.message(CHANNEL, posted["ts"]) is None
    gone = client.chat_delete(channel=CHANNEL, ts=posted["ts"])
    assert (await error_of(gone)).response["error"] == "message_not_found"


async def test_chat_stream_helper_streams_into_the_thread(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    parent = slack.add_message(CHANNEL, "<@UBOT> what broke?")
    streamer = await client.chat_stream(
        channel=CHANNEL,
        thread_ts=parent,
        recipient_user_id=USER,
        recipient_team_id=TEAM_ID,
        buffer_size=8,
    )
    await streamer.append(markdown_text="**The checkout")
    await streamer.append(markdown_text=" service** failed")
    assert streamer.ts is not None
    editing = client.chat_update(channel=CHANNEL, ts=streamer.ts, text="x")
    assert (await error_of(editing)).response["error"] == "streaming_state_conflict"
    midway = slack.thread(CHANNEL, parent)[-1]
    assert (
        midway.streamed
        and not midway.stopped
        and midway.markdown == "**The checkout service** failed"
    )

    await streamer.stop(markdown_text=" after the deploy.", blocks=[feedback_block()])
    reply = slack.thread(CHANNEL, parent)[-1]
    assert reply.markdown == "**The checkout service** failed after the deploy."
    assert reply.stopped and reply.blocks == [feedback_block()]
    methods = [c.method for c in slack.calls()]
    assert methods.count("chat.startStream") == 1 and methods[-1] == "chat.stopStream"
    assert "chat.appendStream" in methods

    late = client.chat_appendStream(channel=CHANNEL, ts=streamer.ts, markdown_text="more")
    assert (await error_of(late)).response["error"] == "message_not_in_streaming_state"
    again = client.chat_stopStream(channel=CHANNEL, ts=streamer.ts)
    assert (await error_of(again)).response["error"] == "message_not_in_streaming_state"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"thread_ts": "1.1", "recipient_team_id": TEAM_ID}, "missing_recipient_user_id"),
        ({"thread_ts": "1.1", "recipient_user_id": USER}, "missing_recipient_team_id"),
        ({"recipient_user_id": USER, "recipient_team_id": TEAM_ID}, "invalid_arguments"),
        (
            {"thread_ts": "1.1", "recipient_user_id": USER, "recipient_team_id": TEAM_ID,
             "chunks": [{"type": "nonsense"}]},
            "invalid_chunks",
        ),
    ],
)  # fmt: skip
async def test_a_stream_needs_its_thread_and_recipient(
    slack: FakeSlack, client: AsyncWebClient, args: Json, error: str
) -> None:
    started = client.api_call("chat.startStream", json={"channel": CHANNEL, **args})
    assert (await error_of(started)).response["error"] == error
    assert slack.workspace.messages == {}


async def test_a_rate_limit_is_retried_by_slack_sdks_handler(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.fail("chat.postMessage", retry_after=1)
    refused = await error_of(client.chat_postMessage(channel=CHANNEL, text="once"))
    assert refused.response.status_code == 429 and refused.response["error"] == "ratelimited"
    assert refused.response.headers["Retry-After"] == "1"

    slack.fail("chat.postMessage", retry_after=0)
    patient = AsyncWebClient(
        token=TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    posted = await patient.chat_postMessage(channel=CHANNEL, text="twice")
    assert posted["ok"]
    statuses = [c.status for c in slack.calls("chat.postMessage")]
    assert statuses == [429, 429, 200]
    assert [m.text for m in slack.thread(CHANNEL, posted["ts"])] == ["twice"]


async def test_errors_and_delays_are_injected(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", error="channel_not_found", times=2)
    for _ in range(2):
        refused = await error_of(client.chat_postMessage(channel="C404", text="x"))
        assert refused.response.status_code == 200
        assert refused.response["error"] == "channel_not_found"
    assert (await client.chat_postMessage(channel=CHANNEL, text="x"))["ok"]

    slack.fail("*", error="fatal_error", times=None)
    for _ in range(2):
        assert (await error_of(client.auth_test())).response["error"] == "fatal_error"
    slack.clear_faults()
    assert (await client.auth_test())["ok"]

    slack.slow("auth.test", 0.2, times=1)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started < 0.2

    unknown = await error_of(client.api_call("chat.teleport"))
    assert unknown.response["error"] == "unknown_method"


@pytest.mark.parametrize(
    ("limit_args", "error"),
    [
        ({"blocks": [{"type": "divider"}] * (MAX_BLOCKS + 1)}, "invalid_blocks"),
        ({"blocks": [section("x" * (MAX_SECTION_TEXT + 1))]}, "invalid_blocks"),
        (
            {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
            "invalid_blocks",
        ),
        ({"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]},
         "invalid_blocks"),
        ({"blocks": [{"type": "no_such_block"}]}, "invalid_blocks"),
        ({"blocks": "[not json"}, "invalid_blocks_format"),
        ({"text": "t" * (MAX_TEXT + 1)}, "msg_too_long"),
        ({}, "no_text"),
    ],
)  # fmt: skip
async def test_messages_over_slacks_limits_are_refused(
    slack: FakeSlack, client: AsyncWebClient, limit_args: Json, error: str
) -> None:
    refused = await error_of(
        client.api_call("chat.postMessage", json={"channel": CHANNEL, **limit_args})
    )
    assert refused.response["error"] == error
    assert slack.workspace.messages == {}


async def test_messages_at_slacks_limits_are_accepted(client: AsyncWebClient) -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * MAX_HEADER_TEXT}}
    blocks = [header, section("s" * MAX_SECTION_TEXT)] + [{"type": "divider"}] * (MAX_BLOCKS - 2)
    posted = await client.chat_postMessage(channel=CHANNEL, text="t" * MAX_TEXT, blocks=blocks)
    assert posted["ok"]


async def test_ephemeral_replies_are_seen_by_one_person_and_not_listed(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    parent = slack.add_message(CHANNEL, "<@UBOT> help")
    reply = await client.chat_postMessage(channel=CHANNEL, thread_ts=parent, text="public")
    whisper = await client.chat_postEphemeral(
        channel=CHANNEL, user=USER, thread_ts=parent, text="only you"
    )
    shown = slack.thread(CHANNEL, parent)
    assert [(m.text, m.ephemeral, m.visible_to) for m in shown[1:]] == [
        ("public", False, None),
        ("only you", True, USER),
    ]
    listed = await client.conversations_replies(channel=CHANNEL, ts=parent)
    assert [m["ts"] for m in listed["messages"]] == [parent, reply["ts"]]
    assert whisper["message_ts"] not in [m["ts"] for m in listed["messages"]]
    assert listed["messages"][0]["reply_count"] == 1 and not listed["has_more"]
    assert listed["messages"][1]["bot_id"] == "BBOT"


async def test_permalinks_and_unknown_threads(slack: FakeSlack, client: AsyncWebClient) -> None:
    parent = slack.add_message(CHANNEL, "question")
    reply = await client.chat_postMessage(channel=CHANNEL, thread_ts=parent, text="answer")
    link = await client.chat_getPermalink(channel=CHANNEL, message_ts=reply["ts"])
    assert link["permalink"].endswith(
        f"/archives/{CHANNEL}/p{reply['ts'].replace('.', '')}?thread_ts={parent}&cid={CHANNEL}"
    )
    assert slack.calls("chat.getPermalink")[0].args["message_ts"] == reply["ts"]  # a GET query
    missing = client.conversations_replies(channel=CHANNEL, ts="1.000001")
    assert (await error_of(missing)).response["error"] == "thread_not_found"


async def test_assistant_status_shows_until_the_bot_replies(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    parent = slack.add_message(CHANNEL, "<@UBOT> why?")
    await client.assistant_threads_setStatus(
        channel_id=CHANNEL, thread_ts=parent, status="is reading the logs…"
    )
    assert slack.status(CHANNEL, parent) == "is reading the logs…"
    await client.chat_postMessage(channel=CHANNEL, thread_ts=parent, text="Here is what I found")
    assert slack.status(CHANNEL, parent) == ""


async def test_wait_for_returns_once_the_app_got_there(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel=CHANNEL, text="done")

    task = asyncio.create_task(later())
    posts = await slack.wait_for(lambda: slack.calls("chat.postMessage"), timeout=5)
    await task
    assert [c.args["text"] for c in posts] == ["done"]
    with pytest.raises(TimeoutError, match=r"chat\.postMessage:ok"):
        await slack.wait_for(lambda: slack.calls("chat.delete"), timeout=0.1)


# -- signed requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        sr.json_body(sr.event_callback(sr.app_mention())),
        sr.form_body(sr.slash_command("checkout last 30m")),
        sr.interaction_body(sr.feedback_action("good")),
    ],
)
def test_signatures_verify_with_slack_sdk(body: bytes) -> None:
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, sr.sign(body, SECRET))
    assert not verifier.is_valid_request(body, sr.sign(body, "another-secret"))
    assert not verifier.is_valid_request(body + b" ", sr.sign(body, SECRET))
    stale = int(time.time()) - 6 * 60
    assert not verifier.is_valid_request(body, sr.sign(body, SECRET, timestamp=stale))


async def test_bolt_accepts_every_built_request_over_http(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    app = AsyncApp(client=client, signing_secret=SECRET)
    seen: asyncio.Queue[tuple[str, Json]] = asyncio.Queue()

    @app.event("app_mention")
    async def mention(event: Json, say: AsyncSay) -> None:
        await say(text="Looking into it", thread_ts=event["ts"])
        await seen.put(("app_mention", event))

    @app.event("message")
    async def message(event: Json) -> None:
        await seen.put((event.get("subtype") or "message", event))

    @app.command("/rca")
    async def command(ack: AsyncAck, command: Json) -> None:
        await ack(text=f"Investigating {command['text']}")

    @app.action("feedback")
    async def feedback(ack: AsyncAck, action: Json, body: Json) -> None:
        await ack()
        await seen.put((action["type"], body))

    async def deliver(body: bytes, content_type: str) -> tuple[int, str]:
        headers: dict[str, str | Sequence[str]] = {
            **sr.sign(body, SECRET),
            "Content-Type": content_type,
        }
        response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        return response.status, response.body

    challenge = sr.url_verification("c-123")
    assert await deliver(sr.json_body(challenge), sr.JSON) == (200, '{"challenge": "c-123"}')
    answer = await deliver(sr.form_body(sr.slash_command("checkout")), sr.FORM)
    assert answer == (200, "Investigating checkout")  # Bolt answers a text-only ack as plain text

    mention_event = sr.app_mention()
    events = [
        mention_event,
        sr.message("hello", thread_ts=mention_event["ts"]),
        sr.message_changed(mention_event["ts"], "edited", previous_text="orig"),
        sr.message_deleted(mention_event["ts"], previous_text="orig"),
        sr.bot_message(attachments=[{"color": "danger", "title": "[FIRING:1] HighLatency"}]),
    ]
    for event in events:
        assert (await deliver(sr.json_body(sr.event_callback(event)), sr.JSON))[0] == 200
    clicked = sr.feedback_action("good", message_ts="1710000000.000001", thread_ts="1.0")
    assert (await deliver(sr.interaction_body(clicked), sr.FORM))[0] == 200

    kinds = {}
    for _ in range(len(events) + 1):
        kind, payload = await asyncio.wait_for(seen.get(), 5)
        kinds[kind] = payload
    assert set(kinds) == {
        "app_mention", "message", "message_changed", "message_deleted", "bot_message",
        "feedback_buttons",
    }  # fmt: skip
    assert kinds["feedback_buttons"]["actions"][0]["value"] == "good"
    [reply] = slack.calls("chat.postMessage")
    assert reply.args["thread_ts"] == mention_event["ts"]


# -- Socket Mode --------------------------------------------------------------------------------

HANDLERS = {"aiohttp": AsyncSocketModeHandler, "websockets": WebsocketsSocketModeHandler}


@pytest.fixture(params=sorted(HANDLERS))
async def socket_app(
    request: pytest.FixtureRequest, slack: FakeSlack, client: AsyncWebClient
) -> AsyncIterator[tuple[AsyncApp, FakeSocketMode, AsyncBaseSocketModeHandler]]:
    """A Bolt app connected through one of Bolt's async Socket Mode handlers."""
    async with FakeSocketMode() as socket:
        slack.attach_socket(socket)
        app = AsyncApp(client=client)
        handler = HANDLERS[request.param](app, app_token=APP_TOKEN)
        try:
            yield app, socket, handler
        finally:
            await handler.close_async()


async def test_bolt_socket_mode_receives_envelopes_and_acks(
    slack: FakeSlack, socket_app: tuple[AsyncApp, FakeSocketMode, AsyncBaseSocketModeHandler]
) -> None:
    app, socket, handler = socket_app

    @app.event("app_mention")
    async def mention(event: Json, say: AsyncSay) -> None:
        await say(text="On it", thread_ts=event["ts"])

    @app.command("/rca")
    async def command(ack: AsyncAck) -> None:
        await ack(text="Investigating…")

    await handler.connect_async()  # type: ignore[no-untyped-call]
    await socket.wait_connected()
    assert socket.received == [] and slack.calls("apps.connections.open")[0].ok

    event = sr.app_mention()
    envelope_id = await socket.send_envelope("events_api", sr.event_callback(event))
    assert (await socket.wait_ack(envelope_id)).payload is None
    [reply] = await slack.wait_for(lambda: slack.calls("chat.postMessage"))
    assert (reply.args["channel"], reply.args["thread_ts"]) == (event["channel"], event["ts"])

    envelope_id = await socket.send_envelope("slash_commands", sr.slash_command("checkout"))
    ack = await socket.wait_ack(envelope_id)
    assert ack.payload is not None and ack.payload["text"] == "Investigating…"


async def test_bolt_socket_mode_reconnects_when_asked(
    slack: FakeSlack, socket_app: tuple[AsyncApp, FakeSocketMode, AsyncBaseSocketModeHandler]
) -> None:
    app, socket, handler = socket_app

    @app.action("feedback")
    async def feedback(ack: AsyncAck) -> None:
        await ack()

    await handler.connect_async()  # type: ignore[no-untyped-call]
    await socket.wait_connected()
    await socket.disconnect()
    await socket.wait_connected(opened=2)
    assert len(slack.calls("apps.connections.open")) == 2  # a fresh URL for the new connection

    envelope_id = await socket.send_envelope("interactive", sr.feedback_action("bad"))
    assert (await socket.wait_ack(envelope_id)).envelope_id == envelope_id


async def test_the_socket_refuses_a_url_it_never_issued() -> None:
    async with FakeSocketMode() as socket:
        forged = socket.issue_url().split("?")[0] + "?ticket=forged"
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(forged)
        async with websockets.connect(socket.issue_url()) as connection:
            hello = json.loads(await connection.recv())
        assert hello["type"] == "hello" and hello["num_connections"] == 1
