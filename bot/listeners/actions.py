"""Buttons on a report: feedback (👍/👎), "Confirm root cause", "Show evidence".

Each is acked first. Feedback is stored with who voted and on which report; a confirmation is
recorded and remembered (:mod:`bot.slack.confirm`); the evidence is shown to the person who
asked for it only (ephemeral), in the report's thread.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.blocks import (
    ACTION_CONFIRM,
    ACTION_FEEDBACK,
    ACTION_SHOW_EVIDENCE,
    evidence_messages,
)
from bot.slack.confirm import confirm_candidate
from bot.slack.logs import log_event
from bot.slack.responder import SLACK_ERRORS
from bot.slack.services import Services, services_of
from bot.store.base import Feedback, ReportRecord


def register(app: AsyncApp) -> None:
    app.action(ACTION_FEEDBACK)(on_feedback)
    app.action(ACTION_CONFIRM)(on_confirm)
    app.action(ACTION_SHOW_EVIDENCE)(on_show_evidence)


def _action(body: dict[str, Any]) -> tuple[str, str]:
    """(the clicked action's value, the user who clicked)."""
    actions = body.get("actions") or [{}]
    value = actions[0].get("value") if isinstance(actions[0], dict) else None
    user = body.get("user") or {}
    return str(value or ""), str(user.get("id") or "") if isinstance(user, dict) else ""


async def _record(services: Services, report_id: str, what: str) -> ReportRecord | None:
    record = await services.store.get_report(report_id[:64])
    if record is None:
        log_event("skipped", reason=f"{what} on an unknown report", report_id=report_id[:64])
    return record


async def on_feedback(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any]) -> None:
    await ack()
    services = services_of(context)
    value, user = _action(body)
    kind, _, report_id = value.partition(":")
    if kind not in ("positive", "negative") or not user:
        log_event("skipped", reason="feedback with an unexpected value", value=value[:80])
        return
    if await _record(services, report_id, "feedback") is None:
        return
    vote = "positive" if kind == "positive" else "negative"
    await services.store.add_feedback(Feedback(report_id=report_id, user=user, kind=vote))
    log_event("feedback", report_id=report_id, user=user, vote=vote)


async def on_confirm(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any]) -> None:
    await ack()
    services = services_of(context)
    value, user = _action(body)
    try:
        data = json.loads(value)
        report_id, rank = str(data["r"]), int(data["c"])
    except (ValueError, KeyError, TypeError):
        log_event("skipped", reason="confirm with an unexpected value", value=value[:80])
        return
    record = await _record(services, report_id, "confirm")
    if record is not None and user:
        await confirm_candidate(services, record, rank, user=user, reply_ts=None)


async def on_show_evidence(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any]) -> None:
    await ack()
    services = services_of(context)
    report_id, user = _action(body)
    record = await _record(services, report_id, "show evidence")
    if record is None or not user:
        return
    for message in evidence_messages(record.report):
        try:
            await services.client.chat_postEphemeral(
                channel=record.channel,
                user=user,
                thread_ts=record.thread_ts,
                text=message.text,
                blocks=message.blocks,
            )
        except SLACK_ERRORS as exc:
            log_event("evidence_failed", report_id=report_id, error=type(exc).__name__)
            return
