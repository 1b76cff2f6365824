"""A scripted, in-process fake ``ChatModel`` for the writer's tests (no server, no wire).

``FakeModel(reply)``: ``reply`` is the JSON text it answers with, a function of the messages
it was sent (so a fake can echo or obey what is in the prompt), or an exception to raise.
It records every call; ``complete_tools`` is never expected from the writer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any

from bot.investigation.compact import estimate_tokens
from bot.llm.model import Completion, Message, ToolCall, ToolSpec, Usage

Reply = str | Callable[[Sequence[Message]], str] | BaseException


def statements(*items: tuple[str, list[str]]) -> str:
    return json.dumps({"statements": [{"text": t, "evidence": e} for t, e in items]})


class FakeModel:
    name = "fake:scripted"

    def __init__(
        self,
        reply: Reply,
        *,
        delay_s: float = 0.0,
        chunk: int = 7,
        count_error: BaseException | None = None,
        tokens_per_char: float | None = None,
    ) -> None:
        self.reply = reply
        self.delay_s = delay_s
        self.chunk = chunk
        self.count_error = count_error
        self.tokens_per_char = tokens_per_char
        self.calls: list[tuple[str, list[Message]]] = []
        self.tools_seen: list[ToolSpec] = []
        self.closed = False
        self.open_streams = 0  # streams started and not yet closed (a server's open connection)

    def _answer(self, messages: Sequence[Message]) -> str:
        if isinstance(self.reply, BaseException):
            raise self.reply
        return self.reply(messages) if callable(self.reply) else self.reply

    async def complete_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> Completion:
        self.calls.append(("complete_json", list(messages)))
        await asyncio.sleep(self.delay_s)
        text = self._answer(messages)
        prompt = sum(len(m.content) for m in messages)
        return Completion(text, Usage(prompt_tokens=prompt, completion_tokens=len(text)))

    async def stream_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> AsyncGenerator[str, None]:
        self.calls.append(("stream_json", list(messages)))
        text = self._answer(messages)
        self.open_streams += 1
        try:
            for i in range(0, len(text), self.chunk):
                await asyncio.sleep(self.delay_s)
                yield text[i : i + self.chunk]
        finally:
            self.open_streams -= 1

    async def complete_tools(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, max_new_tokens: int
    ) -> Completion:
        self.calls.append(("complete_tools", list(messages)))
        self.tools_seen.extend(tools)
        raise AssertionError("the writer must never offer tools")

    async def count_tokens(self, messages: Sequence[Message]) -> int:
        if self.count_error is not None:
            raise self.count_error
        text = "".join(m.content for m in messages)
        if self.tokens_per_char is not None:
            return int(len(text) * self.tokens_per_char)
        return estimate_tokens(text) + 4 * len(messages)

    async def health(self) -> str:
        return "fake model"

    async def aclose(self) -> None:
        self.closed = True


# --- the agent's fake (tests/bot/llm/test_agent.py) -------------------------------------------

Step = Sequence[ToolCall] | str | BaseException | float
"""One ``complete_tools`` turn of :class:`AgentModel`: tool calls to make, a text reply (no
call), an exception to raise, or a number of seconds to hang (then it is cancelled)."""


class AgentModel:
    """A scripted tool-calling model: ``steps`` answer ``complete_tools`` in order (then it
    replies without calling), ``answer`` answers ``complete_json`` (the final statements)."""

    name = "fake:agent"

    def __init__(
        self, steps: Sequence[Step] = (), answer: Reply = "", *, answer_delay_s: float = 0.0
    ) -> None:
        self.steps = list(steps)
        self.answer = answer
        self.answer_delay_s = answer_delay_s
        self.calls: list[tuple[str, list[Message]]] = []
        self.tools_seen: list[list[ToolSpec]] = []

    async def complete_tools(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, max_new_tokens: int
    ) -> Completion:
        self.calls.append(("complete_tools", list(messages)))
        self.tools_seen.append(list(tools))
        step: Step = self.steps.pop(0) if self.steps else "enough evidence"
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, float):
            await asyncio.sleep(step)
            step = "slept"
        if isinstance(step, str):
            return Completion(step, Usage(10, 2))
        return Completion("", Usage(10, 3), tool_calls=tuple(step))

    async def complete_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> Completion:
        self.calls.append(("complete_json", list(messages)))
        await asyncio.sleep(self.answer_delay_s)
        if isinstance(self.answer, BaseException):
            raise self.answer
        text = self.answer(messages) if callable(self.answer) else self.answer
        return Completion(text, Usage(20, 5))

    async def stream_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> AsyncGenerator[str, None]:
        """The answer in chunks of 5 characters (the agent streams when asked to show it)."""
        self.calls.append(("stream_json", list(messages)))
        if isinstance(self.answer, BaseException):
            raise self.answer
        text = self.answer(messages) if callable(self.answer) else self.answer
        for start in range(0, len(text), 5):
            await asyncio.sleep(0)
            yield text[start : start + 5]

    async def count_tokens(self, messages: Sequence[Message]) -> int:
        return estimate_tokens("".join(m.content for m in messages))

    async def health(self) -> str:
        return "fake agent model"

    async def aclose(self) -> None:
        pass


def call(name: str, call_id: str = "c1", **arguments: Any) -> ToolCall:
    return ToolCall(call_id, name, arguments)
