"""A TGI **stand-in** for tests: a local HTTP server speaking the routes and JSON shapes of
Text Generation Inference's own OpenAPI document (../shared/fixtures/tgi/openapi.json, TGI
3.3), because no TGI (or GPU) is here. It is NOT TGI and runs no model: what it "generates" is
scripted per test. tests/servers/test_tgi_standin.py checks that every request our clients send
and every answer it gives validate against that document.

Routes: ``POST /`` (compat: ``/generate``'s answer in a list, or the stream), ``/generate``,
``/generate_stream`` (SSE ``data: {"index", "token", "generated_text", "details"}``),
``/tokenize``, ``/chat_tokenize``, ``/v1/chat/completions`` (JSON, or SSE chunks then
``data: [DONE]``; ``tool_calls``; usage chunk with ``stream_options.include_usage``),
``GET /info``, ``/health``, ``/v1/models``.

Its tokenizer: a word, a run of spaces or one punctuation mark is a token; its chat template
is ChatML. Generation returns the next scripted :class:`Reply` (``standin.script(...)``; when
none is queued, ``{"answer": "ok"}``), cut at ``max_new_tokens`` like a model would be.
A reply can instead be an HTTP error (TGI's ``ErrorResponse``), a junk body, come after a
delay, or break off midway through a stream. ``standin.fail[path] = Reply.error(...)`` makes
any route fail until ``reset()``. ``standin.received`` records each request and answer.

Use the session fixture ``tgi_standin`` (it resets the script for each test).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from tests.servers import free_port

MODEL_ID = "standin/tiny-chat"
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
JSON = "application/json"


def tokenize(text: str) -> list[str]:
    """The stand-in's tokenizer (not any real model's)."""
    return _TOKEN.findall(text)


def chat_template(messages: list[dict[str, Any]]) -> str:
    """ChatML, with the assistant turn opened (``add_generation_prompt``)."""
    turns = []
    for message in messages:
        content = message.get("content")
        if content is None:
            content = json.dumps(message.get("tool_calls", []))
        turns.append(f"<|im_start|>{message['role']}\n{content}<|im_end|>\n")
    return "".join(turns) + "<|im_start|>assistant\n"


@dataclass(frozen=True)
class Reply:
    """What one generation request gets."""

    text: str = '{"answer": "ok"}'
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, arguments as sent, JSON text)
    status: int = 200
    error: str = ""  # with status >= 400: TGI's {"error", "error_type"}
    error_type: str = ""
    body: bytes | None = None  # sent verbatim instead of an answer (junk)
    content_type: str = JSON
    delay_s: float = 0.0  # before the answer starts
    cut_after: int | None = None  # streams: drop the connection after this many events
    end_after: int | None = None  # streams: end cleanly after this many events, unfinished

    @classmethod
    def json(cls, value: object) -> Reply:
        return cls(text=json.dumps(value))

    @classmethod
    def call(cls, name: str, arguments: object) -> Reply:
        """A tool call: native TGI gets the grammar's JSON, the Messages API ``tool_calls``."""
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        native = f'{{"tool": {json.dumps(name)}, "arguments": {args}}}'
        return cls(text=native, tool_calls=((name, args),))

    @classmethod
    def failure(cls, status: int, error: str, error_type: str = "generation") -> Reply:
        return cls(status=status, error=error, error_type=error_type)

    @classmethod
    def junk(cls, body: bytes, content_type: str = JSON) -> Reply:
        return cls(body=body, content_type=content_type)


@dataclass(frozen=True)
class Received:
    path: str
    body: Any  # the request's JSON (None for GET)
    answer: Any = None  # the JSON answered (a list of SSE payloads for a stream)
    content_type: str = JSON
    status: int = 200


@dataclass
class TgiStandin:
    url: str = ""
    replies: deque[Reply] = field(default_factory=deque)
    fail: dict[str, Reply] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def reset(self) -> None:
        self.replies.clear()
        self.fail.clear()
        self.received.clear()

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    def next_reply(self) -> Reply:
        return self.replies.popleft() if self.replies else Reply()


def _error(reply: Reply) -> web.Response:
    if reply.body is not None:
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)
    payload = {"error": reply.error or "failed", "error_type": reply.error_type or "generation"}
    return web.json_response(payload, status=reply.status)


class _App:
    def __init__(self, standin: TgiStandin) -> None:
        self.standin = standin

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/", self.compat),
            web.post("/generate", self.generate),
            web.post("/generate_stream", self.generate_stream),
            web.post("/tokenize", self.tokenize),
            web.post("/chat_tokenize", self.chat_tokenize),
            web.post("/v1/chat/completions", self.chat),
            web.get("/info", self.info),
            web.get("/health", self.health),
            web.get("/v1/models", self.models),
        ]

    def _record(self, path: str, body: Any, answer: Any, status: int = 200, ct: str = JSON) -> None:
        self.standin.received.append(Received(path, body, answer, ct, status))

    async def _json(self, request: web.Request, body: Any, answer: Any) -> web.StreamResponse:
        override = self.standin.fail.get(request.path)
        if override is not None:
            await asyncio.sleep(override.delay_s)
            self._record(request.path, body, None, override.status)
            return _error(override)
        self._record(request.path, body, answer)
        return web.json_response(answer)

    async def info(self, request: web.Request) -> web.StreamResponse:
        info = {
            "model_id": MODEL_ID, "model_sha": None, "model_pipeline_tag": "text-generation",
            "max_concurrent_requests": 128, "max_best_of": 2, "max_stop_sequences": 4,
            "max_input_tokens": 8192, "max_total_tokens": 9216, "validation_workers": 2,
            "max_client_batch_size": 4, "router": "text-generation-router",
            "version": "3.3.6-standin", "sha": None, "docker_label": None,
        }  # fmt: skip
        return await self._json(request, None, info)

    async def health(self, request: web.Request) -> web.StreamResponse:
        if (override := self.standin.fail.get(request.path)) is not None:
            self._record(request.path, None, None, override.status)
            return _error(override)
        self._record(request.path, None, None)
        return web.Response(status=200)

    async def models(self, request: web.Request) -> web.StreamResponse:
        model = {"id": MODEL_ID, "object": "model", "created": 1700000000, "owned_by": "standin"}
        return await self._json(request, None, model)

    async def tokenize(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not isinstance(body.get("inputs"), str):  # e.g. vLLM's {"messages": ...}
            reply = Reply.failure(422, "missing field `inputs`", "validation")
            self._record(request.path, body, json.loads(_error(reply).text or ""), 422)
            return _error(reply)
        return await self._json(request, body, _simple_tokens(body["inputs"]))

    async def chat_tokenize(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        text = chat_template(body["messages"])
        answer = {"templated_text": text, "tokenize_response": _simple_tokens(text)}
        return await self._json(request, body, answer)

    async def compat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("stream"):
            return await self._generate(request, body, stream=True)
        return await self._generate(request, body, stream=False, in_list=True)

    async def generate(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, await request.json(), stream=False)

    async def generate_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._generate(request, await request.json(), stream=True)

    async def _begin(self, request: web.Request, body: Any) -> tuple[Reply, web.Response | None]:
        reply = self.standin.fail.get(request.path) or self.standin.next_reply()
        await asyncio.sleep(reply.delay_s)
        if reply.status >= 400 or reply.body is not None:
            answer = None if reply.body is not None else json.loads(_error(reply).text or "")
            self._record(request.path, body, answer, reply.status, reply.content_type)
            return reply, _error(reply)
        return reply, None

    async def _generate(
        self, request: web.Request, body: Any, *, stream: bool, in_list: bool = False
    ) -> web.StreamResponse:
        reply, failed = await self._begin(request, body)
        if failed is not None:
            return failed
        parameters = body.get("parameters") or {}
        limit = parameters.get("max_new_tokens") or 1024
        tokens = tokenize(reply.text)[:limit]
        reason = "length" if len(tokenize(reply.text)) > limit else "eos_token"
        prompt_tokens = len(tokenize(body["inputs"]))
        if not stream:
            details = {
                "finish_reason": reason, "generated_tokens": len(tokens), "seed": None,
                "prefill": [], "tokens": [_token(i, t) for i, t in enumerate(tokens)],
            }  # fmt: skip
            answer: Any = {"generated_text": "".join(tokens), "details": details}
            answer = [answer] if in_list else answer
            self._record(request.path, body, answer)
            return web.json_response(answer)
        events: list[dict[str, Any]] = []
        for i, text in enumerate(tokens):
            last = i == len(tokens) - 1
            events.append({
                "index": i, "token": _token(i, text), "top_tokens": [],
                "generated_text": "".join(tokens) if last else None,
                "details": {"finish_reason": reason, "generated_tokens": len(tokens),
                            "input_length": prompt_tokens, "seed": None} if last else None,
            })  # fmt: skip
        return await self._sse(request, body, reply, [json.dumps(e) for e in events])

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        reply, failed = await self._begin(request, body)
        if failed is not None:
            return failed
        limit = body.get("max_tokens") or 1024
        tokens = tokenize(reply.text)[:limit]
        reason = "length" if len(tokenize(reply.text)) > limit else "stop"
        usage = {
            "prompt_tokens": len(tokenize(chat_template(body["messages"]))),
            "completion_tokens": len(tokens),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        head = {"id": "", "created": int(time.time()), "model": MODEL_ID,
                "system_fingerprint": "3.3.6-standin"}  # fmt: skip
        calls = [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": name, "arguments": args, "description": None}}
            for i, (name, args) in enumerate(reply.tool_calls)
        ]  # fmt: skip
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant"}
            if calls:
                message["tool_calls"] = calls
                reason = "tool_calls"
            else:
                message["content"] = "".join(tokens)
            choice = {"index": 0, "message": message, "finish_reason": reason, "logprobs": None}
            answer = {**head, "choices": [choice], "usage": usage}
            self._record(request.path, body, answer)
            return web.json_response(answer)
        chunks = []
        for i, text in enumerate(tokens):
            last = i == len(tokens) - 1
            delta = {"role": "assistant", "content": text}
            choice = {"index": 0, "delta": delta, "finish_reason": reason if last else None,
                      "logprobs": None}  # fmt: skip
            chunks.append(json.dumps({**head, "choices": [choice], "usage": None}))
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append(json.dumps({**head, "choices": [], "usage": usage}))
        return await self._sse(request, body, reply, [*chunks, "[DONE]"])

    async def _sse(
        self, request: web.Request, body: Any, reply: Reply, payloads: list[str]
    ) -> web.StreamResponse:
        sent = [json.loads(p) for p in payloads if p != "[DONE]"]
        self._record(request.path, body, sent, ct="text/event-stream")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for n, payload in enumerate(payloads):
            if n == reply.cut_after:
                assert request.transport is not None
                request.transport.close()  # mid-stream: no final chunk
                return response
            if n == reply.end_after:
                break
            await response.write(f"data: {payload}\n\n".encode())
        await response.write_eof()
        return response


def _token(i: int, text: str) -> dict[str, Any]:
    return {"id": i, "text": text, "logprob": -0.5, "special": False}


def _simple_tokens(text: str) -> list[dict[str, Any]]:
    tokens, start = [], 0
    for i, piece in enumerate(tokenize(text)):
        tokens.append({"id": i, "text": piece, "start": start, "stop": start + len(piece)})
        start += len(piece)
    return tokens


def pytest_configure(config: pytest.Config) -> None:
    # text-generation 0.7 serialises requests with pydantic's deprecated ``.dict()``; its
    # warning is the vendor's, not ours (filterwarnings=error would fail every TGI call)
    config.addinivalue_line(
        "filterwarnings",
        "ignore:The `dict` method is deprecated:pydantic.warnings.PydanticDeprecatedSince20"
        ":text_generation.client",
    )


async def _cancel_the_rest() -> None:
    """Handlers still sleeping on a scripted delay are cancelled, not left pending at exit."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


@contextmanager
def running_tgi_standin() -> Iterator[TgiStandin]:
    """Run the TGI **stand-in** in a thread on a free port; yield it (``.url``)."""
    standin = TgiStandin()
    app = web.Application()
    app.add_routes(_App(standin).routes())
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    port = free_port()
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, name="tgi-standin", daemon=True)
    thread.start()
    standin.url = f"http://127.0.0.1:{port}"
    try:
        yield standin
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture(scope="session")
def _tgi_standin_session() -> Iterator[TgiStandin]:
    with running_tgi_standin() as standin:
        yield standin


@pytest.fixture
def tgi_standin(_tgi_standin_session: TgiStandin) -> TgiStandin:
    """The session's TGI **stand-in** (not TGI: scripted answers), reset for this test."""
    _tgi_standin_session.reset()
    return _tgi_standin_session


__all__ = [
    "MODEL_ID",
    "Reply",
    "TgiStandin",
    "chat_template",
    "running_tgi_standin",
    "tgi_standin",
    "tokenize",
]
