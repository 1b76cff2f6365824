"""Wiring only: the Bolt app, its middleware and listeners, and the HTTP routes around it.

::

    services = await open_services(settings, bundle=...)   # bot.slack.lifecycle
    bolt = build_bolt_app(services)
    asgi = build_asgi(services, bolt)     # /slack/events, /alertmanager, /healthz, ...

Nothing waits on I/O before Bolt acks an event: Slack's retries are recognised by the event
listeners themselves, after the ack (:meth:`~bot.slack.services.Services.first_delivery`).
Signature verification is Bolt's and always on for HTTP (``slack.signing_secret`` is required
to serve HTTP); Socket Mode needs ``slack.app_token`` instead.

``/healthz`` is liveness (asks nothing of anyone); ``/readyz`` probes the configured backends
and the model (:mod:`bot.readiness`); ``/metrics`` is rcabot's own (:mod:`bot.slack.metrics`),
with Slack's ack latency timed around ``/slack/events``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.listeners import actions, alerts, commands, mentions, messages
from bot.listeners.alerts import alertmanager_endpoint, bounded_body
from bot.readiness import readiness_endpoint
from bot.slack.logs import log_event
from bot.slack.metrics import AckTimer, metrics_endpoint
from bot.slack.services import CONTEXT_KEY, Services

MAX_SLACK_BODY = 1024 * 1024  # Slack's events and interactions are a few KiB


def build_bolt_app(services: Services) -> AsyncApp:
    slack = services.settings.slack
    secret = slack.signing_secret.get_secret_value() if slack.signing_secret else ""
    app = AsyncApp(
        client=services.client,
        signing_secret=secret,  # explicit: Bolt would read SLACK_SIGNING_SECRET otherwise
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    async def attach_services(context: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        context[CONTEXT_KEY] = services
        await next()

    app.use(attach_services)
    for listeners in (alerts, mentions, messages, commands, actions):  # alerts before messages
        listeners.register(app)
    app.error(_log_error)
    return app


async def _log_error(error: Exception, body: dict[str, Any]) -> None:
    log_event(
        "listener_failed", error=type(error).__name__, type=str(body.get("type")), exc_info=error
    )


def build_asgi(services: Services, bolt: AsyncApp) -> Starlette:
    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        # Bolt parses the body before it checks the signature, and a body it cannot parse
        # would be a 500: refuse it here (too big, not JSON/form, not an object) with a 4xx.
        body = await bounded_body(request, MAX_SLACK_BODY)
        if body is None:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        try:
            parsed = parse_body(body.decode("utf-8"), request.headers.get("content-type"))
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("event", {}), dict):
            log_event("skipped", reason="unreadable Slack request body", bytes=len(body))
            return JSONResponse({"error": "unreadable body"}, status_code=400)
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        work = services.work
        return JSONResponse(
            {
                "ok": True,
                "running": work.running,
                "waiting": work.waiting,
                "done": work.stats.done,
                "refused": work.stats.refused,
            }
        )

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/alertmanager", alertmanager_endpoint(services), methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness_endpoint(services.settings), methods=["GET"]),
            Route("/metrics", metrics_endpoint(services.metrics), methods=["GET"]),
        ],
        middleware=[Middleware(AckTimer, metrics=services.metrics)],
    )
