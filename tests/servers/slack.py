"""A Slack Web API **stand-in** for tests: NOT Slack. Slack cannot be reached from here, so this
local aiohttp server answers the Web API methods rcabot calls, the way Slack's reference says
they answer, and records every call so a test can assert what users would see.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        [reply] = slack.thread("C0001", thread_ts)[1:]

It serves ``/api/<method>`` on 127.0.0.1 (a free port, in the running event loop) and reads
arguments the ways slack_sdk sends them: JSON bodies, form bodies and query strings. Tokens are
checked like Slack checks them: none is ``not_authed``, anything but a bot token (``xoxb-``; or
exactly ``FakeSlack(token=...)``) is ``invalid_auth``; ``apps.connections.open`` wants the app
token (``xapp-``). An unknown method answers ``unknown_method``. What each method does is in
tests/servers/slack_workspace.py, Block Kit and size limits in tests/servers/slack_limits.py, the
message model in tests/servers/slack_messages.py.

Failures are injected per method (``"*"``: any): ``slack.fail("chat.postMessage")`` answers 429
``ratelimited`` with ``Retry-After`` once; ``slack.fail(m, error="channel_not_found")`` answers
Slack's HTTP 200 ``ok: false``; ``delay_s=`` (or ``slack.slow(m, seconds)``) holds the answer back.

What users would see: ``slack.thread(channel, thread_ts)`` (the parent and its replies, each as
now shown: edits applied, streamed chunks joined, ephemeral ones flagged), ``slack.message``,
``slack.status`` (the assistant thread status). ``slack.calls(method)`` lists what was called;
``await slack.wait_for(predicate)`` waits for the app to get somewhere. For Socket Mode, attach
a tests/servers/slack_socket.py server: ``slack.attach_socket(socket)``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from tests.servers.slack_limits import ApiError
from tests.servers.slack_messages import BOT_USER_ID, StoredMessage, VisibleMessage
from tests.servers.slack_socket import FakeSocketMode
from tests.servers.slack_workspace import Workspace

APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
SCOPES = "app_mentions:read,assistant:write,channels:history,chat:write,commands,reactions:write"
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One Web API call as it arrived, with what the stand-in answered."""

    method: str
    args: dict[str, Any]  # query, form and JSON arguments as sent (form values are strings)
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass
class Fault:
    error: str | None  # None: only a delay
    status: int
    retry_after: int | None
    times: int | None  # None: until cleared
    delay_s: float


class FakeSlack:
    """The stand-in. Use ``async with FakeSlack() as slack``; ``slack.api_url`` is the base URL."""

    def __init__(self, *, token: str | None = None, app_token: str | None = None) -> None:
        self.token = token
        self.app_token = app_token
        self.workspace = Workspace()
        self.api_url = ""
        self._calls: list[Call] = []
        self._faults: dict[str, list[Fault]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.api_url = f"http://{host}:{port}/api/"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- scripting ----------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        error: str = "ratelimited",
        status: int | None = None,
        retry_after: int = 1,
        times: int | None = 1,
        delay_s: float = 0.0,
    ) -> None:
        """Answer ``method`` (``"*"``: any) with ``error`` the next ``times`` calls (None: all).

        ``status`` defaults to Slack's: 429 with ``Retry-After`` for ``ratelimited``, else 200.
        """
        code = status if status is not None else (429 if error == "ratelimited" else 200)
        after = retry_after if code == 429 else None
        self._faults.setdefault(method, []).append(Fault(error, code, after, times, delay_s))

    def slow(self, method: str, delay_s: float, *, times: int | None = None) -> None:
        """Hold back the answers to ``method`` (``"*"``: any) by ``delay_s`` seconds."""
        self._faults.setdefault(method, []).append(Fault(None, 200, None, times, delay_s))

    def clear_faults(self) -> None:
        self._faults.clear()

    def attach_socket(self, socket: FakeSocketMode) -> None:
        """``apps.connections.open`` hands out a fresh URL of this Socket Mode server."""
        self.workspace.socket_url = socket.issue_url

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0USER",
        ts: str | None = None,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> str:
        """A message a person posted (e.g. the mention an event announces); returns its ts."""
        stored = StoredMessage(
            channel=channel,
            ts=ts or self.workspace.next_ts(),
            user=user,
            text=text,
            thread_ts=thread_ts,
            blocks=blocks or [],
        )
        return self.workspace.store(stored).ts

    # -- views --------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self._calls if method is None or c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[VisibleMessage]:
        """The thread as shown: parent first, replies in order (ephemeral ones flagged)."""
        return [m.visible() for m in self.workspace.thread(channel, thread_ts)]

    def message(self, channel: str, ts: str) -> VisibleMessage | None:
        stored = self.workspace.messages.get((channel, ts))
        return None if stored is None or stored.deleted else stored.visible()

    def status(self, channel: str, thread_ts: str) -> str:
        """The assistant thread status shown now ("" when none)."""
        return self.workspace.statuses.get((channel, thread_ts), "")

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Wait until ``predicate()`` is truthy (checked after every call) and return it."""
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                seen = [f"{c.method}:{'ok' if c.ok else c.error}" for c in self._calls]
                raise TimeoutError(f"not true after {timeout}s; calls so far: {seen}") from None

    # -- serving ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        method = request.match_info["method"]
        headers = dict(request.headers)
        try:
            args = await _arguments(request)
        except ApiError as exc:
            return await self._answer(Call(method, {}, headers, at, 200, exc.body()), {})
        extra: dict[str, str] = {}
        status, body = await self._respond(method, args, headers, extra)
        return await self._answer(Call(method, args, headers, at, status, body), extra)

    async def _respond(
        self,
        method: str,
        args: dict[str, Any],
        headers: Mapping[str, str],
        extra_headers: dict[str, str],
    ) -> tuple[int, dict[str, Any]]:
        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.retry_after is not None:
                extra_headers["Retry-After"] = str(fault.retry_after)
            if fault.error is not None:
                return fault.status, {"ok": False, "error": fault.error}
        handler = self.workspace.methods.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}
        try:
            self._check_token(method, headers, args)
            if method == "auth.test":
                extra_headers["x-oauth-scopes"] = SCOPES
            return 200, handler(args)
        except ApiError as exc:
            return 200, exc.body()

    def _take_fault(self, method: str) -> Fault | None:
        for key in (method, "*"):
            queue = self._faults.get(key, [])
            if queue:
                fault = queue[0]
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        queue.pop(0)
                return fault
        return None

    def _check_token(
        self, method: str, headers: Mapping[str, str], args: Mapping[str, Any]
    ) -> None:
        auth = headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        token = token or str(args.get("token") or "")
        if not token:
            raise ApiError("not_authed")
        if method in APP_TOKEN_METHODS:
            if not token.startswith("xapp-"):
                raise ApiError("not_allowed_token_type")
            if self.app_token is not None and token != self.app_token:
                raise ApiError("invalid_auth")
            return
        if token.startswith("xapp-"):
            raise ApiError("not_allowed_token_type")
        if not token.startswith("xoxb-") or (self.token is not None and token != self.token):
            raise ApiError("invalid_auth")

    async def _answer(self, call: Call, headers: dict[str, str]) -> web.Response:
        self._calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(call.response, status=call.status, headers=headers)


async def _arguments(request: web.Request) -> dict[str, Any]:
    """Query, then form or JSON body arguments, as slack_sdk sends them."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text() or "{}")
        except json.JSONDecodeError:
            raise ApiError("invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError("invalid_json")
        args.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


__all__ = ["BOT_USER_ID", "Call", "FakeSlack", "VisibleMessage"]
