"""Investigations in a child process (``slack.worker: process``, what ``rcabot serve`` runs):
answers arrive as from the inline investigator, progress streams across, and a worker that
dies is said in the thread and replaced."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.demo import generate_case
from bot.investigation.progress import Progress
from bot.slack.worker import InvestigationProcess
from tests.bot.slackbot import bot_settings, bot_under_test
from tests.servers.slack_messages import BOT_USER_ID
from tests.servers.slack_requests import CHANNEL_ID, app_mention, event_callback, slash_command
from tools.errors import InvestigationError


async def test_a_mention_and_a_command_are_answered_from_the_worker_process(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, worker="process") as bot:
        assert isinstance(bot.bot.services.investigator, InvestigationProcess)
        mention = app_mention(f"<@{BOT_USER_ID}> why is api failing?")
        await bot.event(event_callback(mention))
        await bot.command(slash_command("nosuch"))
        await bot.settle()
        [reply] = bot.replies(mention["ts"])
        assert reply.stopped
        stages = {c["id"] for c in reply.chunks if c.get("type") == "task_update"}
        assert {"metrics", "rank", "validate"} <= stages  # progress crossed the process boundary
        state = await bot.bot.services.store.get_thread(CHANNEL_ID, mention["ts"])
        assert state is not None
        record = await bot.bot.services.store.get_report(state.report_ids[-1])
        assert record is not None and record.report.candidates[0].service == "api"
        # an expected failure in the child is the same error, shown in the channel
        [failed] = [m for m in bot.top_level() if "nosuch" in m.shown_text]
        assert "known services" in failed.shown_text


async def test_a_worker_that_dies_fails_its_work_clearly_and_is_replaced(tmp_path: Path) -> None:
    case = generate_case(tmp_path / "case", "memory-leak", 3)  # a few seconds of work
    settings = bot_settings(tmp_path, "http://127.0.0.1:9/api/", worker="process")
    worker = await InvestigationProcess.open(settings, case.bundle_dir)
    try:
        started = asyncio.Event()

        def progress(event: Progress) -> None:
            if event.stage == "gather":
                started.set()

        asking = asyncio.create_task(worker.ask("why is it slow?", on_progress=progress))
        await asyncio.wait_for(started.wait(), 60)
        process = worker._process
        assert process is not None
        process.kill()
        with pytest.raises(InvestigationError, match="worker stopped"):
            await asyncio.wait_for(asking, 30)
        report = await asyncio.wait_for(worker.ask("why is it slow?"), 120)  # a new child
        assert report.candidates
        assert worker._process is not None and worker._process.pid != process.pid
    finally:
        await worker.aclose()


async def test_a_cancelled_investigation_stops_in_the_worker_too(tmp_path: Path) -> None:
    case = generate_case(tmp_path / "case", "cpu-contention", 4)
    settings = bot_settings(tmp_path, "http://127.0.0.1:9/api/", worker="process")
    worker = await InvestigationProcess.open(settings, case.bundle_dir)
    try:
        asking = asyncio.create_task(worker.ask("why?"))
        await asyncio.sleep(0.5)
        asking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asking
        assert worker._pending == {}
        report = await asyncio.wait_for(worker.ask("and now?"), 120)  # still serving
        assert report.question == "and now?"
    finally:
        await worker.aclose()
