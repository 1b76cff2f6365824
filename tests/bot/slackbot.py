"""The Slack bot under test: ``rcabot serve`` (uvicorn on loopback) against the Slack stand-in.

    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        await bot.event(app_mention("<@UBOT> why is api failing?"))
        reply = await bot.reply_in(thread_ts)

Requests are signed as Slack signs them (tests/servers/slack_requests.py); the bot's Web API
calls go to the stand-in (tests/servers/slack.py), which records what users would see. Not a
test module: the fixtures live here so every Slack test builds the bot the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.config import Settings
from bot.serve import Running, running
from tests.servers import free_port
from tests.servers.slack import FakeSlack
from tests.servers.slack_messages import VisibleMessage
from tests.servers.slack_requests import (
    CHANNEL_ID,
    FORM,
    JSON,
    form_body,
    interaction_body,
    json_body,
    sign,
)

SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"
WEBHOOK_TOKEN = "alertmanager-test-token"


def bot_settings(
    tmp_path: Path, api_url: str, *, llm: dict[str, Any] | None = None, **slack: Any
) -> Settings:
    """Settings for a bot that talks to the stand-in and keeps its state under ``tmp_path``
    (``llm``: the model section; none by default)."""
    section: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "signing_secret": SECRET,
        "api_url": api_url,
        "alert_channel": CHANNEL_ID,
        "alertmanager_token": WEBHOOK_TOKEN,
        "state_url": f"sqlite:///{tmp_path / 'state.db'}",
        "worker": "inline",  # on the test's loop: fast to start (tests/bot/test_worker.py: process)
    } | slack
    return Settings(
        slack=section, llm=llm or {}, retrieval={"chroma_path": tmp_path / "postmortems"}
    )


@dataclass
class BotUnderTest:
    slack: FakeSlack
    bot: Running
    http: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.bot.url

    async def post(
        self, body: bytes, content_type: str, *, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """POST ``body`` to /slack/events signed (unless ``headers`` replace the signature)."""
        sent = {
            "Content-Type": content_type,
            **(sign(body, SECRET) if headers is None else headers),
        }
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=sent)

    async def event(self, payload: Mapping[str, Any], **headers: str) -> httpx.Response:
        body = json_body(payload)
        return await self.post(body, JSON, headers={**sign(body, SECRET), **headers})

    async def command(self, fields: Mapping[str, str]) -> httpx.Response:
        return await self.post(form_body(fields), FORM)

    async def action(self, payload: Mapping[str, Any]) -> httpx.Response:
        return await self.post(interaction_body(payload), FORM)

    async def webhook(
        self, payload: Any, *, token: str | None = WEBHOOK_TOKEN, query: str = ""
    ) -> httpx.Response:
        headers = {"Content-Type": JSON}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return await self.http.post(
            f"{self.url}/alertmanager{query}", content=body, headers=headers
        )

    async def settle(self, quiet_s: float = 0.3) -> None:
        """Wait until every Bolt listener, queued investigation and side task has finished and
        nothing new was queued for ``quiet_s``. Listeners run after the ack, as tasks Bolt starts
        and does not keep: they are awaited by name, since on a slow machine sixty of them
        queued on one SQLite connection outlast any fixed quiet period."""
        services = self.bot.services
        while True:
            await _bolt_listeners()
            before = services.work.stats.submitted + services.work.stats.refused
            await services.work.join()
            await services.drain()
            await asyncio.sleep(quiet_s)
            after = services.work.stats.submitted + services.work.stats.refused
            if (
                after == before
                and services.work.running == 0
                and services.work.waiting == 0
                and not _bolt_listener_tasks()
            ):
                return

    def replies(self, thread_ts: str, channel: str = CHANNEL_ID) -> list[VisibleMessage]:
        """rcabot's messages in the thread (the parent excluded)."""
        return [m for m in self.slack.thread(channel, thread_ts) if m.bot and m.ts != thread_ts]

    def top_level(self, channel: str = CHANNEL_ID) -> list[VisibleMessage]:
        """rcabot's top-level messages in ``channel``, oldest first."""
        found = [
            m
            for (ch, _), stored in sorted(self.slack.workspace.messages.items())
            if ch == channel
            and (m := stored.visible()).bot
            and m.thread_ts in (None, m.ts)
            and not m.ephemeral
        ]
        return found


def _bolt_listener_tasks() -> list[asyncio.Task[Any]]:
    """The pending tasks Bolt started to run listeners after the ack (its asyncio runners
    ``ensure_future`` a coroutine defined in slack_bolt; the server's own tasks are not)."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if (
            not task.done()
            and code is not None
            and f"{os.sep}slack_bolt{os.sep}" in code.co_filename
        ):
            found.append(task)
    return found


async def _bolt_listeners() -> None:
    while pending := _bolt_listener_tasks():
        await asyncio.gather(*pending, return_exceptions=True)


@asynccontextmanager
async def bot_under_test(
    tmp_path: Path,
    *,
    bundle: Path | None,
    llm: dict[str, Any] | None = None,
    settings: Settings | None = None,
    **slack: Any,
) -> AsyncIterator[BotUnderTest]:
    """The bot (``settings``, else :func:`bot_settings` with ``llm`` and the ``slack``
    overrides) serving on a free port, the stand-in, and an HTTP client."""
    async with FakeSlack() as fake:
        chosen = settings or bot_settings(tmp_path, fake.api_url, llm=llm, **slack)
        async with (
            running(chosen, port=free_port(), bundle=bundle) as bot,
            httpx.AsyncClient(timeout=30) as http,
        ):
            yield BotUnderTest(fake, bot, http)
