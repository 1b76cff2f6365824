"""A tool's input schema is its signature: derived once, at declaration; mistakes fail there."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import pytest
from pydantic import Field, ValidationError

from tests.bundles import T0
from tools.deps import Deps
from tools.evidence import TimeWindow
from tools.log_timeline import log_timeline
from tools.metric_changes import metric_changes
from tools.records import LogLevel
from tools.result import ToolResult, ToolStatus
from tools.search_logs import search_logs
from tools.tool import ToolDefinitionError, from_function, tool


def test_the_schema_comes_from_the_signature() -> None:
    schema = search_logs.input_schema()
    assert schema["type"] == "object"
    assert schema["required"] == ["window"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert list(props) == ["window", "services", "text", "trace_id", "min_level", "limit"]
    assert props["window"]["description"] == "time range to search"
    assert props["limit"]["default"] == 20
    assert (props["limit"]["minimum"], props["limit"]["maximum"]) == (1, 50)
    assert props["services"]["default"] == []
    text = next(t for t in props["text"]["anyOf"] if t.get("type") == "string")
    assert text["maxLength"] == 500
    assert props["text"]["description"] == "words to match"


def test_name_description_and_source_come_from_the_declaration() -> None:
    assert metric_changes.name == "metric_changes"
    assert metric_changes.source == "metrics"
    assert metric_changes.description.startswith("Score every service's metrics")
    assert "\n" not in metric_changes.description
    assert set(metric_changes.input_schema()["required"]) == {"window", "baseline_end"}


def test_validation_converts_json_and_applies_defaults() -> None:
    window = {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"}
    args = log_timeline.validate(
        {"window": window, "services": ["api"], "min_level": int(LogLevel.ERROR)}
    )
    assert args["services"] == ("api",)
    assert args["min_level"] is LogLevel.ERROR
    assert args["buckets"] == 30
    assert args["window"].duration.total_seconds() == 3600
    with pytest.raises(ValidationError):
        log_timeline.validate({"window": window, "buckets": 1})


def test_typed_arguments_bind_by_name() -> None:
    window = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
    assert search_logs.arguments(window, limit=3) == {"window": window, "limit": 3}
    with pytest.raises(TypeError):
        search_logs.arguments(wrong=1)  # type: ignore[call-arg]


async def _no_docstring(deps: Deps, x: int) -> ToolResult[int]:
    return ToolResult("t", "logs", "none", ToolStatus.OK, data=x)


def _not_async(deps: Deps, x: int) -> ToolResult[int]:
    """Synchronous."""
    return ToolResult("t", "logs", "none", ToolStatus.OK, data=x)


async def _deps_missing(x: int) -> ToolResult[int]:
    """No deps."""
    return ToolResult("t", "logs", "none", ToolStatus.OK, data=x)


async def _no_parameters() -> ToolResult[int]:
    """Nothing at all."""
    return ToolResult("t", "logs", "none", ToolStatus.OK, data=1)


async def _unannotated(deps: Deps, x) -> ToolResult[int]:  # type: ignore[no-untyped-def]
    """No annotation."""
    return ToolResult("t", "logs", "none", ToolStatus.OK, data=x)


async def _star_args(deps: Deps, *xs: int) -> ToolResult[int]:
    """Varargs."""
    return ToolResult("t", "logs", "none", ToolStatus.OK, data=len(xs))


async def _field_default(deps: Deps, x: int = Field(default=3, ge=1)) -> ToolResult[int]:
    """Field as the default."""
    return ToolResult("t", "logs", "none", ToolStatus.OK, data=x)


async def _plain_return(deps: Deps, x: int) -> int:
    """Not a ToolResult."""
    return x


class _Opaque:
    pass


async def _no_schema(deps: Deps, x: _Opaque) -> ToolResult[int]:
    """A parameter pydantic has no schema for."""
    return ToolResult("t", "logs", "none", ToolStatus.OK, data=1)


@pytest.mark.parametrize(
    ("function", "problem"),
    [
        (_no_docstring, "needs a docstring"),
        (_not_async, "must be an async function"),
        (_deps_missing, "first parameter must be"),
        (_no_parameters, "first parameter must be"),
        (_unannotated, "has no type annotation"),
        (_star_args, "only named parameters"),
        (_field_default, "put Field(...) in Annotated"),
        (_plain_return, "must return ToolResult"),
        (_no_schema, "no input schema"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_a_wrongly_declared_tool_fails_at_declaration(function: Any, problem: str) -> None:
    with pytest.raises(ToolDefinitionError, match="tool _") as raised:
        from_function(function, source="logs")
    assert problem in str(raised.value)


def test_constraints_in_annotated_reach_the_schema() -> None:
    @tool(source="changes")
    async def pick(
        deps: Deps,
        k: Annotated[int, Field(ge=1, le=5, description="how many")] = 2,
        *,
        label: str = "x",
    ) -> ToolResult[int]:
        """Pick ``k``."""
        return ToolResult("pick", "changes", "none", ToolStatus.OK, data=k)

    props = pick.input_schema()["properties"]
    assert props["k"] == {
        "default": 2,
        "description": "how many",
        "maximum": 5,
        "minimum": 1,
        "title": "K",
        "type": "integer",
    }
    assert props["label"]["default"] == "x"
    assert "required" not in pick.input_schema()
