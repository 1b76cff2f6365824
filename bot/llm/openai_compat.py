"""Any OpenAI-compatible chat server through the ``openai`` SDK: TGI's Messages API, vLLM,
SGLang, llama.cpp's server.

``/v1/chat/completions`` with ``response_format`` (a strict JSON schema) for answers and
``tools`` for tool calls; streams ask for ``stream_options.include_usage`` so the served model's
own token counts come back. The schema travels under both ``json_schema`` (OpenAI, vLLM, SGLang,
llama.cpp) and ``value`` (TGI's ``GrammarType``); each server reads its own key.

Prompt tokens (:meth:`OpenAICompatModel.count_tokens`), exact where the server can tell, tried
in order and the first that works remembered: TGI's ``/chat_tokenize``; vLLM's and SGLang's
``/tokenize`` with ``messages``; the ``usage.prompt_tokens`` of a one-token completion (any
server that reports usage, llama.cpp included: its ``/extras/tokenize`` tokenizes raw text
without the chat template, so it is not used). Failing all of them, an **estimate** (4
characters a token), and ``tokens_estimated`` says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import httpx
import httpx2
import openai
from openai import AsyncOpenAI

from bot.llm.model import Completion, Message, ToolCall, ToolSpec, Usage
from bot.llm.settings import LlmSettings
from bot.llm.wire import decode_arguments, decode_json, display_url, openai_messages, quote
from tools.errors import ModelError, ModelOutputError, ModelTimeout, ModelUnavailable

CHARS_PER_TOKEN = 4  # the documented estimate, used only when the server cannot count
Counter = Literal["chat_tokenize", "tokenize", "usage", "estimate"]
_COUNTERS: tuple[Counter, ...] = ("chat_tokenize", "tokenize", "usage")


FormatStyle = Literal["json_schema", "json_object"]
FORMAT_STYLES: tuple[FormatStyle, ...] = ("json_schema", "json_object")


class OpenAICompatModel:
    """A model behind an OpenAI-compatible ``/v1`` API. See the module docstring."""

    def __init__(self, settings: LlmSettings) -> None:
        if not settings.url:
            raise ModelUnavailable("no model configured (set RCABOT_LLM__URL)")
        self.name = f"openai:{settings.model}"
        self.last_usage: Usage | None = None  # of the last call, streams included
        self.tokens_estimated = False  # count_tokens fell back to the estimate
        self._settings = settings
        self._where = f"model server at {display_url(settings.url)}"
        key = settings.api_key.get_secret_value() if settings.api_key else "none"
        timeout = settings.http_timeout
        self._client = AsyncOpenAI(
            base_url=f"{settings.url}/v1",
            api_key=key,
            timeout=openai.Timeout(settings.timeout_s, connect=timeout.connect),
            max_retries=0,
        )
        # the SDK's typed overloads want TypedDicts; requests are built as plain dicts here
        self._chat: Any = self._client.chat.completions.create
        self._http = httpx.AsyncClient(
            base_url=settings.url, timeout=timeout, headers={"Authorization": f"Bearer {key}"}
        )
        self._counter: Counter | None = None
        # "json_schema" (OpenAI, vLLM, SGLang, TGI) until the server refuses it; llama.cpp's
        # server takes the schema as {"type": "json_object", "schema": ...} — learned once
        self._format: FormatStyle | None = None

    async def complete_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> Completion:
        for style in self._format_styles():
            try:
                completion = await self._create(
                    messages, max_new_tokens, response_format=_response_format(schema, style)
                )
            except ModelUnavailable as exc:
                if not self._format_refused(exc, style):
                    raise
                continue
            self._format = style
            decode_json(completion.text, f"the answer of {self._where}")
            return completion
        raise AssertionError("unreachable: the last format style re-raises")

    async def stream_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_new_tokens: int
    ) -> AsyncGenerator[str, None]:
        self.last_usage = None
        deadline = asyncio.get_running_loop().time() + self._settings.timeout_s
        stream = None
        for style in self._format_styles():
            try:
                with self._mapped("answer"):
                    async with asyncio.timeout_at(deadline):
                        stream = await self._chat(
                            **self._request(messages, max_new_tokens),
                            response_format=_response_format(schema, style),
                            stream=True,
                            stream_options={"include_usage": True},
                        )
            except ModelUnavailable as exc:
                if not self._format_refused(exc, style):
                    raise
                continue
            self._format = style
            break
        assert stream is not None  # the last format style re-raises
        finished = False
        try:
            while True:
                with self._mapped("stream its answer"):
                    async with asyncio.timeout_at(deadline):
                        try:
                            chunk = await anext(aiter(stream))
                        except StopAsyncIteration:
                            break
                if chunk.usage is not None:
                    self.last_usage = Usage(
                        chunk.usage.prompt_tokens, chunk.usage.completion_tokens
                    )
                for choice in chunk.choices or ():
                    if choice.delta is not None and choice.delta.content:
                        yield choice.delta.content
                    finished = finished or choice.finish_reason is not None
        finally:
            await stream.close()
        if not finished:
            raise ModelOutputError(
                f"{self._where}: the stream ended before the answer was complete"
            )

    async def complete_tools(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, max_new_tokens: int
    ) -> Completion:
        specs = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": dict(tool.parameters),
                },
            }
            for tool in tools
        ]
        return await self._create(messages, max_new_tokens, tools=specs, tool_choice="auto")

    async def count_tokens(self, messages: Sequence[Message]) -> int:
        chat = openai_messages(messages)
        order = (self._counter,) if self._counter else _COUNTERS
        for counter in order:
            count = await self._count(counter, chat) if counter != "estimate" else None
            if count is not None:
                self._counter = counter
                return count
        self._counter = "estimate"
        self.tokens_estimated = True
        return sum(len(m.content) for m in messages) // CHARS_PER_TOKEN + 4 * len(messages)

    async def health(self) -> str:
        with self._mapped("answer /v1/models"):
            async with asyncio.timeout(self._settings.timeout_s):
                response = await self._http.get("/v1/models")
        if response.status_code != 200:
            raise ModelUnavailable(f"{self._where}: HTTP {response.status_code} from /v1/models")
        try:
            body = response.json()
        except ValueError as exc:
            raise ModelOutputError(f"{self._where}: /v1/models did not answer JSON") from exc
        # OpenAI, vLLM, llama.cpp: {"data": [{"id": ...}]}; TGI: one {"id": ...}
        entries = body.get("data") if isinstance(body, dict) and "data" in body else [body]
        ids = [
            e["id"] for e in entries or () if isinstance(e, dict) and isinstance(e.get("id"), str)
        ]
        if not ids:
            raise ModelOutputError(f"{self._where}: /v1/models names no model")
        return f"OpenAI-compatible server serving {', '.join(ids[:3])}"

    async def ping(self) -> Completion:
        """A one-token completion of a one-line conversation (``rcabot config check``)."""
        return await self._create([Message("user", "Say OK.")], 1)

    async def aclose(self) -> None:
        await self._client.close()
        await self._http.aclose()

    # -- internals -------------------------------------------------------------------------

    def _format_styles(self) -> tuple[FormatStyle, ...]:
        return (self._format,) if self._format else FORMAT_STYLES

    def _format_refused(self, exc: ModelUnavailable, style: FormatStyle) -> bool:
        """Whether the server refused ``style`` of ``response_format`` and another is left."""
        return style != FORMAT_STYLES[-1] and self._format is None and "response_format" in str(exc)

    def _request(self, messages: Sequence[Message], max_new_tokens: int) -> dict[str, Any]:
        return {
            "model": self._settings.model,
            "messages": openai_messages(messages),
            "max_tokens": max_new_tokens,
            "temperature": self._settings.temperature,
        }

    async def _create(
        self, messages: Sequence[Message], max_new_tokens: int, **extra: Any
    ) -> Completion:
        self.last_usage = None
        with self._mapped("answer"):
            async with asyncio.timeout(self._settings.timeout_s):
                response = await self._chat(**self._request(messages, max_new_tokens), **extra)
        if not response.choices:
            raise ModelOutputError(f"{self._where} answered no choices")
        choice = response.choices[0]
        calls = tuple(
            ToolCall(
                call.id,
                call.function.name,
                decode_arguments(call.function.name, call.function.arguments),
            )
            for call in choice.message.tool_calls or ()
            if call.type == "function"
        )
        usage = response.usage
        if usage is not None:
            self.last_usage = Usage(usage.prompt_tokens, usage.completion_tokens)
        else:
            self.last_usage = Usage(await self.count_tokens(messages), 0)
        text = choice.message.content or ""
        return Completion(text, self.last_usage, calls, choice.finish_reason)

    async def _count(self, counter: Counter, chat: list[dict[str, Any]]) -> int | None:
        """Prompt tokens by ``counter``; None when this server does not offer it."""
        if counter == "usage":
            with self._mapped("count tokens"):
                async with asyncio.timeout(self._settings.timeout_s):
                    completion = await self._chat(
                        model=self._settings.model, messages=chat, max_tokens=1
                    )
            usage = completion.usage
            return int(usage.prompt_tokens) if usage is not None else None
        path, key = (
            ("/chat_tokenize", "tokenize_response")
            if counter == "chat_tokenize"
            else ("/tokenize", "count")
        )
        with self._mapped(f"answer {path}"):
            async with asyncio.timeout(self._settings.timeout_s):
                response = await self._http.post(
                    path, json={"model": self._settings.model, "messages": chat}
                )
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        value = body.get(key) if isinstance(body, dict) else None
        if isinstance(value, list):
            return len(value)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @contextmanager
    def _mapped(self, doing: str) -> Iterator[None]:
        """SDK and transport failures as :class:`ModelError` subclasses (no secrets quoted)."""
        try:
            yield
        except ModelError:
            raise
        except (
            TimeoutError,
            openai.APITimeoutError,
            httpx.TimeoutException,
            httpx2.TimeoutException,
        ) as exc:
            raise ModelTimeout(
                f"{self._where} did not {doing} within {self._settings.timeout_s:g}s"
            ) from exc
        except openai.APIStatusError as exc:
            raise ModelUnavailable(
                f"{self._where} refused: HTTP {exc.status_code}: {quote(_error_text(exc.body))}"
            ) from exc
        except (openai.APIConnectionError, httpx.HTTPError, httpx2.HTTPError) as exc:
            raise ModelUnavailable(f"{self._where} is unreachable: {type(exc).__name__}") from exc
        except (openai.APIResponseValidationError, ValueError) as exc:
            raise ModelOutputError(f"{self._where} answered in an unexpected form") from exc


def _response_format(schema: Mapping[str, Any], style: FormatStyle) -> dict[str, Any]:
    if style == "json_object":  # llama.cpp's server: a JSON-schema grammar from "schema"
        return {"type": "json_object", "schema": dict(schema)}
    config = {"name": "answer", "schema": dict(schema), "strict": True}
    # TGI's Messages API reads the schema from "value"; OpenAI and vLLM from "json_schema"
    return {"type": "json_schema", "json_schema": config, "value": config}


def _error_text(body: object) -> str:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)
    return str(body) if body is not None else ""


__all__ = ["CHARS_PER_TOKEN", "OpenAICompatModel"]
