"""What the bot does with the events it should not answer (twice, or at all): Slack's retries,
edits and deletions, other bots, unknown event types, malformed bodies, channels it is not
allowed in. Nothing crashes the server; nothing is processed twice; each skip is one log line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.bot.slackbot import SECRET, bot_under_test
from tests.servers.slack_messages import BOT_USER_ID
from tests.servers.slack_requests import (
    CHANNEL_ID,
    JSON,
    app_mention,
    bot_message,
    event_callback,
    json_body,
    message,
    message_changed,
    message_deleted,
    sign,
)

QUESTION = f"<@{BOT_USER_ID}> why is api failing?"


def _answers(bot_calls: list[str]) -> int:
    return bot_calls.count("chat.startStream") + bot_calls.count("chat.postMessage")


async def test_slack_retries_of_an_event_are_answered_once(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        payload = event_callback(app_mention(QUESTION))
        first = await bot.event(payload)
        retries = await asyncio.gather(
            *(
                bot.event(payload, **{"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "x"})
                for n in (1, 2, 3)
            )
        )
        await bot.settle()
        assert first.status_code == 200
        assert [r.status_code for r in retries] == [200, 200, 200]
        assert _answers([c.method for c in bot.slack.calls()]) == 1
        assert bot.bot.services.work.stats.submitted == 1


async def test_a_retry_after_a_restart_is_still_recognised(
    tmp_path: Path, small_bundle: Path
) -> None:
    payload = event_callback(app_mention(QUESTION))
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        await bot.event(payload)
        await bot.settle()
    async with bot_under_test(tmp_path, bundle=small_bundle) as restarted:  # same state file
        answer = await restarted.event(payload, **{"X-Slack-Retry-Num": "1"})
        await restarted.settle()
        assert answer.status_code == 200
        assert restarted.bot.services.work.stats.submitted == 0


async def test_a_mention_in_a_thread_is_not_answered_twice_by_the_message_listener(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        mention = app_mention(QUESTION)
        await bot.event(event_callback(mention))
        await bot.settle()
        # Slack sends both app_mention and message for a mention in a thread
        again = app_mention(f"<@{BOT_USER_ID}> and the db?", thread_ts=mention["ts"])
        as_message = message(again["text"], ts=again["ts"], thread_ts=mention["ts"])
        await asyncio.gather(
            bot.event(event_callback(again)), bot.event(event_callback(as_message))
        )
        await bot.settle()
        assert len(bot.replies(mention["ts"])) == 2


@pytest.mark.parametrize("kind", ["edited", "deleted", "bot-reply", "top-level", "other-thread"])
async def test_messages_rcabot_should_not_answer_are_skipped(
    tmp_path: Path, small_bundle: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        mention = app_mention(QUESTION)
        await bot.event(event_callback(mention))
        await bot.settle()
        before = len(bot.slack.calls())
        events = {
            "edited": message_changed(
                mention["ts"], QUESTION + " and web?", previous_text=QUESTION
            ),
            "deleted": message_deleted(mention["ts"], previous_text=QUESTION),
            "bot-reply": {**bot_message("deploy bot says hi"), "thread_ts": mention["ts"]},
            "top-level": message("lunch?"),
            "other-thread": message("any idea?", thread_ts="1600000000.000100"),
        }
        answer = await bot.event(event_callback(events[kind]))
        await bot.settle()
        assert answer.status_code == 200
        assert len(bot.slack.calls()) == before
        assert len(bot.replies(mention["ts"])) == 1


async def test_unknown_event_types_are_acknowledged_and_logged(
    tmp_path: Path, small_bundle: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="rcabot.slack")
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answer = await bot.event(event_callback({"type": "reaction_added", "user": "U1"}))
        await bot.settle()
        assert answer.status_code == 200
        skipped = [json.loads(r.getMessage()) for r in caplog.records if r.name == "rcabot.slack"]
        assert {
            "event": "skipped",
            "reason": "event type not handled",
            "type": "reaction_added",
        } in (skipped)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json_body({"type": "event_callback", "event": "nope"}),
        json_body({"type": "event_callback", "event": {"type": "app_mention"}}),
        json_body(event_callback({"type": "app_mention", "text": 5, "channel": ["x"]})),
        b"x" * 2_000_000,
    ],
    ids=["not-json", "a-list", "event-not-object", "mention-without-fields", "wrong-types", "huge"],
)
async def test_malformed_payloads_never_crash_the_server(
    tmp_path: Path, small_bundle: Path, body: bytes
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answer = await bot.post(body, JSON, headers=sign(body, SECRET))
        await bot.settle()
        assert answer.status_code < 500
        assert _answers([c.method for c in bot.slack.calls()]) == 0
        health = await bot.http.get(f"{bot.url}/healthz")
        assert health.json()["ok"] is True  # still serving


async def test_channels_outside_the_allow_list_are_ignored(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, allowed_channels=["C0OTHER"]) as bot:
        answer = await bot.event(event_callback(app_mention(QUESTION)))
        await bot.settle()
        assert answer.status_code == 200
        assert _answers([c.method for c in bot.slack.calls()]) == 0


async def test_user_text_never_becomes_a_ping_or_a_hidden_link(
    tmp_path: Path, small_bundle: Path
) -> None:
    hostile = (
        f"<@{BOT_USER_ID}> why is <!channel> api failing <@U0BOSS> <https://evil.example|docs>?"
    )
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        mention = app_mention(hostile)
        await bot.event(event_callback(mention))
        await bot.settle()
        [reply] = bot.replies(mention["ts"])
        posted = json.dumps([c.args for c in bot.slack.calls() if c.method.startswith("chat.")])
        for ping in ("<!channel>", "<@U0BOSS>", "|docs>"):
            assert ping not in posted
        assert reply.stopped


async def test_healthz_reports_the_queue(tmp_path: Path, small_bundle: Path) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        health = (await bot.http.get(f"{bot.url}/healthz")).json()
        assert health == {"ok": True, "running": 0, "waiting": 0, "done": 0, "refused": 0}
        with pytest.raises(httpx.HTTPStatusError):
            (await bot.http.get(f"{bot.url}/slack/events")).raise_for_status()
        assert CHANNEL_ID  # the default channel the builders use


async def test_a_thread_with_many_replies_answers_each_and_keeps_memory_bounded(
    tmp_path: Path, small_bundle: Path
) -> None:
    from bot.investigation.conversation import MAX_TURNS

    async with bot_under_test(
        tmp_path, bundle=small_bundle, channel_rate_per_min=1000, queue_size=500
    ) as bot:
        mention = app_mention(QUESTION)
        await bot.event(event_callback(mention))
        await bot.settle()
        replies = [message(f"and now {n}?", thread_ts=mention["ts"]) for n in range(60)]
        answers = await asyncio.gather(*(bot.event(event_callback(r)) for r in replies))
        await bot.settle()
        assert {a.status_code for a in answers} == {200}
        assert len(bot.replies(mention["ts"])) == 61
        state = await bot.bot.services.store.get_thread(CHANNEL_ID, mention["ts"])
        assert state is not None and len(state.conversation.turns) <= MAX_TURNS


async def test_two_replicas_sharing_redis_answer_a_retried_event_once(
    tmp_path: Path, small_bundle: Path, redis_url: str
) -> None:
    payload = event_callback(app_mention(QUESTION))
    async with (
        bot_under_test(tmp_path / "a", bundle=small_bundle, state_url=redis_url) as one,
        bot_under_test(tmp_path / "b", bundle=small_bundle, state_url=redis_url) as two,
    ):
        first, retry = await asyncio.gather(
            one.event(payload), two.event(payload, **{"X-Slack-Retry-Num": "1"})
        )
        await asyncio.gather(one.settle(), two.settle())
        assert (first.status_code, retry.status_code) == (200, 200)
        submitted = one.bot.services.work.stats.submitted + two.bot.services.work.stats.submitted
        assert submitted == 1
