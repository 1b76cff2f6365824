"""Showing an investigation in Slack while it runs: a streamed reply, or a message updated.

Two ways, one interface (:class:`Responder`):

- :class:`StreamResponder` (a mention, a follow-up): the thread's assistant status, then a
  reply streamed with ``chat.startStream``/``appendStream``/``stopStream`` through slack_sdk's
  ``chat_stream`` helper. Stages are task updates (a plan that ticks off), the model's grounded
  statements are appended as they complete, and the stream stops with the report's blocks
  (candidates, evidence, feedback buttons). When Slack refuses to stream (an older workspace,
  a stream that expired), it carries on as a :class:`MessageResponder` would.
- :class:`MessageResponder` (``/rca``, alert summaries: there is no user to stream to): one
  message posted at once, updated with each stage (at most every ``UPDATE_EVERY_S``), then
  replaced by the report.

Everything shown is escaped (:mod:`bot.slack.mrkdwn`); telemetry never becomes markup. A Web API
failure while showing progress is logged and the investigation goes on; only the final
message's failure is raised to the caller (who logs it: nothing else can be told).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.models.messages.chunk import MarkdownTextChunk, TaskUpdateChunk
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from bot.investigation.progress import Progress
from bot.investigation.report import Report
from bot.slack.blocks import SlackMessage, progress_line, report_message
from bot.slack.logs import log_event
from bot.slack.mrkdwn import escape

UPDATE_EVERY_S = 0.5
SLACK_ERRORS = (SlackApiError, SlackRequestError, OSError, TimeoutError)


class Responder(Protocol):
    @property
    def ts(self) -> str | None:
        """The reply's message ts, once there is one."""
        ...

    async def begin(self, note: str) -> None:
        """Show at once that rcabot is on it (``note``: "Investigating…", "Queued (3 ahead)")."""
        ...

    async def progress(self, event: Progress) -> None: ...

    async def finish(self, report: Report, report_id: str, title: str) -> None: ...

    async def fail(self, text: str) -> None:
        """Say what failed, in the thread (plain text; escaped here)."""
        ...


class MessageResponder:
    """Post a message (top-level, or a reply when ``thread_ts`` is given) and update it."""

    def __init__(
        self, client: AsyncWebClient, channel: str, thread_ts: str | None, ts: str | None = None
    ) -> None:
        """``ts``: a message already posted, to update in place (else one is posted)."""
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self._ts = ts
        self._lines: list[str] = []
        self._header = ""
        self._shown_at = 0.0
        self._pending: asyncio.Task[None] | None = None  # a throttled update, shown later

    @property
    def ts(self) -> str | None:
        return self._ts

    async def begin(self, note: str) -> None:
        self._header = note
        await self._show(force=True)

    async def progress(self, event: Progress) -> None:
        if event.kind == "stage":
            self._lines.append(progress_line(event.stage))
        elif event.kind == "statement":
            self._lines.append(escape(event.text))
        await self._show()

    async def finish(self, report: Report, report_id: str, title: str) -> None:
        await self.show(report_message(report, report_id, title=title))

    async def fail(self, text: str) -> None:
        await self.say(f":warning: {text}")

    async def say(self, text: str) -> None:
        """Show plain ``text`` (escaped) as the message."""
        shown = escape(text)[:3000]
        await self.show(SlackMessage(text=shown, blocks=[_section(shown)]))

    async def show(self, message: SlackMessage) -> None:
        """Replace the message with ``message`` (post it when nothing was posted yet); a
        progress update still waiting is dropped first, so it cannot overwrite this."""
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending
            self._pending = None
        await self._replace(message)

    async def _replace(self, message: SlackMessage) -> None:
        args: dict[str, Any] = {"channel": self.channel, "text": message.text}
        if message.blocks:
            args["blocks"] = message.blocks
        if self._ts is not None:
            await self.client.chat_update(ts=self._ts, **args)
            return
        if self.thread_ts is not None:
            args["thread_ts"] = self.thread_ts
        # no previews: a link in evidence is shown as a link, never expanded into the thread
        posted = await self.client.chat_postMessage(unfurl_links=False, unfurl_media=False, **args)
        self._ts = str(posted["ts"])

    async def _show(self, *, force: bool = False) -> None:
        now = time.monotonic()
        wait = self._shown_at + UPDATE_EVERY_S - now
        if not force and wait > 0:
            if self._pending is None:  # show the latest lines once the interval is over
                self._pending = asyncio.create_task(self._later(wait))
            return
        self._shown_at = now
        shown = self._lines[-6:]
        text = "\n".join([f"*{escape(self._header)}*", *(f"• {line}" for line in shown)])
        try:
            await self._replace(SlackMessage(text=text[:3000], blocks=[_section(text[:3000])]))
        except SLACK_ERRORS as exc:
            if force:
                raise
            log_event("progress_failed", channel=self.channel, error=_reason(exc))

    async def _later(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        self._pending = None
        await self._show()


class StreamResponder:
    """Stream the reply into ``thread_ts`` for ``user`` (chat.startStream and friends)."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str,
        *,
        user: str,
        team: str | None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self.user = user
        self.team = team
        self._stream: AsyncChatStream | None = None
        self._fallback: MessageResponder | None = None
        self._stage: str | None = None
        self._titles: dict[str, str] = {}
        self._statements = 0

    @property
    def ts(self) -> str | None:
        if self._fallback is not None:
            return self._fallback.ts
        return self._stream.ts if self._stream is not None else None

    async def begin(self, note: str) -> None:
        try:  # assistant status: best effort (not every workspace shows it in channels)
            await self.client.assistant_threads_setStatus(
                channel_id=self.channel, thread_ts=self.thread_ts, status=note[:50]
            )
        except SLACK_ERRORS as exc:
            log_event("status_failed", channel=self.channel, error=_reason(exc))
        try:
            self._stream = await self.client.chat_stream(
                channel=self.channel,
                thread_ts=self.thread_ts,
                recipient_user_id=self.user,
                recipient_team_id=self.team,
                task_display_mode="plan",
                buffer_size=1,  # flush each append: progress must show at once
            )
            self._titles["start"] = note
            await self._stream.append(chunks=[self._task("start", "in_progress")])
        except SLACK_ERRORS as exc:
            log_event("stream_failed", channel=self.channel, error=_reason(exc))
            await self._fall_back(note)

    async def progress(self, event: Progress) -> None:
        if self._fallback is not None:
            await self._fallback.progress(event)
            return
        if self._stream is None:
            return
        chunks: list[MarkdownTextChunk | TaskUpdateChunk] = []
        if event.kind == "stage":
            chunks.append(self._task(self._stage or "start", "complete"))
            self._stage = event.stage
            self._titles[event.stage] = progress_line(event.stage)
            chunks.append(self._task(event.stage, "in_progress"))
        elif event.kind == "statement":
            self._statements += 1
            chunks.append(MarkdownTextChunk(text=escape(event.text) + "\n"))
        if not chunks:
            return
        try:
            await self._stream.append(chunks=chunks)
        except SLACK_ERRORS as exc:
            log_event("stream_failed", channel=self.channel, error=_reason(exc))
            await self._close_stream()
            try:
                await self._fall_back("Investigating…")
            except SLACK_ERRORS as again:  # progress is best effort; finish() tries again
                log_event("progress_failed", channel=self.channel, error=_reason(again))

    async def finish(self, report: Report, report_id: str, title: str) -> None:
        streamed = bool(self._statements) and report.answer_by == "llm"
        message = report_message(report, report_id, title=title, answer_shown=streamed)
        if self._fallback is not None or self._stream is None:
            message = report_message(report, report_id, title=title)
            await self._message().show(message)
            return
        chunks: list[MarkdownTextChunk | TaskUpdateChunk] = [
            self._task(self._stage or "start", "complete")
        ]
        if self._statements and report.answer_by != "llm":
            note = report.answer_note or "the model's answer did not hold up"
            chunks.append(
                MarkdownTextChunk(text=f"_{escape(note)}: the evidence-based answer is below._\n")
            )
        try:
            await self._stream.stop(chunks=chunks, blocks=message.blocks)
        except SLACK_ERRORS as exc:  # the stream expired: the final message replaces it
            log_event("stream_failed", channel=self.channel, error=_reason(exc))
            await self._message().show(report_message(report, report_id, title=title))

    async def fail(self, text: str) -> None:
        if self._fallback is not None or self._stream is None or self._stream.ts is None:
            await self._message().fail(text)
            return
        try:
            await self._stream.stop(
                chunks=[
                    self._task(self._stage or "start", "error"),
                    MarkdownTextChunk(text=f":warning: {escape(text)}"),
                ]
            )
        except SLACK_ERRORS:
            await self._message().fail(text)

    def _message(self) -> MessageResponder:
        if self._fallback is None:
            streamed = self._stream.ts if self._stream is not None else None
            # update the streamed message in place, when there is one
            self._fallback = MessageResponder(self.client, self.channel, self.thread_ts, streamed)
        return self._fallback

    async def _fall_back(self, note: str) -> None:
        await self._message().begin(note)

    async def _close_stream(self) -> None:
        """Stop the stream before editing its message (best effort): a stream Slack still
        holds open refuses ``chat.update``; one Slack already closed refuses the stop."""
        if self._stream is None or self._stream.ts is None:
            return
        try:
            await self._stream.stop()
        except SLACK_ERRORS as exc:
            log_event("stream_stop_failed", channel=self.channel, error=_reason(exc))

    def _task(self, task_id: str, status: str) -> TaskUpdateChunk:
        return TaskUpdateChunk(id=task_id, title=self._titles.get(task_id, task_id), status=status)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "error"))
    return type(exc).__name__
