"""The Slack bot end to end: signed HTTP requests into ``rcabot serve``, the Slack stand-in
recording what users see (tests/bot/slackbot.py)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from tests.bot.slackbot import SECRET, bot_under_test
from tests.servers.slack_messages import BOT_USER_ID
from tests.servers.slack_requests import (
    CHANNEL_ID,
    JSON,
    app_mention,
    event_callback,
    json_body,
    message,
    sign,
    url_verification,
)
from tests.servers.tgi import Reply, TgiStandin


async def test_url_verification_answers_the_challenge(tmp_path: Path, small_bundle: Path) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answer = await bot.event(url_verification("xyz-challenge"))
        assert answer.status_code == 200
        assert answer.json() == {"challenge": "xyz-challenge"}


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": str(int(time.time()))},
        "stale",
        "tampered",
    ],
)
async def test_requests_not_signed_by_slack_are_refused_and_nothing_runs(
    tmp_path: Path, small_bundle: Path, headers: object
) -> None:
    body = json_body(event_callback(app_mention(f"<@{BOT_USER_ID}> why is api failing?")))
    if headers == "stale":
        sent = sign(body, SECRET, timestamp=int(time.time()) - 6 * 60)
    elif headers == "tampered":
        sent = sign(body, SECRET)
        body = body.replace(b"api failing", b"web failing")
    else:
        assert isinstance(headers, dict)
        sent = headers
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answer = await bot.post(body, JSON, headers=sent)
        await asyncio.sleep(0.3)
        await bot.settle()
        assert answer.status_code == 401
        assert [c.method for c in bot.slack.calls() if c.method != "auth.test"] == []


async def test_a_mention_is_answered_in_its_thread_with_progress_first(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        mention = app_mention(f"<@{BOT_USER_ID}> why is api failing?")
        started = time.monotonic()
        answer = await bot.event(event_callback(mention))
        assert answer.status_code == 200
        first = await bot.slack.wait_for(lambda: bot.replies(mention["ts"]), timeout=5)
        assert time.monotonic() - started < 1.5
        assert first[0].streamed
        await bot.settle()
        [reply] = bot.replies(mention["ts"])
        assert reply.thread_ts == mention["ts"]
        assert reply.stopped
        tasks = [c for c in reply.chunks if c.get("type") == "task_update"]
        assert tasks, "progress shown as tasks while it ran"
        shown = reply.shown_text
        assert "api" in shown
        methods = [c.method for c in bot.slack.calls()]
        assert methods.index("chat.startStream") < methods.index("chat.stopStream")


async def test_a_follow_up_in_the_thread_carries_the_earlier_turns(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        mention = app_mention(f"<@{BOT_USER_ID}> why is api failing?")
        await bot.event(event_callback(mention))
        await bot.settle()
        follow = message("and what about the db?", thread_ts=mention["ts"])
        await bot.event(event_callback(follow))
        await bot.settle()
        assert len(bot.replies(mention["ts"])) == 2
        state = await bot.bot.services.store.get_thread(CHANNEL_ID, mention["ts"])
        assert state is not None
        assert [t.question for t in state.conversation.turns] == [
            "why is api failing?",
            "and what about the db?",
        ]


async def test_a_mention_answered_by_the_model_streams_its_statements_as_they_are_grounded(
    tmp_path: Path, small_bundle: Path, tgi_standin: TgiStandin
) -> None:
    from bot.commands import investigate_bundle
    from bot.config import Settings

    ranked = await investigate_bundle(Settings(), small_bundle, use_llm=False)
    top = ranked.candidates[0]
    said = [
        {
            "text": f"The {top.service} service is the likely cause",
            "evidence": top.evidence_ids[:1],
        },
        {"text": "Nothing supports this", "evidence": ["E99"]},  # never shown: not grounded
    ]
    tgi_standin.script(
        Reply.json({"answer": "the evidence is enough"}), Reply.json({"statements": said})
    )
    llm = {"url": tgi_standin.url, "api": "tgi", "timeout_s": 20}
    async with bot_under_test(tmp_path, bundle=small_bundle, llm=llm) as bot:
        mention = app_mention(f"<@{BOT_USER_ID}> why is api failing?")
        await bot.event(event_callback(mention))
        await bot.settle()
        [reply] = bot.replies(mention["ts"])
        assert reply.stopped
        assert "likely cause" in reply.markdown and "Nothing supports" not in reply.markdown
        appended = [
            c for c in bot.slack.calls("chat.appendStream") if "likely cause" in str(c.args)
        ]
        stopped = bot.slack.calls("chat.stopStream")[-1]
        assert appended and appended[0].at <= stopped.at  # shown before the stream ended
        assert "/generate_stream" in tgi_standin.paths()
        assert "*Most likely cause:*" not in json.dumps(reply.blocks)  # not repeated below
