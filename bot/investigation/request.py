"""What an investigation is asked to do, from any entry point (CLI, Slack, webhook)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tools.evidence import TimeWindow
from tools.records import Alert


class InvestigationRequest(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    question: str = Field(default="", description="free-text question, if asked")
    alert: Alert | None = None
    service: str | None = None
    window: TimeWindow | None = None
    incident_start: datetime | None = Field(
        default=None, description="when symptoms began, if known; otherwise detected"
    )
    reference: TimeWindow | None = Field(
        default=None,
        description="a healthy period to compare against (normal behaviour), if given; it must "
        "not reach into the incident (from the alert or the given start to the window's end)",
    )
