"""A Slack Socket Mode **stand-in** for tests: NOT Slack. A local WebSocket server (the
``websockets`` library) that speaks Socket Mode's envelope protocol, so an app running Bolt's
Socket Mode handler (aiohttp or websockets flavour) can be driven end to end without Slack.

The protocol, as Slack documents it (docs.slack.dev, "Using Socket Mode"):

- the app calls ``apps.connections.open`` with its app token and gets a one-off ``wss://`` URL
  (here: ``ws://127.0.0.1:PORT/link/?ticket=...``; FakeSlack.attach_socket hands these out and
  this server refuses a ticket it never issued, as Slack does);
- on connect the server sends ``{"type": "hello", "num_connections": n, ...}``;
- each delivery is an envelope ``{"envelope_id", "type": "events_api" | "slash_commands" |
  "interactive", "payload", "accepts_response_payload", "retry_attempt", "retry_reason"}``; the
  app acknowledges it by sending ``{"envelope_id": ...}`` back, with a ``"payload"`` when the
  envelope accepts a response (slash commands, some interactions);
- the server may ask the app to reconnect: ``{"type": "disconnect", "reason":
  "refresh_requested"}`` (the app opens a new connection, then drops the old one).

    async with FakeSocketMode() as socket:
        slack.attach_socket(socket)
        ...  # start the app's handler
        envelope_id = await socket.send_envelope("events_api", payload)
        ack = await socket.wait_ack(envelope_id)
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from tests.servers.slack_messages import APP_ID

HOST = "applink-standin-1"
ENVELOPE_TYPES = frozenset({"events_api", "slash_commands", "interactive"})
# Which envelopes accept a response payload when a test does not say (Slack: slash commands do,
# event deliveries never do, block actions don't).
DEFAULT_ACCEPTS_RESPONSE = {"events_api": False, "slash_commands": True, "interactive": False}


@dataclass(frozen=True)
class Ack:
    """What the app sent back for one envelope."""

    envelope_id: str
    payload: dict[str, Any] | None
    at: float  # time.monotonic() on arrival


class FakeSocketMode:
    """The stand-in server; ``async with FakeSocketMode() as socket``."""

    def __init__(self, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self.acks: list[Ack] = []
        self.received: list[dict[str, Any]] = []  # every JSON message the app sent
        self.connections_opened = 0
        self._open: list[ServerConnection] = []
        self._tickets: set[str] = set()
        self._changed = asyncio.Condition()
        self._server: Server | None = None
        self._port = 0

    async def __aenter__(self) -> FakeSocketMode:
        self._server = await serve(
            self._serve, "127.0.0.1", 0, process_request=self._check_ticket, compression=None
        )
        self._port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def issue_url(self) -> str:
        """A fresh connection URL, as ``apps.connections.open`` answers."""
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={self.app_id}"

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def wait_connected(self, opened: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``opened`` connections were made in all and one is open now."""
        await self._wait(lambda: self.connections_opened >= opened and bool(self._open), timeout)

    async def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> str:
        """Deliver ``payload`` on the newest open connection; returns the envelope_id."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {type!r}")
        await self.wait_connected(timeout=timeout)
        envelope_id = str(uuid.uuid4())
        accepts = DEFAULT_ACCEPTS_RESPONSE[type]
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type,
            "accepts_response_payload": (
                accepts if accepts_response_payload is None else accepts_response_payload
            ),
        }
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        await self._open[-1].send(json.dumps(envelope))
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:  # noqa: ASYNC109
        """The app's acknowledgement of ``envelope_id`` (waits for it)."""

        def find() -> Ack | None:
            return next((a for a in self.acks if a.envelope_id == envelope_id), None)

        await self._wait(lambda: find() is not None, timeout)
        found = find()
        assert found is not None
        return found

    async def disconnect(self, reason: str = "refresh_requested", timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Ask the app to reconnect, as Slack does before it recycles a connection."""
        await self.wait_connected(timeout=timeout)
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}}
        await self._open[-1].send(json.dumps(message))

    # -- serving ------------------------------------------------------------------------------

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        query = parse_qs(urlsplit(request.path).query)
        if not set(query.get("ticket", [])) & self._tickets:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "unknown ticket\n")
        return None

    async def _serve(self, connection: ServerConnection) -> None:
        self._open.append(connection)
        self.connections_opened += 1
        await self._notify()
        try:
            hello = {
                "type": "hello",
                "num_connections": len(self._open),
                "debug_info": {
                    "host": HOST,
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
            await connection.send(json.dumps(hello))
            async for raw in connection:
                await self._receive(raw)
        finally:
            self._open.remove(connection)
            await self._notify()

    async def _receive(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        self.received.append(message)
        envelope_id = message.get("envelope_id")
        if isinstance(envelope_id, str):
            payload = message.get("payload")
            self.acks.append(
                Ack(envelope_id, payload if isinstance(payload, dict) else None, time.monotonic())
            )
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"not true after {timeout}s: {self.connections_opened} connections made, "
                    f"{len(self._open)} open, {len(self.acks)} acks"
                ) from None
