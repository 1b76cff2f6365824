"""The clients a tool may use, injected by the caller; tools never build clients themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from tools.backends import (
    ChangesBackend,
    LogsBackend,
    MetricsBackend,
    PostmortemSearch,
    TracesBackend,
)
from tools.settings import InvestigationSettings


@dataclass
class Deps:
    logs: LogsBackend | None = None
    metrics: MetricsBackend | None = None
    traces: TracesBackend | None = None
    changes: ChangesBackend | None = None
    postmortems: PostmortemSearch | None = None
    limits: InvestigationSettings = field(default_factory=InvestigationSettings)
    metrics_step: timedelta = timedelta(seconds=15)  # range-query resolution (metrics.step_s)
    unavailable: dict[str, str] = field(default_factory=dict)  # source → why it is missing
