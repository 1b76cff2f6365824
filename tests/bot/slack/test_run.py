"""Running one investigation for Slack (bot/slack/run.py) on the bot's real services (its work
queue, store and Web API client against the Slack stand-in), with scripted investigations: a
full queue, an expected failure and a deadline each end in a short message in the thread."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.commands import OnProgress
from bot.investigation.progress import Progress
from bot.investigation.report import Report
from bot.slack.responder import MessageResponder
from bot.slack.run import allowed_rate, investigate_into, remember, start
from bot.slack.services import Services
from bot.slack.work import Work
from tests.bot.slack.reports import candidate, evidence, report
from tests.bot.slackbot import BotUnderTest, bot_under_test
from tests.servers.slack import VisibleMessage
from tests.servers.slack_requests import CHANNEL_ID
from tools.errors import InvestigationError

Investigate = Callable[[OnProgress], Awaitable[Report]]


def a_report() -> Report:
    return report([evidence(1), evidence(2)], [candidate(1, ["E1", "E2"])])


def responder_in_thread(bot: BotUnderTest) -> tuple[MessageResponder, str]:
    parent = bot.slack.add_message(CHANNEL_ID, "why is checkout failing?")
    return MessageResponder(bot.bot.services.client, CHANNEL_ID, parent), parent


def job_for(
    services: Services, responder: MessageResponder, parent: str, investigate: Investigate
) -> Callable[[], Awaitable[None]]:
    async def job() -> None:
        await investigate_into(
            services,
            responder,
            investigate,
            channel=CHANNEL_ID,
            thread_ts=parent,
            title="checkout",
            name="test job",
        )

    return job


def the_reply(bot: BotUnderTest, parent: str) -> VisibleMessage:
    [reply] = bot.replies(parent)
    return reply


async def test_an_investigation_is_shown_posted_stored_and_remembered(
    tmp_path: Path,
) -> None:
    async with bot_under_test(tmp_path, bundle=None) as bot:
        services = bot.bot.services
        responder, parent = responder_in_thread(bot)

        async def investigate(on_progress: OnProgress) -> Report:
            on_progress(Progress("stage", stage="rank"))
            return a_report()

        await responder.begin("Investigating…")
        answered = await investigate_into(
            services,
            responder,
            investigate,
            channel=CHANNEL_ID,
            thread_ts=parent,
            title="checkout",
            name="test job",
        )
        assert answered is not None
        answer, report_id = answered
        record = await services.store.get_report(report_id)
        assert record is not None and record.report == answer
        assert (record.thread_ts, record.message_ts) == (parent, responder.ts)
        reply = the_reply(bot, parent)
        assert reply.blocks[0]["type"] == "header" and f"positive:{report_id}" in json.dumps(
            reply.blocks[-1]
        )
        state = await remember(services, CHANNEL_ID, parent, answer, report_id)
        assert state.report_ids == [report_id] and state.service == "svc-1"
        assert [t.question for t in state.conversation.turns] == [answer.question]


async def test_a_full_queue_is_said_in_the_thread(tmp_path: Path) -> None:
    async with bot_under_test(tmp_path, bundle=None, max_concurrent=1, queue_size=1) as bot:
        services = bot.bot.services
        release, running = asyncio.Event(), asyncio.Event()

        async def blocked() -> None:
            running.set()
            await release.wait()

        assert services.work.submit(Work(name="running", run=blocked))
        await asyncio.wait_for(running.wait(), 5)
        assert services.work.submit(Work(name="waiting", run=blocked))
        responder, parent = responder_in_thread(bot)
        ran: list[str] = []

        async def job() -> None:
            ran.append("ran")

        try:
            assert await start(services, responder, "refused job", job) is False
            reply = the_reply(bot, parent)
            assert reply.text.startswith(":warning: rcabot is busy")
            assert not reply.edited  # one message saying so: no stream started for nothing
            assert bot.slack.calls("chat.startStream") == []
            assert services.work.stats.refused == 1
        finally:
            release.set()
        await bot.settle()
        assert ran == []


async def test_an_expected_failure_is_a_short_message_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rcabot.slack")
    async with bot_under_test(tmp_path, bundle=None) as bot:
        services = bot.bot.services
        responder, parent = responder_in_thread(bot)

        async def investigate(on_progress: OnProgress) -> Report:
            on_progress(Progress("stage", stage="scope"))
            raise InvestigationError("no telemetry source <!here> answered")

        assert await start(
            services, responder, "doomed job", job_for(services, responder, parent, investigate)
        )
        await bot.settle()
        reply = the_reply(bot, parent)
        assert reply.text == ":warning: no telemetry source &lt;!here&gt; answered"
        assert services.work.stats.failed == 0  # expected: not a crash of the job
        [record] = [r for r in caplog.records if "investigation_failed" in r.getMessage()]
        assert record.levelno == logging.WARNING
        logged = json.loads(record.getMessage())
        assert (logged["job"], logged["error"]) == ("test job", "InvestigationError")


async def test_a_bug_in_the_investigation_is_said_in_the_thread(tmp_path: Path) -> None:
    async with bot_under_test(tmp_path, bundle=None) as bot:
        services = bot.bot.services
        responder, parent = responder_in_thread(bot)

        async def investigate(on_progress: OnProgress) -> Report:
            raise ZeroDivisionError

        await start(services, responder, "buggy", job_for(services, responder, parent, investigate))
        await bot.settle()
        assert "Something went wrong inside rcabot" in the_reply(bot, parent).text
        assert services.work.stats.failed == 1


async def test_the_deadline_stops_the_investigation_and_says_so(tmp_path: Path) -> None:
    async with bot_under_test(tmp_path, bundle=None, deadline_s=0.5) as bot:
        services = bot.bot.services
        responder, parent = responder_in_thread(bot)
        cancelled = asyncio.Event()

        async def investigate(on_progress: OnProgress) -> Report:
            on_progress(Progress("stage", stage="gather"))
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return a_report()

        await start(services, responder, "slow", job_for(services, responder, parent, investigate))
        reply = await bot.slack.wait_for(
            lambda: [m for m in bot.replies(parent) if "Stopped" in m.text], timeout=5
        )
        assert "longer than 0.5 s" in reply[0].text and "slack.deadline_s" in reply[0].text
        assert cancelled.is_set() and services.work.stats.timed_out == 1
        await bot.settle()
        assert len(bot.replies(parent)) == 1  # the same message, now saying it stopped


async def test_a_channel_over_its_rate_is_refused(tmp_path: Path) -> None:
    async with bot_under_test(tmp_path, bundle=None, channel_rate_per_min=2) as bot:
        services = bot.bot.services
        allowed = [await allowed_rate(services, CHANNEL_ID) for _ in range(3)]
        assert allowed == [True, True, False]
        assert await allowed_rate(services, "C0OTHER")  # counted per channel
