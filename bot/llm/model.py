"""The one interface to a served language model, whatever serves it.

The deterministic engine finds and ranks; the model only explains, and may only say what the
evidence supports. Callers (the writer, the agent) depend on :class:`ChatModel` alone; the
backend is chosen by ``llm.api`` in the settings (``tgi`` or ``openai``).

Failures are :class:`tools.errors.ModelError` subclasses (unreachable, timed out, refused,
malformed output); callers turn every one of them into the deterministic answer with a reason.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for (arguments already decoded from JSON)."""

    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()  # assistant messages that call tools
    tool_call_id: str | None = None  # tool messages: the call they answer


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model is shown it: name, description, JSON schema of the arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens as the serving model counted them (not an estimate)."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    usage: Usage
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class ChatModel(Protocol):
    """A served chat model. Every method raises :class:`tools.errors.ModelError` on failure."""

    name: str  # what the report names: "tgi:<model id>" or "openai:<model>"

    async def complete_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> Completion:
        """A completion constrained to ``schema`` (TGI grammar / ``response_format``)."""
        ...

    def stream_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> AsyncGenerator[str, None]:
        """The same completion as text chunks, as they are generated."""
        ...

    async def complete_tools(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, max_new_tokens: int
    ) -> Completion:
        """A completion that may call ``tools`` (``tool_calls``) instead of answering."""
        ...

    async def count_tokens(self, messages: Sequence[Message]) -> int:
        """Prompt tokens of ``messages`` with the served model's tokenizer and chat template."""
        ...

    async def health(self) -> str:
        """A one-line description of the server and model when it answers; raises otherwise."""
        ...

    async def aclose(self) -> None: ...


class ServedModel(ChatModel, Protocol):
    """A :class:`ChatModel` as the clients implement it, with what ``config check`` probes."""

    last_usage: Usage | None  # of the last call (a stream's once it has ended), else None

    async def ping(self) -> Completion:
        """A one-token generation: proves the server generates, not only that it answers."""
        ...
