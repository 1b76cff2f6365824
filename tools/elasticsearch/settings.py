"""Settings of the Elasticsearch logs backend (``logs:`` in rcabot.yaml, ``RCABOT_LOGS__*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from tools.settings import MAX_TIMEOUT_S, Section, http_url


class LogFields(Section):
    """Field names in the log index; the defaults are Elastic Common Schema (ECS)."""

    timestamp: str = "@timestamp"
    service: str = "service.name"
    level: str = "log.level"
    message: str = "message"
    trace_id: str = "trace.id"


class LogsSettings(Section):
    kind: Literal["elasticsearch"] = "elasticsearch"
    url: str | None = Field(default=None, description="Elasticsearch URL")
    index: str = "logs-*"
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    verify_tls: bool = True
    fields: LogFields = Field(default_factory=LogFields)
    timeout_s: float = Field(default=10.0, gt=0, le=MAX_TIMEOUT_S)

    _check_url = field_validator("url")(http_url)
