"""Spans for the trace-analysis tests: one per call, the operation named after the service."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from tools.records import Span


def span(
    trace: str,
    sid: str,
    parent: str | None,
    service: str,
    start: float,
    ms: float,
    *,
    error: bool = False,
    kind: str = "server",
    **attrs: Any,
) -> Span:
    return Span(
        trace_id=trace,
        span_id=sid,
        parent_id=parent,
        service=service,
        operation=f"{service}.op",
        start=start,
        duration_ms=ms,
        error=error,
        kind=kind,
        attrs=MappingProxyType(attrs),
    )
