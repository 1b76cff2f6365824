"""An alert lands: summarise it in a thread, once, and mark it resolved when it resolves.

Two ways in, one flow:

- the Alertmanager webhook (``/alertmanager``): rcabot posts the alert's summary message in
  the receiver's channel, investigates in its thread, and updates the summary with the answer's
  first lines; on resolve, it updates the summary again and says so in the thread;
- an alert bot's message in a watched channel (Alertmanager's Slack notifier, Grafana,
  PagerDuty): rcabot answers in that message's thread, and marks its own answer resolved.

A fingerprint is summarised once per firing and resolved once per resolve, each within
``slack.alert_dedup_s`` (Alertmanager re-sends a firing group every ``repeat_interval``; several
replicas may receive it): a resolve ends the firing's dedup, so the same alert firing again later
is a new summary, and a new firing ends the resolve's. A channel starts at most
``slack.channel_rate_per_min`` investigations a minute (an alert storm is logged, not
investigated alert by alert).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.investigation.report import Report
from bot.slack.blocks import SlackMessage, alert_summary_message
from bot.slack.logs import log_event
from bot.slack.responder import SLACK_ERRORS, MessageResponder
from bot.slack.run import allowed_rate, investigate_into, remember, start
from bot.slack.services import Services
from bot.store.base import AlertPost
from tools.records import Alert


async def handle_alert(
    services: Services, alert: Alert, channel: str, *, thread_ts: str | None = None
) -> str:
    """What was done with ``alert`` ("investigating", "resolved", "duplicate", ...).

    ``thread_ts``: the alert bot's message to answer under; ``None`` for a webhook alert
    (rcabot posts the summary message itself).
    """
    fingerprint = alert.fingerprint or alert.name
    name = f"alert {channel} {alert.name} {fingerprint}"
    dedup_s = services.settings.slack.alert_dedup_s
    claim = f"alert:{fingerprint}:{alert.status}"
    if not await services.store.claim(claim, dedup_s):
        log_event("skipped", reason="duplicate alert", job=name, status=alert.status)
        return "duplicate"
    other = "firing" if alert.status == "resolved" else "resolved"
    await services.store.release(f"alert:{fingerprint}:{other}")  # that episode is over
    if alert.status == "resolved":
        return await _resolved(services, alert, fingerprint, name)
    services.investigator.remember_alert(alert)
    if not await allowed_rate(services, channel):
        log_event("skipped", reason="channel rate limit", job=name)
        return "rate-limited"
    if thread_ts is None:
        summary = MessageResponder(services.client, channel, None)
        try:
            await summary.show(_summary(alert, "firing"))
        except SLACK_ERRORS:
            await services.store.release(claim)  # not shown: a retry may show it
            raise
        thread_ts = summary.ts
        assert thread_ts is not None
        summary_ts: str | None = thread_ts
    else:
        summary, summary_ts = None, None
    responder = MessageResponder(services.client, channel, thread_ts)
    anchor = thread_ts

    async def job() -> None:
        answered = await investigate_into(
            services,
            responder,
            lambda progress: services.investigator.alert(alert, on_progress=progress),
            channel=channel,
            thread_ts=anchor,
            title=f"{alert.name}: what rcabot found",
            name=name,
        )
        if answered is None:
            return
        report, report_id = answered
        await remember(services, channel, anchor, report, report_id, alert.service)
        if summary is not None:
            post = await services.store.get_alert_post(fingerprint)
            resolved = post is not None and post.ts == anchor and post.status == "resolved"
            try:  # a resolve that came in meanwhile stays shown
                await summary.show(
                    _summary(alert, "resolved" if resolved else "firing", report, report_id)
                )
            except SLACK_ERRORS as exc:
                log_event("summary_update_failed", job=name, error=type(exc).__name__)

    started = await start(services, responder, name, job)
    if responder.ts is None and summary_ts is None:  # not started, nothing shown: retry may
        await services.store.release(claim)
        return "refused"
    await services.store.put_alert_post(  # shown, if only as "busy": a resolve must find it
        AlertPost(
            fingerprint=fingerprint,
            channel=channel,
            ts=anchor,
            own_message=summary_ts is not None,
            name=alert.name,
        )
    )
    return "investigating" if started else "refused"


async def _resolved(services: Services, alert: Alert, fingerprint: str, name: str) -> str:
    post = await services.store.get_alert_post(fingerprint)
    if post is None or post.status == "resolved":
        log_event("skipped", reason="resolved alert rcabot did not summarise", job=name)
        return "unknown"
    # stored first: an investigation finishing meanwhile then keeps the summary resolved
    await services.store.put_alert_post(post.model_copy(update={"status": "resolved"}))
    at = datetime.now(UTC).strftime("%H:%M UTC")
    try:
        if post.own_message:  # rcabot's summary message: shown resolved, in place
            args = await _resolved_args(services, alert, post)
            await services.client.chat_update(channel=post.channel, ts=post.ts, **args)
        await services.client.chat_postMessage(
            channel=post.channel, thread_ts=post.ts, text=f"Resolved at {at}."
        )
    except SLACK_ERRORS as exc:
        log_event("resolve_failed", job=name, error=type(exc).__name__)
    return "resolved"


def _summary(
    alert: Alert, status: str, report: Report | None = None, report_id: str | None = None
) -> SlackMessage:
    return alert_summary_message(
        alert.name, status, alert.service, alert.summary, alert.starts_at, report, report_id
    )


async def _resolved_args(services: Services, alert: Alert, post: AlertPost) -> dict[str, Any]:
    """The summary shown resolved, keeping the answer's first lines when there is one."""
    state = await services.store.get_thread(post.channel, post.ts)
    record = None
    if state is not None and state.report_ids:
        record = await services.store.get_report(state.report_ids[-1])
    if record is None:
        message = _summary(alert, "resolved")
    else:
        message = _summary(alert, "resolved", record.report, record.report_id)
    return {"text": message.text, "blocks": message.blocks}
