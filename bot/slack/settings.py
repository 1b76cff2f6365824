"""The ``slack`` settings section: tokens, channels, the Alertmanager receiver, and limits.

Secrets are ``SecretStr``. Channel lists hold channel ids (``C…``/``G…``). An empty
``allowed_channels`` allows every channel the bot is in; a channel not allowed is ignored
(logged), and ``/rca`` there answers with an ephemeral note.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from tools.settings import MAX_TIMEOUT_S, Section, http_url

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,20}$")


def _channel_ids(values: list[str]) -> list[str]:
    for value in values:
        if not CHANNEL_ID.fullmatch(value):
            raise ValueError(f"{value!r} is not a Slack channel id (like C0123ABCD)")
    return values


class SlackSettings(Section):
    bot_token: SecretStr | None = Field(default=None, description="xoxb- bot token")
    signing_secret: SecretStr | None = Field(
        default=None, description="verifies every HTTP request from Slack (always checked)"
    )
    app_token: SecretStr | None = Field(default=None, description="xapp- token for Socket Mode")
    api_url: str = Field(default="https://slack.com/api/", description="Slack Web API base URL")
    watched_channels: list[str] = Field(
        default_factory=list, description="channels whose alert-bot messages get a summary"
    )
    allowed_channels: list[str] = Field(
        default_factory=list, description="channels rcabot answers in (empty: any it is in)"
    )
    alert_channel: str | None = Field(
        default=None, description="default channel for Alertmanager webhooks without ?channel="
    )
    # Alertmanager's webhook http_config: a bearer token (authorization.credentials) or basic
    # auth. Without either the /alertmanager endpoint refuses every request.
    alertmanager_token: SecretStr | None = None
    alertmanager_username: str | None = None
    alertmanager_password: SecretStr | None = None
    # Work limits
    max_concurrent: int = Field(default=4, ge=1, le=64, description="investigations at once")
    queue_size: int = Field(default=32, ge=1, le=10_000, description="waiting investigations")
    deadline_s: float = Field(
        default=180.0, gt=0, le=MAX_TIMEOUT_S, description="one investigation, start to answer"
    )
    alert_dedup_s: float = Field(
        default=3600.0, ge=0, le=7 * 24 * 3600, description="same fingerprint: one summary"
    )
    channel_rate_per_min: int = Field(
        default=10, ge=1, le=1000, description="investigations started per channel per minute"
    )
    worker: Literal["process", "inline"] = Field(
        default="process",
        description="run investigations in a child process (the loop that acks Slack stays "
        "free) or on the bot's own loop (debugging)",
    )
    # Bot state: sqlite:///path (default .rcabot/state.db) or redis://host:port/db
    state_url: str = Field(default="sqlite:///.rcabot/state.db")

    _check_api_url = field_validator("api_url")(http_url)
    _check_watched = field_validator("watched_channels", "allowed_channels")(_channel_ids)

    @field_validator("alert_channel")
    @classmethod
    def _check_alert_channel(cls, value: str | None) -> str | None:
        if value is not None:
            _channel_ids([value])
        return value

    @field_validator("state_url")
    @classmethod
    def _check_state_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "redis://", "rediss://")):
            raise ValueError("must be sqlite:///PATH or redis://HOST:PORT/DB")
        return value

    @model_validator(mode="after")
    def _basic_auth_pairs(self) -> SlackSettings:
        if (self.alertmanager_username is None) != (self.alertmanager_password is None):
            raise ValueError("alertmanager_username and alertmanager_password go together")
        return self

    def allows(self, channel: str | None) -> bool:
        return bool(channel) and (not self.allowed_channels or channel in self.allowed_channels)
