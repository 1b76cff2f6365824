"""Evidence: the product's core contract.

Every statement rcabot makes cites evidence it actually fetched. An evidence item carries the
exact query that produced it and a deep link where a human can see the same data (Kibana,
Grafana, Jaeger, or the bundle file), so an on-call engineer can check any claim in one click.

Tools produce :class:`EvidenceDraft` items keyed by a stable, source-specific ``key``; the
investigation numbers them (``E1``, ``E2``, ...) in order of relevance when it builds the
report, so ``E1`` is always the most important item.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

EVIDENCE_ID = re.compile(r"^E[1-9][0-9]*$")
MAX_TITLE_CHARS = 200
MAX_SUMMARY_CHARS = 1_000
MAX_QUERY_CHARS = 2_000
MAX_LINK_CHARS = 2_000
MAX_EXCERPT_CHARS = 600
MAX_SERVICE_CHARS = 200


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class TimeWindow(BaseModel):
    """A closed-open time range ``[start, end)`` in UTC."""

    model_config = ConfigDict(frozen=True)

    start: UtcDatetime
    end: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError(
                f"window end {self.end.isoformat()} is not after start {self.start.isoformat()}"
            )
        return self

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def split(self, at: datetime) -> tuple[TimeWindow | None, TimeWindow | None]:
        """The parts of this window before and from ``at`` (``None`` where empty)."""
        before = TimeWindow(start=self.start, end=at) if at > self.start else None
        after = TimeWindow(start=max(at, self.start), end=self.end) if at < self.end else None
        return before, after


class Source(StrEnum):
    """Where a piece of evidence came from."""

    LOGS = "logs"
    METRICS = "metrics"
    TRACES = "traces"
    POSTMORTEM = "postmortem"
    ALERT = "alert"
    CHANGE = "change"


class EvidenceDraft(BaseModel):
    """Evidence as a tool returns it, before the investigation numbers it.

    A draft is raw: its text is the tool's, of any length. The text pipeline
    (``tools.text.TextPipeline.evidence``) neutralises, redacts and clips it to the limits that
    :class:`Evidence` enforces.
    """

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="stable, source-specific key, unique within an investigation")
    source: Source
    title: str
    summary: str = Field(description="one or two sentences stating what the data shows")
    query: str = Field(description="the exact query that fetched it (KQL/DSL, PromQL, ...)")
    link: str | None = Field(default=None, description="deep link to see the same data")
    window: TimeWindow | None = None
    service: str | None = None
    score: float = Field(default=0.0, ge=0.0, description="how anomalous / relevant, 0 = not")
    excerpt: str = ""


class Evidence(EvidenceDraft):
    """A numbered evidence item as it appears in a report (``[E3]`` in the answer).

    Its text fields are bounded, so nothing of unsafe length can be numbered: number drafts that
    went through the text pipeline.
    """

    id: str = Field(pattern=EVIDENCE_ID.pattern)
    title: str = Field(max_length=MAX_TITLE_CHARS)
    summary: str = Field(
        max_length=MAX_SUMMARY_CHARS, description="one or two sentences stating what the data shows"
    )
    query: str = Field(
        max_length=MAX_QUERY_CHARS,
        description="the exact query that fetched it (KQL/DSL, PromQL, ...)",
    )
    link: str | None = Field(
        default=None, max_length=MAX_LINK_CHARS, description="deep link to see the same data"
    )
    service: str | None = Field(default=None, max_length=MAX_SERVICE_CHARS)
    excerpt: str = Field(default="", max_length=MAX_EXCERPT_CHARS)

    @classmethod
    def number(cls, draft: EvidenceDraft, index: int) -> Evidence:
        return cls(id=f"E{index}", **draft.model_dump())


def clip(text: str, limit: int = MAX_EXCERPT_CHARS) -> str:
    """Shorten ``text`` to ``limit`` characters, marking the cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
