"""Read-only telemetry tools: the one registry the investigation (and the agent) sees.

A tool is a typed async function ``(deps, *typed params) -> ToolResult`` with a docstring,
declared with ``@tool(source=...)`` (:mod:`tools.tool`); its input schema is generated from
its signature.
Backends are injected through :class:`Deps`; every call goes through :class:`ToolGateway`.
"""

from __future__ import annotations

from tools.deps import Deps
from tools.gateway import ToolGateway
from tools.registry import TOOLS, ToolRegistry
from tools.result import ToolResult, ToolStatus
from tools.tool import Tool

__all__ = ["TOOLS", "Deps", "Tool", "ToolGateway", "ToolRegistry", "ToolResult", "ToolStatus"]
