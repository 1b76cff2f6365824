"""Start-up and shutdown of the bot's services, shared by HTTP and Socket Mode.

Opened in order and closed in reverse: the state store, the Slack Web API client (checked with
``auth.test``, so a wrong token fails at start with the setting to fix, not at the first
mention), the investigator (bundle facts, postmortem index), the work queue and the bot's own
metrics (one registry per bot, watching that queue).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.investigator import Investigations, Investigator
from bot.slack.logs import log_event
from bot.slack.metrics import RcabotMetrics
from bot.slack.services import Services
from bot.slack.work import WorkQueue
from bot.slack.worker import InvestigationProcess
from bot.store.factory import open_store
from tools.errors import ConfigError

RATE_LIMIT_RETRIES = 2  # a 429 is retried after Retry-After, twice, then given up (logged)


def web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: one session (call inside the running loop; close its session)."""
    slack = settings.slack
    if slack.bot_token is None:
        raise ConfigError("slack.bot_token is not set (RCABOT_SLACK__BOT_TOKEN, an xoxb- token)")
    client = AsyncWebClient(
        token=slack.bot_token.get_secret_value(),
        base_url=slack.api_url.rstrip("/") + "/",
        # one connection pool for every call (the SDK would open a connection per call)
        session=aiohttp.ClientSession(),
    )
    client.retry_handlers.append(
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)
    )
    client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=1))
    return client


@asynccontextmanager
async def open_services(
    settings: Settings, *, bundle: Path | None = None
) -> AsyncIterator[Services]:
    client = web_client(settings)
    try:
        async with _opened(settings, client, bundle) as services:
            yield services
    finally:
        if client.session is not None:
            await client.session.close()


@asynccontextmanager
async def _opened(
    settings: Settings, client: AsyncWebClient, bundle: Path | None
) -> AsyncIterator[Services]:
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        raise ConfigError(f"Slack refused slack.bot_token: {error}") from exc
    except (OSError, aiohttp.ClientError) as exc:
        raise ConfigError(f"cannot reach Slack at {settings.slack.api_url}: {exc}") from exc
    slack = settings.slack
    store = await open_store(slack.state_url)
    try:
        investigator: Investigations
        if slack.worker == "process":
            investigator = await InvestigationProcess.open(settings, bundle)
        else:
            investigator = await Investigator.open(settings, bundle)
        work = WorkQueue(
            max_concurrent=slack.max_concurrent, size=slack.queue_size, deadline_s=slack.deadline_s
        )
        metrics = RcabotMetrics()
        metrics.watch_work(work, capacity=slack.queue_size, concurrency=slack.max_concurrent)
        services = Services(
            settings=settings,
            store=store,
            investigator=investigator,
            work=work,
            client=client,
            bot_user_id=str(auth.get("user_id") or "") or None,
            team_id=str(auth.get("team_id") or "") or None,
            metrics=metrics,
        )
        work.start()
        log_event("started", bot_user=services.bot_user_id, bundle=str(bundle) if bundle else None)
        try:
            yield services
        finally:
            await work.stop(drain_s=5.0)
            await services.drain()
            await investigator.aclose()
    finally:
        await store.aclose()
