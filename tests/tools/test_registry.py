from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from tests.bundles import T0
from tools import TOOLS, Deps, Tool
from tools.evidence import TimeWindow
from tools.result import ToolStatus

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
START = T0 + timedelta(minutes=40)
INPUTS: dict[str, dict[str, Any]] = {
    "metric_changes": {"window": WINDOW, "baseline_end": START},
    "log_patterns": {"window": WINDOW, "incident_start": START},
    "log_timeline": {"window": WINDOW},
    "trace_attribution": {"window": WINDOW, "incident_start": START},
    "recent_changes": {"window": WINDOW, "incident_start": START},
    "search_logs": {"window": WINDOW, "text": "timeout"},
    "similar_postmortems": {"query": "payments connection pool exhausted after deploy"},
}


def test_registry_names_are_unique_and_documented() -> None:
    names = [t.name for t in TOOLS]
    assert len(names) == len(set(names)) == len(INPUTS)
    for tool in TOOLS:
        assert len(tool.description) > 40, tool.name
        schema = tool.input_schema()
        assert schema["type"] == "object"
        if tool.name != "similar_postmortems":  # telemetry is read in a time window
            assert "window" in schema["properties"], tool.name


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
async def test_missing_backend_is_a_structured_result(tool: Tool) -> None:
    params: BaseModel = tool.input_model(**INPUTS[tool.name])
    deps = Deps(
        unavailable={
            "logs": "no logs here",
            "metrics": "no metrics here",
            "postmortems": "nothing ingested",
        }
    )
    result = await tool.run(deps, params)
    assert result.status is ToolStatus.UNAVAILABLE
    assert not result.ok
    assert result.error
    assert result.evidence == []
