"""The one way a tool is called, by the investigation engine and the agent alike.

For every call, once: the arguments are validated by the tool's input model; a source that is
not configured gives an ``unavailable`` result saying why; the tool runs within
``deps.limits.tool_timeout_s``; a failing backend or index (:class:`BackendError`,
:class:`RetrievalError`) becomes an ``error`` result with its message; then every evidence item,
the error and the warnings go through the text pipeline (``deps.text``), and the elapsed time is
recorded. Nothing that leaves here is raw telemetry text.

Expected failures never raise: an unknown tool name or arguments the model refuses come back as
an ``error`` result the agent can read and correct. Programming errors (``TypeError``,
``KeyError``, ...) raise, as everywhere in rcabot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ParamSpec, TypeVar

from pydantic import ValidationError

from tools.deps import Deps
from tools.errors import BackendError, RetrievalError
from tools.registry import TOOLS, ToolRegistry
from tools.result import ToolResult, ToolStatus
from tools.tool import Tool, invalid_arguments

P = ParamSpec("P")
T = TypeVar("T")
MAX_NAME_CHARS = 100


class ToolGateway:
    """Calls tools with ``deps`` (see the module docstring)."""

    def __init__(self, deps: Deps, tools: ToolRegistry | Sequence[Tool[..., Any]] = TOOLS) -> None:
        self.deps = deps
        self.tools = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools)

    async def call(self, tool: Tool[P, T], *args: P.args, **kwargs: P.kwargs) -> ToolResult[T]:
        """Call ``tool`` with arguments type-checked against its signature."""
        return await self._run(tool, tool.arguments(*args, **kwargs))

    async def call_json(self, name: str, arguments: Mapping[str, Any]) -> ToolResult[Any]:
        """Call the tool named ``name`` with decoded JSON ``arguments`` (as the agent does)."""
        found = self.tools.get(name)
        if found is None:
            known = ", ".join(self.tools.names)
            shown = self.deps.text(name, MAX_NAME_CHARS)
            refused: ToolResult[Any] = ToolResult(
                shown, "none", "none", ToolStatus.ERROR, error=f"unknown tool; known: {known}"
            )
            return self._clean(refused, time.perf_counter())
        return await self._run(found, arguments)

    async def _run(self, tool: Tool[..., T], arguments: Mapping[str, Any]) -> ToolResult[T]:
        started = time.perf_counter()
        result = await self._outcome(tool, arguments)
        return self._clean(replace(result, tool=tool.name, source=tool.source), started)

    async def _outcome(self, tool: Tool[..., T], arguments: Mapping[str, Any]) -> ToolResult[T]:
        deps = self.deps
        client = deps.client(tool.source)
        backend = "none" if client is None else str(getattr(client, "name", tool.source))

        def failed(status: ToolStatus, error: str) -> ToolResult[T]:
            return ToolResult(tool.name, tool.source, backend, status, error=error)

        try:
            valid = tool.validate(arguments)
        except ValidationError as exc:
            return failed(ToolStatus.ERROR, f"invalid arguments: {invalid_arguments(exc)}")
        if client is None:
            return failed(ToolStatus.UNAVAILABLE, deps.why_unavailable(tool.source))
        limit = deps.limits.tool_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await tool.function(deps, **valid)
        except TimeoutError:
            return failed(ToolStatus.ERROR, f"timed out after {limit:g}s")
        except (BackendError, RetrievalError) as exc:  # a source failed: say so, go on
            return failed(ToolStatus.ERROR, str(exc))

    def _clean(self, result: ToolResult[T], started: float) -> ToolResult[T]:
        text = self.deps.text
        return replace(
            result,
            evidence=[text.evidence(d) for d in result.evidence],
            error=None if result.error is None else text(result.error),
            warnings=text.strings(result.warnings),
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )
