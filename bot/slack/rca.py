"""``/rca <alert|service> [window]``: a full report, posted in the channel.

The listener has already acked (Slack's 3 s deadline) and checked the arguments; here the
report's message is posted at once, updated stage by stage, then replaced by the report. Its
thread becomes a conversation: a reply there is a follow-up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.slack.rca_args import RcaArgs
from bot.slack.responder import SLACK_ERRORS, MessageResponder
from bot.slack.run import allowed_rate, investigate_into, remember, start
from bot.slack.services import Services

RELATIVE_SLACK = timedelta(seconds=5)  # a window ending this close to "now" was a duration


async def rca(services: Services, args: RcaArgs, *, channel: str, now: datetime) -> str:
    """Queue the report: "queued", "refused" (rate limit, full queue: said in the channel), or
    "unposted" (nothing could be posted in the channel: the caller tells the user)."""
    name = f"rca {channel} {args.target}"
    responder = MessageResponder(services.client, channel, None)
    if not await allowed_rate(services, channel):
        try:
            await responder.fail(
                f"/rca {args.target}: too many investigations in this channel this minute; "
                "try again."
            )
        except SLACK_ERRORS:
            return "unposted"
        return "refused"
    window = args.window
    duration = None
    if window is not None and abs(now - window.end) <= RELATIVE_SLACK:
        duration = window.end - window.start
    shown = f" ({args.window_text})" if args.window_text else ""
    title = f"/rca {args.target}{shown}"

    async def job() -> None:
        thread_ts = responder.ts
        assert thread_ts is not None  # begin() posted the message
        answered = await investigate_into(
            services,
            responder,
            lambda progress: services.investigator.rca(
                args.target, window=window, duration=duration, on_progress=progress
            ),
            channel=channel,
            thread_ts=thread_ts,
            title=title,
            name=name,
        )
        if answered is not None:
            report, report_id = answered
            await remember(services, channel, thread_ts, report, report_id)

    if await start(services, responder, name, job, doing=f"{title}: investigating…"):
        return "queued"
    return "refused" if responder.ts is not None else "unposted"
