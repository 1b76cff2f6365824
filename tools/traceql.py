"""TraceQL (Tempo's query language) for a :class:`TraceQuery`, for Tempo and for evidence.

The bundle backend describes its trace queries in TraceQL too, so an offline investigation's
evidence can be re-run in Grafana against Tempo after ``rcabot load``.
"""

from __future__ import annotations

import json
from datetime import timedelta

from tools.backends import TraceQuery


def go_duration(value: timedelta) -> str:
    """A duration as Go's ``time.ParseDuration`` and TraceQL read it: ``250ms``, ``1500us``."""
    micros = value // timedelta(microseconds=1)
    return f"{micros // 1000}ms" if micros % 1000 == 0 else f"{micros}us"


def traceql_string(value: str) -> str:
    """A TraceQL string literal (Go syntax; JSON's escapes are a subset of Go's)."""
    return json.dumps(value, ensure_ascii=False)


def traceql(query: TraceQuery) -> str:
    """The TraceQL spanset filter for ``query``; ``{ }`` matches every span.

    ``duration >=``: a span of exactly the minimum matches, as in :meth:`TraceQuery.matches`.
    """
    conditions = []
    if query.service:
        conditions.append(f"resource.service.name = {traceql_string(query.service)}")
    if query.operation:
        conditions.append(f"name = {traceql_string(query.operation)}")
    if query.errors_only:
        conditions.append("status = error")
    if query.min_duration:
        conditions.append(f"duration >= {go_duration(query.min_duration)}")
    return "{ " + " && ".join(conditions) + " }" if conditions else "{ }"
