"""What the Slack bot remembers, and the one interface every store implements.

Keys are short strings the listeners build (``event:Ev123``, ``msg:C1:1700.1``, ``alert:fp``,
``rate:C1``). Records are pydantic models stored as JSON, so SQLite and Redis hold the same
bytes and a record written by one replica is read by another. Every method is async and safe to
call concurrently; a store never raises for a missing record (``None``), and raises
:class:`~tools.errors.StateError` when the database itself fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.investigation.conversation import Conversation
from bot.investigation.report import Report


def _now() -> datetime:
    return datetime.now(UTC)


class ThreadState(BaseModel):
    """A thread rcabot answered in: the conversation so far and its reports, newest last."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    thread_ts: str
    conversation: Conversation = Field(default_factory=Conversation)
    report_ids: list[str] = Field(default_factory=list)
    service: str | None = None  # what the thread is about (the last service investigated)
    updated_at: datetime = Field(default_factory=_now)


class ReportRecord(BaseModel):
    """One answer posted: the report and where it is (``message_ts`` once posted)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report_id: str
    channel: str
    thread_ts: str
    message_ts: str | None = None
    report: Report
    created_at: datetime = Field(default_factory=_now)


class Feedback(BaseModel):
    """A vote on an answer, or a confirmed root cause (``kind="confirm"``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report_id: str
    user: str
    kind: Literal["positive", "negative", "confirm"]
    service: str | None = None  # confirm: the confirmed service
    fault: str | None = None  # confirm: the confirmed fault
    at: datetime = Field(default_factory=_now)


class AlertPost(BaseModel):
    """Where an alert's summary was posted, so a resolve updates that message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str
    channel: str
    ts: str  # the summary message (its thread holds the investigation)
    own_message: bool = True  # rcabot posted ``ts`` (a webhook alert), not an alert bot
    status: Literal["firing", "resolved"] = "firing"
    name: str = ""
    posted_at: datetime = Field(default_factory=_now)


class Store(Protocol):
    """The bot's state. Implementations: ``bot.store.sqlite``, ``bot.store.redis``."""

    async def claim(self, key: str, ttl_s: float) -> bool:
        """True the first time ``key`` is claimed within ``ttl_s`` seconds (atomic across
        replicas), False while an earlier claim holds: the one dedup primitive."""
        ...

    async def release(self, key: str) -> None:
        """Drop the claim on ``key`` (the work it guarded failed: a retry may do it)."""
        ...

    async def count(self, key: str, window_s: float) -> int:
        """Add one to ``key``'s counter for the current ``window_s``-second window and return
        it (a fixed-window rate limit)."""
        ...

    async def get_thread(self, channel: str, thread_ts: str) -> ThreadState | None: ...

    async def put_thread(self, state: ThreadState) -> None: ...

    async def get_report(self, report_id: str) -> ReportRecord | None: ...

    async def put_report(self, record: ReportRecord) -> None: ...

    async def add_feedback(self, feedback: Feedback) -> None: ...

    async def feedback(self, report_id: str) -> list[Feedback]:
        """Every vote and confirmation of ``report_id``, oldest first."""
        ...

    async def get_alert_post(self, fingerprint: str) -> AlertPost | None: ...

    async def put_alert_post(self, post: AlertPost) -> None: ...

    async def aclose(self) -> None: ...
