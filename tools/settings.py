"""Settings sections shared by the tools, and the base every section builds on.

Each backend's own section lives beside it (``tools.elasticsearch.settings``,
``tools.prometheus.settings``, ``retrieval.settings``); ``bot.config`` only assembles them into
one ``Settings``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator


def http_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


class Section(BaseModel):
    model_config = {"extra": "forbid"}


class TracesSettings(Section):
    kind: Literal["jaeger", "tempo"] = "jaeger"
    url: str | None = Field(default=None, description="Jaeger query or Tempo URL")
    timeout_s: float = Field(default=10.0, gt=0)

    _check_url = field_validator("url")(http_url)


class LinksSettings(Section):
    """UI base URLs for deep links in evidence. Unset → links point at the data source."""

    kibana_url: str | None = None
    kibana_data_view: str | None = None
    grafana_url: str | None = None
    grafana_prometheus_uid: str = "prometheus"
    grafana_tempo_uid: str = "tempo"
    jaeger_ui_url: str | None = None
    prometheus_url: str | None = None

    _check_url = field_validator("kibana_url", "grafana_url", "jaeger_ui_url", "prometheus_url")(
        http_url
    )


class InvestigationSettings(Section):
    default_window_minutes: int = Field(default=60, gt=0)
    tool_timeout_s: float = Field(default=30.0, gt=0)
    log_sample: int = Field(default=5_000, gt=0, le=10_000)
    trace_sample: int = Field(default=400, gt=0, le=5_000)
    max_candidates: int = Field(default=5, gt=0)
    max_evidence: int = Field(default=20, gt=0)
