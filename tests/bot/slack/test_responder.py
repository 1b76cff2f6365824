"""Showing an investigation while it runs (bot/slack/responder.py), against the Slack stand-in:
a streamed reply, and the post-then-update fallback when Slack will not stream."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.investigation.progress import Progress
from bot.investigation.report import Report
from bot.slack import responder as responder_module
from bot.slack.responder import MessageResponder, StreamResponder
from tests.bot.slack.reports import candidate, evidence, report
from tests.servers.slack import FakeSlack, VisibleMessage
from tests.servers.slack_messages import TEAM_ID
from tests.servers.slack_requests import CHANNEL_ID, USER_ID

STREAM_METHODS = ("chat.appendStream", "chat.stopStream")
STAGES = ("scope", "metrics", "gather", "rank", "write", "validate")


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-x", base_url=slack.api_url)


@pytest.fixture
def parent(slack: FakeSlack) -> str:
    """The user's message the reply goes under."""
    return slack.add_message(CHANNEL_ID, "why is checkout failing?", user=USER_ID)


def a_report(answer_by: str = "deterministic") -> Report:
    items = [evidence(1), evidence(2)]
    return report(items, [candidate(1, ["E1"]), candidate(2, ["E2"])], answer_by=answer_by)


def streaming(client: AsyncWebClient, thread_ts: str) -> StreamResponder:
    return StreamResponder(client, CHANNEL_ID, thread_ts, user=USER_ID, team=TEAM_ID)


def stage(name: str) -> Progress:
    return Progress("stage", stage=name)


def only_reply(slack: FakeSlack, parent: str) -> VisibleMessage:
    [reply] = slack.thread(CHANNEL_ID, parent)[1:]
    return reply


def failed_calls(slack: FakeSlack) -> list[tuple[str, str | None]]:
    return [(c.method, c.error) for c in slack.calls() if not c.ok]


def last_status(reply: VisibleMessage) -> dict[str, str]:
    """Each task's status as last streamed."""
    return {c["id"]: c["status"] for c in reply.chunks if c.get("type") == "task_update"}


def shows_the_report(reply: VisibleMessage) -> bool:
    kinds = [b["type"] for b in reply.blocks]
    return bool(kinds) and kinds[0] == "header" and kinds[-1] == "context_actions"


async def test_a_stream_ticks_off_its_tasks_then_stops_with_the_report(
    slack: FakeSlack, client: AsyncWebClient, parent: str
) -> None:
    shown = streaming(client, parent)
    await shown.begin("Investigating…")
    [status] = slack.calls("assistant.threads.setStatus")
    assert status.args["status"] == "Investigating…" and status.args["thread_ts"] == parent
    for name in STAGES[:3]:
        await shown.progress(stage(name))
    await shown.progress(Progress("statement", text="checkout broke <!channel> [E1]"))
    await shown.finish(a_report(), "r1", "Why is checkout failing?")
    assert failed_calls(slack) == []
    reply = only_reply(slack, parent)
    assert reply.streamed and reply.stopped and shown.ts == reply.ts
    assert last_status(reply) == dict.fromkeys(["start", *STAGES[:3]], "complete")
    assert "checkout broke &lt;!channel&gt; [E1]" in reply.markdown  # escaped, never a ping
    assert shows_the_report(reply)
    methods = [c.method for c in slack.calls()]
    assert methods[0] == "assistant.threads.setStatus"
    assert methods.count("chat.startStream") == 1 and methods[-1] == "chat.stopStream"
    assert "chat.postMessage" not in methods and "chat.update" not in methods


async def test_a_model_answer_that_did_not_hold_up_is_said_above_the_report(
    slack: FakeSlack, client: AsyncWebClient, parent: str
) -> None:
    shown = streaming(client, parent)
    await shown.begin("Investigating…")
    await shown.progress(Progress("statement", text="it was the cache [E1]"))
    fell_back = a_report().model_copy(update={"answer_note": "model not used: it timed out"})
    await shown.finish(fell_back, "r1", "title")
    reply = only_reply(slack, parent)
    assert "model not used: it timed out: the evidence-based answer is below" in reply.markdown
    assert shows_the_report(reply)


@pytest.fixture
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(responder_module, "UPDATE_EVERY_S", 0.0)


async def test_when_slack_will_not_stream_it_posts_and_updates_instead(
    slack: FakeSlack, client: AsyncWebClient, parent: str, unthrottled: None
) -> None:
    slack.fail("chat.startStream", error="not_allowed")
    shown = streaming(client, parent)
    await shown.begin("Investigating…")
    reply = only_reply(slack, parent)
    assert not reply.streamed and "Investigating" in reply.text
    await shown.progress(stage("rank"))
    assert "Ranking the likely causes" in only_reply(slack, parent).text
    await shown.finish(a_report(), "r1", "title")
    reply = only_reply(slack, parent)
    assert shows_the_report(reply) and shown.ts == reply.ts
    assert [c.method for c in slack.calls() if not c.ok] == ["chat.startStream"]
    assert slack.calls("chat.appendStream") == [] and len(slack.calls("chat.postMessage")) == 1


async def test_a_stream_that_expired_mid_way_is_finished_by_editing_it(
    slack: FakeSlack, client: AsyncWebClient, parent: str, unthrottled: None
) -> None:
    shown = streaming(client, parent)
    await shown.begin("Investigating…")
    await shown.progress(stage("scope"))
    assert shown.ts is not None
    slack.workspace.messages[(CHANNEL_ID, shown.ts)].stopped = True  # Slack closed the stream
    await shown.progress(stage("gather"))  # appendStream: message_not_in_streaming_state
    await shown.progress(stage("rank"))
    await shown.finish(a_report(), "r1", "title")
    reply = only_reply(slack, parent)
    assert shows_the_report(reply) and reply.ts == shown.ts  # the same message, edited
    refused = {(c.method, c.error) for c in slack.calls() if not c.ok}
    assert refused <= {(m, "message_not_in_streaming_state") for m in STREAM_METHODS}


async def test_an_append_refused_while_the_stream_is_open_still_ends_with_the_report(
    slack: FakeSlack, client: AsyncWebClient, parent: str, unthrottled: None
) -> None:
    shown = streaming(client, parent)
    await shown.begin("Investigating…")
    slack.fail("chat.appendStream", error="message_not_in_streaming_state")
    await shown.progress(stage("gather"))  # must not raise: progress is best effort
    await shown.progress(stage("rank"))
    await shown.finish(a_report(), "r1", "title")
    replies = slack.thread(CHANNEL_ID, parent)[1:]
    assert replies and shows_the_report(replies[-1])
    assert all(r.stopped for r in replies if r.streamed)  # no stream left spinning


async def test_fail_before_the_stream_started_posts_the_warning(
    slack: FakeSlack, client: AsyncWebClient, parent: str
) -> None:
    await streaming(client, parent).fail("the bundle <!here> is unreadable")
    reply = only_reply(slack, parent)
    assert reply.text == ":warning: the bundle &lt;!here&gt; is unreadable"
    assert not reply.streamed


async def test_fail_after_the_stream_started_stops_it_with_the_warning(
    slack: FakeSlack, client: AsyncWebClient, parent: str
) -> None:
    shown = streaming(client, parent)
    await shown.begin("Investigating…")
    await shown.progress(stage("gather"))
    await shown.fail("no telemetry source answered")
    reply = only_reply(slack, parent)
    assert reply.stopped and ":warning: no telemetry source answered" in reply.markdown
    assert last_status(reply) == {"start": "complete", "gather": "error"}
    assert failed_calls(slack) == []


async def test_fail_after_falling_back_updates_the_posted_message(
    slack: FakeSlack, client: AsyncWebClient, parent: str
) -> None:
    slack.fail("chat.startStream", error="not_allowed")
    shown = streaming(client, parent)
    await shown.begin("Investigating…")
    await shown.fail("the deadline passed")
    reply = only_reply(slack, parent)
    assert reply.text == ":warning: the deadline passed" and reply.edited


async def test_message_updates_are_throttled_and_keep_every_stage(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    shown = MessageResponder(client, CHANNEL_ID, None)
    await shown.begin("/rca checkout: investigating…")
    assert shown.ts is not None
    for name in STAGES[:5]:
        await shown.progress(stage(name))
    assert len(slack.calls("chat.update")) <= 1  # five stages, well within UPDATE_EVERY_S
    ts = shown.ts

    def stages_shown() -> list[str]:
        message = slack.message(CHANNEL_ID, ts)
        assert message is not None and message.thread_ts is None  # top-level
        return [line for line in message.text.splitlines() if line.startswith("• ")]

    # what was throttled is shown once the interval is over (waited for: a slow machine's
    # update lands later than the interval, never sooner)
    await asyncio.sleep(responder_module.UPDATE_EVERY_S)
    await slack.wait_for(lambda: len(stages_shown()) == 5)
    await shown.progress(stage(STAGES[5]))
    await slack.wait_for(lambda: len(stages_shown()) == 6)
    lines = stages_shown()
    assert lines[-1] == "• Checking every statement against its evidence…"
    await shown.finish(a_report(), "r1", "title")
    message = slack.message(CHANNEL_ID, shown.ts)
    assert message is not None and shows_the_report(message)
    assert len(slack.calls("chat.postMessage")) == 1 and failed_calls(slack) == []


async def test_a_failed_progress_update_is_logged_and_the_work_goes_on(
    slack: FakeSlack, client: AsyncWebClient, unthrottled: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rcabot.slack")
    shown = MessageResponder(client, CHANNEL_ID, None)
    await shown.begin("investigating…")
    slack.fail("chat.update", error="internal_error")
    await shown.progress(stage("rank"))  # does not raise
    await shown.finish(a_report(), "r1", "title")
    assert shown.ts is not None
    message = slack.message(CHANNEL_ID, shown.ts)
    assert message is not None and shows_the_report(message)
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "rcabot.slack"]
    assert {"event": "progress_failed", "channel": CHANNEL_ID, "error": "internal_error"} in logged


async def test_a_throttled_progress_update_never_overwrites_the_report(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    shown = MessageResponder(client, CHANNEL_ID, None)
    await shown.begin("/rca checkout: investigating…")
    for name in STAGES[:4]:
        await shown.progress(stage(name))  # the later ones wait for the interval
    await shown.finish(a_report(), "r1", "the report")
    await asyncio.sleep(responder_module.UPDATE_EVERY_S + 0.1)
    assert shown.ts is not None
    message = slack.message(CHANNEL_ID, shown.ts)
    assert message is not None
    assert message.blocks and message.blocks[0]["type"] == "header"
    assert not any(line.startswith("• ") for line in message.text.splitlines())
