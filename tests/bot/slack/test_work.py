"""The work queue (bot/slack/work.py): at most ``max_concurrent`` jobs at once, a bounded queue
that refuses rather than grows, a deadline per job, and no silent failure (log + notify)."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from bot.slack.work import Work, WorkQueue

LOGGER = "rcabot.slack"


class Notes:
    """A ``notify`` that records what the thread would be told."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.told = asyncio.Event()

    async def __call__(self, text: str) -> None:
        self.said.append(text)
        self.told.set()


def events(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER]


async def test_never_more_than_max_concurrent_jobs_run_at_once() -> None:
    queue = WorkQueue(max_concurrent=2, size=10, deadline_s=10)
    running, most, finished = 0, 0, []

    def job(n: int) -> Work:
        async def run() -> None:
            nonlocal running, most
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.05)
            running -= 1
            finished.append(n)

        return Work(name=f"job {n}", run=run)

    queue.start()
    try:
        assert all(queue.submit(job(n)) for n in range(5))
        await asyncio.wait_for(queue.join(), 5)
    finally:
        await queue.stop()
    assert most == 2  # both workers were used, and never a third job
    assert sorted(finished) == [0, 1, 2, 3, 4]
    assert (queue.stats.submitted, queue.stats.done, queue.stats.failed) == (5, 5, 0)


async def test_running_and_waiting_count_what_is_in_flight() -> None:
    queue = WorkQueue(max_concurrent=1, size=5, deadline_s=10)
    release = asyncio.Event()
    started = asyncio.Event()

    async def blocked() -> None:
        started.set()
        await release.wait()

    queue.start()
    try:
        queue.submit(Work(name="first", run=blocked))
        queue.submit(Work(name="second", run=blocked))
        await asyncio.wait_for(started.wait(), 5)
        assert (queue.running, queue.waiting) == (1, 1)
        release.set()
        await asyncio.wait_for(queue.join(), 5)
        assert (queue.running, queue.waiting) == (0, 0)
    finally:
        await queue.stop()


async def test_a_full_queue_refuses_at_once_and_counts_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    queue = WorkQueue(max_concurrent=1, size=2, deadline_s=10)  # not started: nothing drains it
    ran: list[str] = []

    def work(name: str) -> Work:
        async def run() -> None:
            ran.append(name)

        return Work(name=name, run=run)

    assert queue.submit(work("a")) and queue.submit(work("b"))
    assert queue.submit(work("c")) is False
    assert (queue.stats.submitted, queue.stats.refused, queue.waiting) == (2, 1, 2)
    [refused] = [e for e in events(caplog) if e["event"] == "work_refused"]
    assert refused["job"] == "c"
    assert any(r.levelno == logging.WARNING for r in caplog.records if "work_refused" in r.msg)
    queue.start()
    try:
        await asyncio.wait_for(queue.join(), 5)
    finally:
        await queue.stop()
    assert ran == ["a", "b"]  # the refused job never ran


async def test_a_job_past_its_deadline_is_cancelled_and_the_thread_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    queue = WorkQueue(max_concurrent=1, size=5, deadline_s=0.2)
    notes = Notes()
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    queue.start()
    try:
        queue.submit(Work(name="slow one", run=slow, notify=notes))
        await asyncio.wait_for(queue.join(), 5)
    finally:
        await queue.stop()
    assert cancelled.is_set()
    [said] = notes.said
    assert "0.2 s" in said and "slack.deadline_s" in said
    assert queue.stats.timed_out == 1 and queue.stats.done == 0
    [logged] = [e for e in events(caplog) if e["event"] == "work_timeout"]
    assert logged["job"] == "slow one" and logged["deadline_s"] == 0.2


async def test_a_timeout_inside_a_job_is_a_failure_not_the_deadline() -> None:
    queue = WorkQueue(max_concurrent=1, size=5, deadline_s=30)
    notes = Notes()

    async def times_out() -> None:
        async with asyncio.timeout(0.01):  # e.g. a backend call that gave up
            await asyncio.sleep(1)

    queue.start()
    try:
        queue.submit(Work(name="own timeout", run=times_out, notify=notes))
        await asyncio.wait_for(queue.join(), 5)
    finally:
        await queue.stop()
    assert (queue.stats.timed_out, queue.stats.failed) == (0, 1)
    [said] = notes.said
    assert "TimeoutError" in said and "deadline" not in said


async def test_a_job_that_raises_is_logged_with_its_traceback_and_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    queue = WorkQueue(max_concurrent=1, size=5, deadline_s=10)
    notes = Notes()
    after: list[str] = []

    async def broken() -> None:
        raise KeyError("no such thing")

    async def fine() -> None:
        after.append("ran")

    queue.start()
    try:
        queue.submit(Work(name="broken one", run=broken, notify=notes))
        queue.submit(Work(name="next one", run=fine))
        await asyncio.wait_for(queue.join(), 5)
    finally:
        await queue.stop()
    [said] = notes.said
    assert "went wrong" in said and "KeyError" in said
    [record] = [r for r in caplog.records if r.name == LOGGER and "work_failed" in r.msg]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert json.loads(record.getMessage())["job"] == "broken one"
    assert after == ["ran"]  # the worker survived the crash
    assert (queue.stats.failed, queue.stats.done) == (1, 1)


async def test_a_failing_notify_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    queue = WorkQueue(max_concurrent=1, size=5, deadline_s=10)

    async def broken() -> None:
        raise RuntimeError("bug")

    async def slack_down(text: str) -> None:
        raise OSError("connection refused")

    queue.start()
    try:
        queue.submit(Work(name="unlucky", run=broken, notify=slack_down))
        await asyncio.wait_for(queue.join(), 5)
    finally:
        await queue.stop()
    [logged] = [e for e in events(caplog) if e["event"] == "notify_failed"]
    assert logged == {"event": "notify_failed", "job": "unlucky", "error": "OSError"}


async def test_stop_drains_the_queued_work_first() -> None:
    queue = WorkQueue(max_concurrent=1, size=10, deadline_s=10)
    done: list[int] = []

    def work(n: int) -> Work:
        async def run() -> None:
            await asyncio.sleep(0.02)
            done.append(n)

        return Work(name=f"job {n}", run=run)

    queue.start()
    for n in range(4):
        queue.submit(work(n))
    await queue.stop(drain_s=5)
    assert done == [0, 1, 2, 3]
    assert queue.running == 0 and queue.waiting == 0


async def test_stop_without_drain_cancels_what_runs() -> None:
    queue = WorkQueue(max_concurrent=1, size=10, deadline_s=30)
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    queue.start()
    queue.submit(Work(name="forever", run=forever))
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.wait_for(queue.stop(drain_s=0.05), 5)
    assert cancelled.is_set()
