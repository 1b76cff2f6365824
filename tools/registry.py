"""The tools: the single list the investigation draws on and the agent will be given."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tools.call_edge_changes import call_edge_changes
from tools.code_path_changes import code_path_changes
from tools.log_patterns import log_patterns
from tools.log_timeline import log_timeline
from tools.metric_changes import metric_changes
from tools.recent_changes import recent_changes
from tools.search_logs import search_logs
from tools.similar_postmortems import similar_postmortems
from tools.tool import Tool, ToolDefinitionError
from tools.trace_attribution import trace_attribution


class ToolRegistry:
    """Tools by name, in the order given; two tools with one name are refused."""

    def __init__(self, tools: Sequence[Tool[..., Any]]) -> None:
        self._by_name: dict[str, Tool[..., Any]] = {}
        for tool in tools:
            if tool.name in self._by_name:
                raise ToolDefinitionError(f"two tools are named {tool.name}")
            self._by_name[tool.name] = tool

    def get(self, name: str) -> Tool[..., Any] | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[Tool[..., Any]]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)


TOOLS = ToolRegistry(
    [
        metric_changes,
        call_edge_changes,
        log_patterns,
        log_timeline,
        trace_attribution,
        code_path_changes,
        recent_changes,
        search_logs,
        similar_postmortems,
    ]
)
