"""A confirmed root cause: stored as feedback and remembered as a past incident.

The "Confirm root cause" button on a candidate, or a short reply naming it, records the
incident (alert, confirmed service and fault, the cited evidence, a link to the thread) as a
document in the postmortem index (:mod:`bot.confirmed`), so the next similar alert says
*Seen before* and links this thread. Indexing embeds text, so it runs on the work queue.
A person confirming the same candidate again (a double click, the reply after the button) is
recorded once; a recording that failed can be tried again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.confirmed import Confirmation, confirmed_document
from bot.investigation.writer import FAULT_WORDS
from bot.slack.logs import log_event
from bot.slack.responder import SLACK_ERRORS, MessageResponder
from bot.slack.run import start
from bot.slack.services import Services
from bot.store.base import Feedback, ReportRecord
from tools.errors import RetrievalError

CONFIRM_CLAIM_S = 24 * 3600.0  # one person's confirmation of one candidate is recorded once


async def confirm_candidate(
    services: Services, record: ReportRecord, rank: int, *, user: str, reply_ts: str | None
) -> None:
    """Record candidate ``rank`` of ``record`` as the confirmed cause (queued)."""
    candidate = next((c for c in record.report.candidates if c.rank == rank), None)
    responder = MessageResponder(services.client, record.channel, record.thread_ts)
    if candidate is None:
        await responder.fail(f"That report has no candidate #{rank}.")
        return
    claim = f"confirm:{record.report_id}:{rank}:{user}"
    if not await services.store.claim(claim, CONFIRM_CLAIM_S):
        log_event("skipped", reason="cause already confirmed", report_id=record.report_id)
        return
    await services.store.add_feedback(
        Feedback(
            report_id=record.report_id,
            user=user,
            kind="confirm",
            service=candidate.service,
            fault=candidate.fault_type.value,
        )
    )
    name = f"confirm {record.channel}/{record.thread_ts}"
    words = FAULT_WORDS[candidate.fault_type]

    async def job() -> None:
        link = await _permalink(services, record.channel, record.thread_ts)
        confirmation = Confirmation(
            channel=record.channel,
            thread_ts=record.thread_ts,
            thread_link=link,
            confirmed_by=user,
            service=candidate.service,
            fault=candidate.fault_type,
            report=record.report,
            alert_name=None,
            at=datetime.now(UTC),
        )
        try:
            await services.investigator.record(confirmed_document(confirmation))
        except RetrievalError as exc:
            log_event("confirm_failed", job=name, reason=str(exc))
            await services.store.release(claim)  # not remembered: confirming again may work
            await responder.say(
                f"Root cause confirmed: {candidate.service} ({words}), but it could not be "
                f"remembered: {exc}"
            )
            return
        log_event("confirmed", job=name, service=candidate.service, fault=candidate.fault_type)
        await responder.say(
            f"Root cause confirmed: {candidate.service} ({words}). Recorded: a similar "
            "alert will show this thread under “Seen before”."
        )

    if not await start(services, responder, name, job, doing="Recording the confirmed cause…"):
        await services.store.release(claim)


async def _permalink(services: Services, channel: str, ts: str) -> str | None:
    try:
        found = await services.client.chat_getPermalink(channel=channel, message_ts=ts)
    except SLACK_ERRORS:
        return None
    link = found.get("permalink")
    return str(link) if isinstance(link, str) and link.startswith("https://") else None
