"""What every tool returns: a status the agent can read, typed data, evidence, and warnings.

Expected failures (backend down, timeout, malformed answer, source not configured) come back
as ``status`` ``error``/``unavailable`` with a message; programming errors raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from tools.evidence import EvidenceDraft

T = TypeVar("T")


class ToolStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # some queries failed or were truncated; data is usable
    ERROR = "error"  # the backend failed; no data
    UNAVAILABLE = "unavailable"  # the source is not configured / not in the bundle


@dataclass
class ToolResult(Generic[T]):
    tool: str
    source: str  # logs | metrics | traces | changes
    backend: str
    status: ToolStatus
    data: T | None = None
    evidence: list[EvidenceDraft] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in (ToolStatus.OK, ToolStatus.PARTIAL)
