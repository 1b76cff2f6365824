"""Running one investigation for Slack: queue it, show its progress, post and remember it.

:func:`start` shows at once that rcabot is on it and queues the work (a full queue is said in
the thread). :func:`investigate_into` runs the investigation, forwards its progress to the
responder without ever blocking the investigation on Slack, posts the report and stores it.
An expected failure (:class:`~tools.errors.RcabotError`: unknown service, no telemetry source,
unreadable bundle) becomes a short message in the thread; a bug is left to the work queue,
which logs it and says so in the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable

from bot.commands import OnProgress
from bot.investigation.conversation import Turn
from bot.investigation.progress import Progress
from bot.investigation.report import Report
from bot.slack.logs import log_event
from bot.slack.metrics import fallback_reason
from bot.slack.responder import SLACK_ERRORS, Responder
from bot.slack.services import Services
from bot.slack.work import Work
from bot.store.base import ReportRecord, ThreadState
from tools.errors import RcabotError

Investigate = Callable[[OnProgress], Awaitable[Report]]
MAX_THREAD_REPORTS = 50


def new_report_id() -> str:
    return secrets.token_hex(8)


async def start(
    services: Services,
    responder: Responder,
    name: str,
    job: Callable[[], Awaitable[None]],
    *,
    doing: str = "Investigating…",
) -> bool:
    """Show the first line (``doing``, or the queue position), then queue ``job``; False when
    the queue is full (said in the thread). The first line goes out before the job waits, so
    progress is visible at once."""
    if services.work.full:  # one message saying so, rather than a stream started for nothing
        services.work.refuse(name)
        with contextlib.suppress(*SLACK_ERRORS):
            await responder.fail(_busy(services))
        return False
    waiting = services.work.waiting
    note = doing if waiting == 0 else f"Queued: {waiting} ahead of this one…"
    try:
        await responder.begin(note)
    except SLACK_ERRORS as exc:
        log_event("reply_failed", job=name, error=type(exc).__name__)
        return False
    if services.work.submit(Work(name=name, run=job, notify=responder.fail)):
        return True
    with contextlib.suppress(*SLACK_ERRORS):
        await responder.fail(_busy(services))
    return False


def _busy(services: Services) -> str:
    limit = services.settings.slack.queue_size
    return f"rcabot is busy: its queue of {limit} is full. Try again in a few minutes."


async def allowed_rate(services: Services, channel: str) -> bool:
    """True while ``channel`` has started fewer than ``channel_rate_per_min`` investigations
    in the current minute."""
    started = await services.store.count(f"rate:{channel}", 60.0)
    if started <= services.settings.slack.channel_rate_per_min:
        return True
    log_event("rate_limited", channel=channel, started=started)
    return False


async def investigate_into(
    services: Services,
    responder: Responder,
    investigate: Investigate,
    *,
    channel: str,
    thread_ts: str,
    title: str,
    name: str,
) -> tuple[Report, str] | None:
    """Run ``investigate`` showing its progress; post, store and return the report and its id
    (``None`` after an expected failure, which the thread is told)."""
    pending: asyncio.Queue[Progress | None] = asyncio.Queue()

    async def forward() -> None:
        while (event := await pending.get()) is not None:
            if event.kind != "report":
                await responder.progress(event)

    forwarding = asyncio.create_task(forward(), name=f"progress {name}")
    started = time.monotonic()
    try:
        report = await investigate(pending.put_nowait)
    except RcabotError as exc:
        services.metrics.failed(time.monotonic() - started)
        log_event("investigation_failed", job=name, error=type(exc).__name__, reason=str(exc))
        await _stop(forwarding, pending)
        await responder.fail(str(exc))
        return None
    except BaseException:
        forwarding.cancel()
        raise
    seconds = time.monotonic() - started
    services.metrics.investigated(report, seconds)
    await _stop(forwarding, pending)
    report_id = new_report_id()
    await responder.finish(report, report_id, title)
    await services.store.put_report(
        ReportRecord(
            report_id=report_id,
            channel=channel,
            thread_ts=thread_ts,
            message_ts=responder.ts,
            report=report,
        )
    )
    log_event(
        "answered",
        job=name,
        report_id=report_id,
        answer_by=report.answer_by,
        fallback=fallback_reason(report),
        model=report.model,
        candidates=len(report.candidates),
        evidence=len(report.evidence),
        failed_sources=sorted({s.source for s in report.failed_sources if s.backend != "none"}),
        ms=round(seconds * 1000),
    )
    return report, report_id


async def _stop(forwarding: asyncio.Task[None], pending: asyncio.Queue[Progress | None]) -> None:
    pending.put_nowait(None)
    try:
        async with asyncio.timeout(10):
            await forwarding
    except TimeoutError:
        forwarding.cancel()


async def remember(
    services: Services,
    channel: str,
    thread_ts: str,
    report: Report,
    report_id: str,
    service: str | None = None,
) -> ThreadState:
    """Add this answer to the thread's conversation (what a follow-up reads back)."""
    store = services.store
    state = await store.get_thread(channel, thread_ts) or ThreadState(
        channel=channel, thread_ts=thread_ts
    )
    top = report.candidates[0].service if report.candidates else None
    updated = ThreadState(
        channel=channel,
        thread_ts=thread_ts,
        conversation=state.conversation.then(Turn.from_report(report)),
        report_ids=[*state.report_ids, report_id][-MAX_THREAD_REPORTS:],
        service=service or top or state.service,
    )
    await store.put_thread(updated)
    return updated
