"""deploy/slack-app-manifest*.yaml against what rcabot actually listens for and calls.

The listeners are registered on a recorder instead of a Bolt app (every ``register`` in
bot/listeners/), so the checks follow the code: a new slash command, event or action that the
manifests do not declare fails here, and so does a scope that nothing uses (the fewest scopes).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import bot.listeners
from tests.deploy.deploy_files import DEPLOY, REPO, Document, load_yaml

HTTP = "slack-app-manifest.yaml"
SOCKET = "slack-app-manifest.socket.yaml"
# Slack's scope for each bot event and Web API method rcabot uses (api.slack.com/events,
# api.slack.com/methods); None: no scope needed. A new one must be added here, with its scope.
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
}
METHOD_SCOPES: dict[str, str | None] = {
    "auth_test": None,
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_stream": "chat:write",
    "chat_getPermalink": None,
    "assistant_threads_setStatus": "assistant:write",
}

Listener = Callable[..., Any]


class Registrations:
    """Stands in for the Bolt app in ``register(app)``: records what is registered."""

    def __init__(self) -> None:
        self.commands: set[str] = set()
        self.events: set[str] = set()  # event types by name (patterns only catch the rest)
        self.actions: set[str] = set()

    def _record(self, into: set[str], name: object) -> Callable[[Listener], Listener]:
        if isinstance(name, str):
            into.add(name)
        elif not isinstance(name, re.Pattern):  # a pattern is a catch-all: nothing to declare
            into.add(str(name))
        return lambda listener: listener

    def command(self, name: object, **_: object) -> Callable[[Listener], Listener]:
        return self._record(self.commands, name)

    def event(self, name: object, **_: object) -> Callable[[Listener], Listener]:
        return self._record(self.events, name)

    def action(self, name: object, **_: object) -> Callable[[Listener], Listener]:
        return self._record(self.actions, name)


def _registrations() -> Registrations:
    recorder = Registrations()
    modules = [
        importlib.import_module(f"{bot.listeners.__name__}.{info.name}")
        for info in pkgutil.iter_modules(bot.listeners.__path__)
    ]
    registering = [module for module in modules if hasattr(module, "register")]
    assert len(registering) >= 4
    for module in registering:
        module.register(cast(AsyncApp, recorder))
    return recorder


def _manifest(name: str) -> Document:
    document = load_yaml(DEPLOY / name)
    assert isinstance(document, dict)
    return document


def _slack_methods_used() -> set[str]:
    methods = {name for name in dir(AsyncWebClient) if not name.startswith("_")}
    called = {
        name
        for path in (REPO / "bot").rglob("*.py")
        for name in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)\(", path.read_text(encoding="utf-8"))
    }
    return methods & called


@pytest.mark.parametrize("name", [HTTP, SOCKET])
def test_manifest_declares_what_the_listeners_register(name: str) -> None:
    manifest = _manifest(name)
    registered = _registrations()
    commands = {command["command"] for command in manifest["features"]["slash_commands"]}
    assert commands == registered.commands
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {event.split(".")[0] for event in subscribed} == registered.events
    assert manifest["settings"]["interactivity"]["is_enabled"] is bool(registered.actions)


@pytest.mark.parametrize("name", [HTTP, SOCKET])
def test_manifest_asks_for_the_scopes_rcabot_uses_and_no_more(name: str) -> None:
    manifest = _manifest(name)
    used = _slack_methods_used()
    unknown = used - METHOD_SCOPES.keys()
    assert not unknown, f"add the scopes of {sorted(unknown)} to METHOD_SCOPES"
    needed = {EVENT_SCOPES[e] for e in manifest["settings"]["event_subscriptions"]["bot_events"]}
    needed |= {scope for method in used if (scope := METHOD_SCOPES[method])}
    if manifest["features"]["slash_commands"]:
        needed.add("commands")
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def test_http_manifest_sends_everything_to_the_slack_route() -> None:
    manifest = _manifest(HTTP)
    settings = manifest["settings"]
    urls = [command["url"] for command in manifest["features"]["slash_commands"]]
    urls += [settings["event_subscriptions"]["request_url"]]
    urls += [settings["interactivity"]["request_url"]]
    assert {urlsplit(url).path for url in urls} == {"/slack/events"}
    assert all(urlsplit(url).scheme == "https" for url in urls)  # Slack calls HTTPS only
    assert 'Route("/slack/events"' in (REPO / "bot" / "app.py").read_text(encoding="utf-8")
    assert settings["socket_mode_enabled"] is False


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in _keys(value)}
    if isinstance(node, list):
        return {key for item in node for key in _keys(item)}
    return set()


def _without_urls(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _without_urls(value)
            for key, value in node.items()
            if key not in ("url", "request_url", "socket_mode_enabled")
        }
    if isinstance(node, list):
        return [_without_urls(item) for item in node]
    return node


def test_socket_manifest_is_the_http_one_without_urls() -> None:
    socket = _manifest(SOCKET)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert not _keys(socket) & {"url", "request_url"}  # Socket Mode: Slack calls no URL
    assert _without_urls(socket) == _without_urls(_manifest(HTTP))
