"""A tool is a typed async function; its signature is its input schema.

::

    @tool(source="logs")
    async def search_logs(
        deps: Deps,
        window: Annotated[TimeWindow, Field(description="time range to search")],
        limit: Annotated[int, Field(ge=1, le=50)] = 20,
    ) -> ToolResult[LogPage]:
        \"\"\"Matching log lines, oldest first.\"\"\"

:func:`tool` turns the function into a :class:`Tool` once, at import: its name, its docstring
(the description the agent reads), the source it needs, and a pydantic model generated from the
parameters after ``deps`` (types, ``Field`` constraints and descriptions, defaults). There is no
second definition of the input that could drift from the function, and a wrongly declared tool
fails at import with :class:`ToolDefinitionError`, not at call time.

A ``Tool`` is not callable: every call goes through :class:`tools.gateway.ToolGateway`, which
validates the arguments against the model, checks the source, bounds the time, maps failures to
a result and cleans the text.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, PydanticUserError, ValidationError, create_model
from pydantic.fields import FieldInfo

from tools.deps import Deps, SourceName
from tools.result import ToolResult

P = ParamSpec("P")
T = TypeVar("T")


class ToolDefinitionError(TypeError):
    """A tool function is declared in a way its schema cannot be derived from (a bug)."""


@dataclass(frozen=True, eq=False)
class Tool(Generic[P, T]):
    name: str
    description: str
    source: SourceName
    function: Callable[Concatenate[Deps, P], Awaitable[ToolResult[T]]]
    input_model: type[BaseModel]
    signature: inspect.Signature

    def input_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments, as the agent is given it."""
        return self.input_model.model_json_schema()

    def arguments(self, *args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        """A typed call's arguments by parameter name (``TypeError`` if they do not bind)."""
        bound = self.signature.bind(None, *args, **kwargs)
        return {k: v for k, v in bound.arguments.items() if k in self.input_model.model_fields}

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """``arguments`` checked and converted by the input model; raises ``ValidationError``."""
        model = self.input_model.model_validate(arguments)
        return {name: getattr(model, name) for name in self.input_model.model_fields}

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, source={self.source!r})"


def tool(
    *, source: SourceName
) -> Callable[[Callable[Concatenate[Deps, P], Awaitable[ToolResult[T]]]], Tool[P, T]]:
    """Declare ``function`` a tool that reads ``source`` (see the module docstring)."""

    def register(function: Callable[Concatenate[Deps, P], Awaitable[ToolResult[T]]]) -> Tool[P, T]:
        return from_function(function, source=source)

    return register


def from_function(
    function: Callable[Concatenate[Deps, P], Awaitable[ToolResult[T]]], *, source: SourceName
) -> Tool[P, T]:
    """Build the :class:`Tool` of ``function``; :class:`ToolDefinitionError` if it cannot be."""
    name = getattr(function, "__name__", repr(function))

    def refuse(problem: str) -> ToolDefinitionError:
        return ToolDefinitionError(f"tool {name}: {problem}")

    if not inspect.iscoroutinefunction(function):
        raise refuse("must be an async function")
    description = " ".join((function.__doc__ or "").split())
    if not description:
        raise refuse("needs a docstring: it is the description the agent reads")
    try:
        hints = get_type_hints(function, include_extras=True)
    except NameError as exc:
        raise refuse(f"an annotation cannot be resolved ({exc})") from exc
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    if not parameters or hints.get(parameters[0].name) is not Deps:
        raise refuse("the first parameter must be `deps: Deps`")
    if get_origin(hints.get("return")) is not ToolResult:
        raise refuse("must return ToolResult[...]")
    fields: dict[str, Any] = {}
    for param in parameters[1:]:
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise refuse(f"parameter {param.name}: only named parameters can be in a schema")
        if param.name not in hints:
            raise refuse(f"parameter {param.name} has no type annotation")
        if isinstance(param.default, FieldInfo):
            raise refuse(
                f"parameter {param.name}: put Field(...) in Annotated[...], not in the default"
            )
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints[param.name], default)
    model_name = "".join(part.title() for part in name.split("_")) + "Arguments"
    try:
        model = create_model(
            model_name, __config__=ConfigDict(extra="forbid", frozen=True), **fields
        )
        model.model_json_schema()  # what the agent is given must exist, too
    except (PydanticUserError, TypeError) as exc:  # no schema for a parameter's type
        raise refuse(f"no input schema: {exc}") from exc
    return Tool(name, description, source, function, model, signature)


def invalid_arguments(exc: ValidationError) -> str:
    """One line naming each refused argument and why (never echoing the values)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)
