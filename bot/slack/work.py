"""The bot's work queue: bounded concurrency, a bounded queue, a deadline per job.

Listeners only parse, ack and :meth:`WorkQueue.submit`; the investigations run here, at most
``max_concurrent`` at once. A full queue refuses the job at once (``submit`` returns False, and
the listener says so in the thread) rather than letting Slack's events pile up in memory. A job
that outlives its deadline is cancelled and its ``on_timeout`` tells the thread; a job that
raises is logged with its name and its ``on_error`` tells the thread: never silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.slack.logs import log_event

Job = Callable[[], Awaitable[None]]
Notice = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Work:
    name: str  # for logs: "mention C123/1700.1"
    run: Job
    notify: Notice | None = None  # tells the thread what went wrong (timeout, crash)
    queued_at: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class WorkStats:
    submitted: int = 0
    refused: int = 0
    done: int = 0
    failed: int = 0
    timed_out: int = 0


class WorkQueue:
    def __init__(self, *, max_concurrent: int, size: int, deadline_s: float) -> None:
        self._queue: asyncio.Queue[Work] = asyncio.Queue(maxsize=size)
        self._max_concurrent = max_concurrent
        self._deadline_s = deadline_s
        self._workers: list[asyncio.Task[None]] = []
        self._running = 0
        self.stats = WorkStats()

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    @property
    def full(self) -> bool:
        return self._queue.full()

    @property
    def running(self) -> int:
        return self._running

    def start(self) -> None:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._worker(), name=f"rcabot-worker-{i}")
                for i in range(self._max_concurrent)
            ]

    async def stop(self, drain_s: float = 0.0) -> None:
        """Stop the workers, after waiting up to ``drain_s`` for queued work to finish."""
        if drain_s > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(drain_s):
                    await self._queue.join()
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def join(self) -> None:
        """Wait until every job submitted so far has finished (tests, shutdown)."""
        await self._queue.join()

    def submit(self, work: Work) -> bool:
        """Queue ``work``; False (and nothing queued) when the queue is full."""
        try:
            self._queue.put_nowait(work)
        except asyncio.QueueFull:
            self.refuse(work.name)
            return False
        self.stats.submitted += 1
        return True

    def refuse(self, name: str) -> None:
        """Count and log work turned away because the queue is full (by :meth:`submit`, or by
        a caller that saw :attr:`full` before starting anything)."""
        self.stats.refused += 1
        log_event("work_refused", job=name, reason="queue full", waiting=self.waiting)

    async def _worker(self) -> None:
        while True:
            work = await self._queue.get()
            self._running += 1
            try:
                await self._run(work)
            finally:
                self._running -= 1
                self._queue.task_done()

    async def _run(self, work: Work) -> None:
        started = time.monotonic()
        waited = started - work.queued_at
        deadline = asyncio.timeout(self._deadline_s)
        try:
            async with deadline:
                await work.run()
        except TimeoutError as exc:
            if not deadline.expired():  # the job's own time limit (a backend gave up): a failure
                await self._failed(work, exc)
                return
            self.stats.timed_out += 1
            log_event("work_timeout", job=work.name, deadline_s=self._deadline_s)
            await self._tell(
                work,
                f"Stopped: the investigation took longer than {self._deadline_s:g} s "
                "(slack.deadline_s).",
            )
        except Exception as exc:  # a bug in a job: logged with its traceback, told, not fatal
            await self._failed(work, exc)
        else:
            self.stats.done += 1
            log_event(
                "work_done",
                job=work.name,
                waited_ms=round(waited * 1000),
                ms=round((time.monotonic() - started) * 1000),
            )

    async def _failed(self, work: Work, exc: Exception) -> None:
        self.stats.failed += 1
        log_event("work_failed", job=work.name, error=type(exc).__name__, exc_info=exc)
        await self._tell(work, f"Something went wrong inside rcabot ({type(exc).__name__}).")

    @staticmethod
    async def _tell(work: Work, text: str) -> None:
        if work.notify is None:
            return
        try:
            async with asyncio.timeout(10):
                await work.notify(text)
        except Exception as exc:  # Slack down too: the log line is all that is left
            log_event("notify_failed", job=work.name, error=type(exc).__name__)
