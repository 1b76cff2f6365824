"""Read-only telemetry tools: the one registry the investigation (and the agent) sees.

A tool is an async function ``(deps, params) -> ToolResult`` with a docstring; its input
schema is the pydantic model of ``params``. Backends are injected through :class:`Deps`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tools.deps import Deps
from tools.log_patterns import LogPatternsInput, log_patterns
from tools.log_timeline import LogTimelineInput, log_timeline
from tools.metric_changes import MetricChangesInput, metric_changes
from tools.recent_changes import RecentChangesInput, recent_changes
from tools.result import ToolResult
from tools.search_logs import SearchLogsInput, search_logs
from tools.similar_postmortems import SimilarPostmortemsInput, similar_postmortems
from tools.trace_attribution import TraceAttributionInput, trace_attribution


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_model: type[BaseModel]
    run: Callable[[Deps, Any], Awaitable[ToolResult[Any]]]

    def input_schema(self) -> dict[str, Any]:
        return self.input_model.model_json_schema()


def _tool(fn: Callable[[Deps, Any], Awaitable[ToolResult[Any]]], model: type[BaseModel]) -> Tool:
    return Tool(fn.__name__, " ".join((fn.__doc__ or "").split()), model, fn)


TOOLS: list[Tool] = [
    _tool(metric_changes, MetricChangesInput),
    _tool(log_patterns, LogPatternsInput),
    _tool(log_timeline, LogTimelineInput),
    _tool(trace_attribution, TraceAttributionInput),
    _tool(recent_changes, RecentChangesInput),
    _tool(search_logs, SearchLogsInput),
    _tool(similar_postmortems, SimilarPostmortemsInput),
]

__all__ = ["TOOLS", "Deps", "Tool", "ToolResult"]
