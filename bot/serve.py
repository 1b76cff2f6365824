"""``rcabot serve``: the bot over HTTP (Bolt's ASGI adapter under uvicorn) or Socket Mode.

HTTP serves ``POST /slack/events`` (Events API, slash commands, interactivity: point all three
at it), ``POST /alertmanager``, ``GET /healthz`` (liveness), ``GET /readyz`` (backends and model
reachable) and ``GET /metrics`` (rcabot's own, Prometheus format). Socket Mode (``--socket``)
needs no public URL; the other routes are then served on ``--port`` as well. Log lines are JSON
objects (``bot.slack.logs.JsonLines``).

:func:`running` is the same server as a context manager (tests, benchmarks): it returns once the
port is listening and stops the server on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from bot.app import build_asgi, build_bolt_app
from bot.config import Settings
from bot.slack.lifecycle import open_services
from bot.slack.logs import JsonLines
from bot.slack.services import Services
from tools.errors import ConfigError


@dataclass(frozen=True)
class Running:
    services: Services
    url: str  # http://host:port
    server: uvicorn.Server
    task: asyncio.Task[None]


def _check(settings: Settings, socket: bool) -> None:
    slack = settings.slack
    if socket and slack.app_token is None:
        raise ConfigError("--socket needs slack.app_token (RCABOT_SLACK__APP_TOKEN: xapp-…)")
    if not socket and slack.signing_secret is None:
        raise ConfigError(
            "serving HTTP needs slack.signing_secret (RCABOT_SLACK__SIGNING_SECRET): every "
            "request from Slack is verified with it"
        )


@asynccontextmanager
async def running(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 3000,
    bundle: Path | None = None,
    socket: bool = False,
) -> AsyncIterator[Running]:
    _check(settings, socket)
    async with open_services(settings, bundle=bundle) as services:
        bolt = build_bolt_app(services)
        config = uvicorn.Config(
            build_asgi(services, bolt), host=host, port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(), name="uvicorn")
        while not server.started:
            if task.done():
                with contextlib.suppress(SystemExit, Exception):
                    task.result()
                raise ConfigError(f"cannot listen on {host}:{port} (in use, or not allowed)")
            await asyncio.sleep(0.01)
        handler = None
        try:
            if socket:
                from slack_bolt.adapter.socket_mode.websockets import AsyncSocketModeHandler

                assert settings.slack.app_token is not None
                handler = AsyncSocketModeHandler(bolt, settings.slack.app_token.get_secret_value())
                await handler.connect_async()  # type: ignore[no-untyped-call]
            yield Running(services, f"http://{host}:{port}", server, task)
        finally:
            if handler is not None:
                await handler.close_async()  # type: ignore[no-untyped-call]
            server.should_exit = True
            with contextlib.suppress(SystemExit, asyncio.CancelledError):
                await task


async def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    bundle: Path | None = None,
    socket: bool = False,
) -> None:
    """Run until SIGINT/SIGTERM (uvicorn's handlers), then drain and close."""
    _check(settings, socket)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    async with running(settings, host=host, port=port, bundle=bundle, socket=socket) as bot:
        logging.getLogger("rcabot.slack").info("rcabot listening on %s", bot.url)
        await bot.task
