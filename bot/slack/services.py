"""What every listener works with, built once at start-up and handed to Bolt's context.

``bot.app`` installs a middleware that puts the :class:`Services` into each request's context;
a listener reads it with :func:`services_of`. Nothing here is global: two apps in one process
(tests) never share state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.investigator import Investigations
from bot.slack.logs import log_event
from bot.slack.metrics import RcabotMetrics
from bot.slack.work import WorkQueue
from bot.store.base import Store

CONTEXT_KEY = "rcabot"
EVENT_CLAIM_S = 24 * 3600.0  # Slack retries an event for minutes; an id is never reused


@dataclass
class Services:
    settings: Settings
    store: Store
    investigator: Investigations
    work: WorkQueue
    client: AsyncWebClient
    bot_user_id: str | None = None
    team_id: str | None = None
    metrics: RcabotMetrics = field(default_factory=RcabotMetrics)  # this bot's own registry
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def first_delivery(self, body: Mapping[str, Any]) -> bool:
        """False for an event already received (Slack retries it when an ack is late or lost,
        with the same ``event_id``; another replica, or this one before a restart, may have
        taken it). Called by event listeners after Bolt's ack, so the ack never waits on it."""
        event_id = body.get("event_id")
        if not isinstance(event_id, str) or await self.store.claim(
            f"event:{event_id}", EVENT_CLAIM_S
        ):
            return True
        log_event("skipped", reason="event already received (a retry)", event_id=event_id[:40])
        return False

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> None:
        """Run a short side task (a feedback write) without blocking the ack; kept referenced
        until done so it is not garbage-collected mid-flight."""
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the side tasks (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def services_of(context: Mapping[str, Any]) -> Services:
    found = context.get(CONTEXT_KEY)
    if not isinstance(found, Services):
        raise RuntimeError("rcabot services are not in the Bolt context (see bot.app)")
    return found
