"""Questions in threads: a mention, or any reply in a thread rcabot answered in.

The thread's earlier turns (questions, answers, the evidence they cited) are read back from the
store, not re-fetched from telemetry, and handed to the agent as the conversation; the answer
is streamed into the thread and becomes the thread's next turn. A short reply that names one of
the last report's candidates as the cause ("root cause: checkout") records that confirmation
instead of asking again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.confirmed import parse_confirmation_reply
from bot.slack.confirm import confirm_candidate
from bot.slack.logs import log_event
from bot.slack.responder import StreamResponder
from bot.slack.run import allowed_rate, investigate_into, remember, start
from bot.slack.services import Services

MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
MAX_QUESTION_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class Question:
    channel: str
    thread_ts: str  # the thread to answer in (the message itself when it starts one)
    ts: str  # the message asking
    user: str
    team: str | None
    text: str  # as Slack sent it (mentions included)


def question_text(raw: str) -> str:
    """The question without mentions, Slack's escapes undone, whitespace collapsed."""
    text = MENTION.sub(" ", raw)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


async def ask(services: Services, question: Question, *, follow_up: bool) -> None:
    """Answer ``question`` in its thread (queued); a follow-up carries the thread's turns."""
    text = question_text(question.text)
    name = f"{'follow-up' if follow_up else 'mention'} {question.channel}/{question.ts}"
    state = await services.store.get_thread(question.channel, question.thread_ts)
    if follow_up and state is None:
        log_event("skipped", reason="not a thread rcabot answered in", job=name)
        return
    if state is not None and state.report_ids and len(text) <= 300:
        last = await services.store.get_report(state.report_ids[-1])
        if last is not None:
            confirmed = parse_confirmation_reply(text, last.report.candidates)
            if confirmed is not None:
                await confirm_candidate(
                    services, last, confirmed.rank, user=question.user, reply_ts=question.ts
                )
                return
    responder = StreamResponder(
        services.client,
        question.channel,
        question.thread_ts,
        user=question.user,
        team=question.team or services.team_id,
    )
    if not text:
        await responder.fail(
            "Ask a question after the mention, e.g. “why is checkout failing?” or "
            "`/rca <alert|service> [window]` for a full report."
        )
        return
    if len(text) > MAX_QUESTION_CHARS:
        await responder.fail(f"That question is over {MAX_QUESTION_CHARS} characters; shorten it.")
        return
    if not await allowed_rate(services, question.channel):
        await responder.fail("Too many investigations in this channel this minute; try again.")
        return
    history = state.conversation if state is not None else None
    service = state.service if state is not None else None

    async def job() -> None:
        answered = await investigate_into(
            services,
            responder,
            lambda progress: services.investigator.ask(
                text, history=history, service=service, on_progress=progress
            ),
            channel=question.channel,
            thread_ts=question.thread_ts,
            title=_title(text),
            name=name,
        )
        if answered is not None:
            report, report_id = answered
            await remember(services, question.channel, question.thread_ts, report, report_id)

    await start(services, responder, name, job)


def _title(text: str) -> str:
    return text if len(text) <= 140 else text[:139] + "…"
