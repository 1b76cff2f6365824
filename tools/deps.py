"""The clients a tool may use, injected by the caller; tools never build clients themselves.

A tool declares the one source it reads (``@tool(source="metrics")``); the gateway checks that
source's client is present before calling the tool, and the tool takes it with
:func:`configured` (``metrics = configured(deps.metrics)``) to get the non-optional type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypeVar

from tools.backends import (
    ChangesBackend,
    LogsBackend,
    MetricsBackend,
    PostmortemSearch,
    TracesBackend,
)
from tools.service_map import ServiceMap
from tools.settings import InvestigationSettings
from tools.text import TextPipeline

SourceName = Literal["logs", "metrics", "traces", "changes", "postmortems"]
SOURCES: tuple[SourceName, ...] = ("logs", "metrics", "traces", "changes", "postmortems")
_PROTOCOLS: dict[SourceName, type] = {
    "logs": LogsBackend,
    "metrics": MetricsBackend,
    "traces": TracesBackend,
    "changes": ChangesBackend,
    "postmortems": PostmortemSearch,
}

C = TypeVar("C")


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
    text: TextPipeline = field(default_factory=TextPipeline)  # what leaves a tool goes through it
    service_map: ServiceMap | None = None  # who may call whom, as declared (not measured)
    warnings: list[str] = field(default_factory=list)  # from opening the sources; reported

    def client(self, source: SourceName) -> object | None:
        """The client serving ``source``, or ``None`` when it is not configured."""
        clients: dict[SourceName, object | None] = {
            "logs": self.logs,
            "metrics": self.metrics,
            "traces": self.traces,
            "changes": self.changes,
            "postmortems": self.postmortems,
        }
        return clients[source]

    def attach(self, source: SourceName, client: object) -> None:
        """Serve ``source`` with ``client``, which must implement that source's protocol."""
        protocol = _PROTOCOLS[source]
        if not isinstance(client, protocol):
            raise TypeError(f"{type(client).__name__} is not a {protocol.__name__}")
        setattr(self, source, client)
        self.unavailable.pop(source, None)

    def why_unavailable(self, source: SourceName) -> str:
        return self.unavailable.get(source, f"no {source} backend configured")


class MissingClientError(RuntimeError):
    """A tool ran without its source's client: it was called around the gateway (a bug)."""


def configured(client: C | None) -> C:
    """``client``, which the gateway has checked is there before calling the tool."""
    if client is None:
        raise MissingClientError("tool called without its client; call tools through ToolGateway")
    return client
