"""TGI's native API through the ``text-generation`` client, answers constrained by a JSON grammar.

A call renders the conversation with the served model's own chat template (``/chat_tokenize``,
which also gives the exact prompt token count), then generates from that text with
``grammar={"type": "json", "value": schema}``, so the answer always parses (unless cut at
``max_new_tokens``). Greedy decoding when ``temperature`` is 0 (TGI rejects ``temperature=0``:
``do_sample`` is off instead).

Routes: ``text-generation`` 0.7's ``generate`` posts to its base URL and reads a one-item list,
the answer of TGI's compat route ``POST /`` (which is ``/generate``'s, in a list); streams go to
``POST /generate_stream``. The client's own chat streaming is not used: it breaks on
``data: [DONE]``. ``/chat_tokenize``, ``/info`` and ``/health`` have no client method and are
read with httpx.

Tool calls (``complete_tools``) use the grammar too, not TGI's Messages API: the answer must be
``{"answer": "..."}`` or ``{"tool": "<name>", "arguments": {...}}`` with the arguments of that
tool's schema, which works for every model TGI serves, whatever its chat template knows about
tools. Earlier tool calls and results are rendered as plain assistant and user turns.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import aiohttp
import httpx
import text_generation.errors as tgi_errors  # type: ignore[import-untyped]
from text_generation import AsyncClient
from text_generation.types import Grammar, GrammarType  # type: ignore[import-untyped]

from bot.llm.model import Completion, Message, ToolCall, ToolSpec, Usage
from bot.llm.settings import LlmSettings
from bot.llm.wire import decode_arguments, decode_json, display_url, openai_messages, quote
from tools.errors import ModelError, ModelOutputError, ModelTimeout, ModelUnavailable

_TGI_ERRORS = (
    tgi_errors.ValidationError,
    tgi_errors.GenerationError,
    tgi_errors.OverloadedError,
    tgi_errors.IncompleteGenerationError,
    tgi_errors.BadRequestError,
    tgi_errors.ShardNotReadyError,
    tgi_errors.ShardTimeoutError,
    tgi_errors.NotFoundError,
    tgi_errors.RateLimitExceededError,
    tgi_errors.UnknownError,
)

TOOL_INSTRUCTIONS = (
    "You may call one of these tools, or answer. Reply with JSON only: either "
    '{"answer": "<your answer>"} or {"tool": "<tool name>", "arguments": {...}}.\nTools:\n'
)


class TgiModel:
    """A model served by TGI, through its native generate API. See the module docstring."""

    def __init__(self, settings: LlmSettings) -> None:
        if not settings.url:
            raise ModelUnavailable("no model configured (set RCABOT_LLM__URL)")
        self.name = f"tgi:{settings.model}"
        self.last_usage: Usage | None = None  # of the last call, streams included
        self._settings = settings
        self._where = f"TGI at {display_url(settings.url)}"
        headers = {}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        backstop = math.ceil(settings.timeout_s) + 1  # our own deadline fires first
        self._generate = AsyncClient(settings.url, headers=headers, timeout=backstop)
        self._stream = AsyncClient(
            f"{settings.url}/generate_stream", headers=headers, timeout=backstop
        )
        timeout = settings.http_timeout
        self._http = httpx.AsyncClient(base_url=settings.url, headers=headers, timeout=timeout)

    async def complete_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> Completion:
        completion = await self._complete(_tgi_messages(messages), schema, max_new_tokens)
        decode_json(completion.text, f"the answer of {self._where}")
        return completion

    async def stream_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> AsyncGenerator[str, None]:
        self.last_usage = None
        deadline = asyncio.get_running_loop().time() + self._settings.timeout_s
        prompt, prompt_tokens = await self._render(_tgi_messages(messages))
        stream = self._stream.generate_stream(prompt, **self._parameters(schema, max_new_tokens))
        try:
            while True:
                with self._mapped("stream its answer"):
                    async with asyncio.timeout_at(deadline):
                        try:
                            event = await anext(stream)
                        except StopAsyncIteration:
                            break
                if not event.token.special:
                    yield event.token.text
                if event.details is not None:
                    self.last_usage = Usage(prompt_tokens, event.details.generated_tokens)
                    return
        finally:
            await stream.aclose()
        raise ModelOutputError(f"{self._where}: the stream ended before the answer was complete")

    async def complete_tools(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, max_new_tokens: int
    ) -> Completion:
        chat = _with_tool_instructions(_tgi_messages(messages), tools)
        completion = await self._complete(chat, tool_schema(tools), max_new_tokens)
        value = decode_json(completion.text, f"the answer of {self._where}")
        if isinstance(value, dict) and isinstance(value.get("tool"), str):
            name = value["tool"]
            call = ToolCall("call_0", name, decode_arguments(name, value.get("arguments", {})))
            return Completion("", completion.usage, (call,), completion.finish_reason)
        if isinstance(value, dict) and isinstance(value.get("answer"), str):
            return Completion(value["answer"], completion.usage, (), completion.finish_reason)
        raise ModelOutputError(
            f"{self._where} answered neither a tool call nor an answer: {quote(completion.text)}"
        )

    async def count_tokens(self, messages: Sequence[Message]) -> int:
        _, tokens = await self._render(_tgi_messages(messages))
        return tokens

    async def health(self) -> str:
        status, _ = await self._get("/health")
        if status != 200:
            raise ModelUnavailable(f"{self._where} is unhealthy: HTTP {status} from /health")
        status, info = await self._get("/info")
        if status != 200 or not isinstance(info, dict) or "model_id" not in info:
            raise ModelUnavailable(f"{self._where}: unexpected answer to /info (HTTP {status})")
        limit = info.get("max_input_tokens")
        return f"TGI {info.get('version', '?')} serving {info['model_id']}" + (
            f", at most {limit} input tokens" if isinstance(limit, int) else ""
        )

    async def ping(self) -> Completion:
        """A one-token generation from a one-line conversation (``rcabot config check``)."""
        prompt, tokens = await self._render([{"role": "user", "content": "Say OK."}])
        return await self._generate_text(prompt, tokens, {"max_new_tokens": 1, "do_sample": False})

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- internals -------------------------------------------------------------------------

    async def _complete(
        self, chat: list[dict[str, Any]], schema: Mapping[str, Any], max_new_tokens: int
    ) -> Completion:
        prompt, prompt_tokens = await self._render(chat)
        return await self._generate_text(
            prompt, prompt_tokens, self._parameters(schema, max_new_tokens)
        )

    async def _generate_text(
        self, prompt: str, prompt_tokens: int, parameters: dict[str, Any]
    ) -> Completion:
        self.last_usage = None
        with self._mapped("answer"):
            async with asyncio.timeout(self._settings.timeout_s):
                response = await self._generate.generate(prompt, **parameters)
        details = response.details
        generated = details.generated_tokens if details is not None else 0
        reason = str(details.finish_reason.value) if details is not None else None
        self.last_usage = Usage(prompt_tokens, generated)
        return Completion(response.generated_text, self.last_usage, (), reason)

    def _parameters(self, schema: Mapping[str, Any], max_new_tokens: int) -> dict[str, Any]:
        temperature = self._settings.temperature
        return {
            "max_new_tokens": max_new_tokens,
            "do_sample": temperature > 0,
            "temperature": temperature if temperature > 0 else None,
            "grammar": Grammar(type=GrammarType.Json, value=dict(schema)),
        }

    async def _render(self, chat: list[dict[str, Any]]) -> tuple[str, int]:
        """The prompt text (the model's chat template applied) and its token count."""
        status, body = await self._post(
            "/chat_tokenize", {"model": self._settings.model, "messages": chat}
        )
        if status != 200:
            raise ModelUnavailable(
                f"{self._where} cannot template the chat: {_reason(status, body)}"
            )
        if not (
            isinstance(body, dict)
            and isinstance(body.get("templated_text"), str)
            and isinstance(body.get("tokenize_response"), list)
        ):
            raise ModelOutputError(f"{self._where}: unexpected answer to /chat_tokenize")
        return body["templated_text"], len(body["tokenize_response"])

    async def _get(self, path: str) -> tuple[int, Any]:
        return await self._request(self._http.get(path), path)

    async def _post(self, path: str, body: Any) -> tuple[int, Any]:
        return await self._request(self._http.post(path, json=body), path)

    async def _request(self, sending: Any, path: str) -> tuple[int, Any]:
        """Status and JSON body (None when the body is not JSON)."""
        with self._mapped(f"answer {path}"):
            async with asyncio.timeout(self._settings.timeout_s):
                response: httpx.Response = await sending
        try:
            return response.status_code, response.json()
        except ValueError:  # not JSON: callers check the shape they need
            return response.status_code, None

    @contextmanager
    def _mapped(self, doing: str) -> Iterator[None]:
        """Vendor and transport failures as :class:`ModelError` subclasses."""
        try:
            yield
        except ModelError:
            raise
        except (TimeoutError, httpx.TimeoutException, aiohttp.ServerTimeoutError) as exc:
            raise ModelTimeout(
                f"{self._where} did not {doing} within {self._settings.timeout_s:g}s"
            ) from exc
        except aiohttp.ContentTypeError as exc:
            if exc.status >= 400:
                raise ModelUnavailable(f"{self._where}: HTTP {exc.status}") from exc
            raise ModelOutputError(f"{self._where} answered something that is not JSON") from exc
        except aiohttp.ClientPayloadError as exc:
            raise ModelUnavailable(f"{self._where}: the answer broke off midway") from exc
        except (aiohttp.ClientError, httpx.HTTPError) as exc:
            raise ModelUnavailable(f"{self._where} is unreachable: {type(exc).__name__}") from exc
        except _TGI_ERRORS as exc:
            kind = type(exc).__name__.removesuffix("Error").lower()
            raise ModelUnavailable(f"{self._where} refused ({kind}): {quote(str(exc))}") from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # text-generation parsing an answer that is not TGI's: junk JSON, wrong shape
            raise ModelOutputError(f"{self._where} answered in an unexpected form") from exc


def tool_schema(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The grammar of a turn that answers or calls exactly one of ``tools``."""
    answer = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    calls = [
        {
            "type": "object",
            "properties": {"tool": {"enum": [tool.name]}, "arguments": dict(tool.parameters)},
            "required": ["tool", "arguments"],
            "additionalProperties": False,
        }
        for tool in tools
    ]
    return {"anyOf": [answer, *calls]}


def _with_tool_instructions(
    chat: list[dict[str, Any]], tools: Sequence[ToolSpec]
) -> list[dict[str, Any]]:
    listing = "\n".join(
        f"- {tool.name}: {tool.description} Arguments (JSON schema): "
        f"{json.dumps(dict(tool.parameters), sort_keys=True)}"
        for tool in tools
    )
    text = TOOL_INSTRUCTIONS + (listing or "(none: answer)")
    if chat and chat[0]["role"] == "system":
        return [{"role": "system", "content": f"{chat[0]['content']}\n\n{text}"}, *chat[1:]]
    return [{"role": "system", "content": text}, *chat]


def _tgi_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages for any chat template: tool calls and results become plain turns."""
    chat: list[dict[str, Any]] = []
    for message in messages:
        if message.tool_calls:
            calls = [{"tool": c.name, "arguments": dict(c.arguments)} for c in message.tool_calls]
            content = json.dumps(calls[0] if len(calls) == 1 else calls)
            chat.append({"role": "assistant", "content": content})
        elif message.role == "tool":
            chat.append(
                {
                    "role": "user",
                    "content": f"Result of tool call {message.tool_call_id}:\n{message.content}",
                }
            )
        else:
            chat.extend(openai_messages([message]))
    return chat


def _reason(status: int, body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return f"HTTP {status}" + (f": {quote(str(error))}" if error else "")


__all__ = ["TgiModel", "tool_schema"]
