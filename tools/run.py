"""Running a tool: time bound, backend errors → structured results, timing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tools.deps import Deps
from tools.errors import BackendError, RetrievalError
from tools.result import ToolResult, ToolStatus

T = TypeVar("T")


async def guarded(
    tool: str,
    source: str,
    backend_name: str,
    deps: Deps,
    body: Callable[[], Awaitable[ToolResult[T]]],
) -> ToolResult[T]:
    """Run ``body`` within the tool time limit; map backend failures to a result."""
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(body(), timeout=deps.limits.tool_timeout_s)
    except TimeoutError:
        result = ToolResult(
            tool,
            source,
            backend_name,
            ToolStatus.ERROR,
            error=f"timed out after {deps.limits.tool_timeout_s:g}s",
        )
    except (BackendError, RetrievalError) as exc:  # a source failed: say so, go on
        result = ToolResult(tool, source, backend_name, ToolStatus.ERROR, error=str(exc))
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result


def unavailable(tool: str, source: str, deps: Deps) -> ToolResult[T]:
    why = deps.unavailable.get(source, f"no {source} backend configured")
    return ToolResult(tool, source, "none", ToolStatus.UNAVAILABLE, error=why)
