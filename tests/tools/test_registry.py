"""The registry: the single list of tools the agent is given, each callable by name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools import TOOLS, Deps, Tool, ToolGateway, ToolRegistry
from tools.deps import SOURCES
from tools.result import ToolStatus
from tools.search_logs import search_logs
from tools.tool import ToolDefinitionError

WINDOW = {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"}
START = "2026-03-02T09:40:00Z"
# What an agent would send for each tool: decoded JSON, times as ISO strings.
ARGUMENTS: dict[str, dict[str, Any]] = {
    "metric_changes": {"window": WINDOW, "baseline_end": START},
    "call_edge_changes": {"window": WINDOW, "baseline_end": START},
    "log_patterns": {"window": WINDOW, "incident_start": START},
    "log_timeline": {"window": WINDOW},
    "trace_attribution": {"window": WINDOW, "incident_start": START},
    "code_path_changes": {"window": WINDOW, "incident_start": START},
    "recent_changes": {"window": WINDOW, "incident_start": START},
    "search_logs": {"window": WINDOW, "text": "timeout"},
    "similar_postmortems": {"query": "payments connection pool exhausted after deploy"},
}


def test_every_tool_is_named_documented_and_has_a_json_schema() -> None:
    assert TOOLS.names == list(ARGUMENTS)
    for tool in TOOLS:
        assert len(tool.description) > 40, tool.name
        assert tool.source in SOURCES
        schema = tool.input_schema()
        assert json.loads(json.dumps(schema)) == schema
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        if tool.source != "postmortems":  # telemetry is read in a time window
            assert "window" in schema["required"], tool.name


def test_lookup_by_name() -> None:
    assert TOOLS.get("search_logs") is search_logs
    assert TOOLS.get("nope") is None
    assert len(TOOLS) == len(ARGUMENTS)


def test_two_tools_with_one_name_are_refused() -> None:
    with pytest.raises(ToolDefinitionError, match="two tools are named search_logs"):
        ToolRegistry([search_logs, search_logs])


@pytest.mark.parametrize("tool", list(TOOLS), ids=lambda t: t.name)
async def test_missing_backend_is_a_structured_result(tool: Tool[..., Any]) -> None:
    why: dict[str, str] = {source: f"no {source} here" for source in SOURCES}
    result = await ToolGateway(Deps(unavailable=why)).call_json(tool.name, ARGUMENTS[tool.name])
    assert result.status is ToolStatus.UNAVAILABLE
    assert not result.ok
    assert result.error == f"no {tool.source} here"
    assert result.evidence == []
