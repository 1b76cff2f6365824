"""Settings sections shared by the tools, and the base every section builds on.

Each backend's own section lives beside it (``tools.elasticsearch.settings``,
``tools.prometheus.settings``, ``retrieval.settings``); ``bot.config`` only assembles them into
one ``Settings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import re2
from pydantic import BaseModel, Field, field_validator


def http_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


# Upper bounds of numeric settings: generous for any real deployment, small enough that a typo
# (1e10 minutes) is an error naming the setting rather than an overflow deep in a tool.
MAX_TIMEOUT_S = 600.0  # any one backend call or tool
MAX_WINDOW_MINUTES = 7 * 24 * 60  # a week


class Section(BaseModel):
    # allow_inf_nan=False: `.inf`/`.nan` in YAML are errors, never a timeout that never fires.
    model_config = {"extra": "forbid", "allow_inf_nan": False}


class TracesSettings(Section):
    kind: Literal["jaeger", "tempo"] = "jaeger"
    url: str | None = Field(default=None, description="Jaeger query or Tempo URL")
    timeout_s: float = Field(default=10.0, gt=0, le=MAX_TIMEOUT_S)

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
    default_window_minutes: int = Field(default=60, gt=0, le=MAX_WINDOW_MINUTES)
    tool_timeout_s: float = Field(default=30.0, gt=0, le=MAX_TIMEOUT_S)
    log_sample: int = Field(default=5_000, gt=0, le=10_000)
    trace_sample: int = Field(default=400, gt=0, le=5_000)
    max_candidates: int = Field(default=5, gt=0, le=50)
    max_evidence: int = Field(default=20, gt=0, le=200)
    reference_offset_hours: float | None = Field(
        default=24.0,
        gt=0,
        le=MAX_WINDOW_MINUTES / 60,
        description="live backends: compare against the same window this long before (normal "
        "behaviour; 24 = the same time yesterday); null: against the minutes before the incident",
    )
    service_map: Path | None = Field(
        default=None,
        description="live backends: a CSV file (header caller,callee) of which services may call "
        "which, for those whose calls neither traces nor service-graph metrics show "
        "(tools/bundle/FORMAT.md, service_map.csv); a bundle carries its own. Read per "
        "investigation; one that cannot be read is not used, and the report says why",
    )


_QUIET_RE2 = re2.Options()
_QUIET_RE2.log_errors = False


def re2_pattern(pattern: str) -> str:
    """``pattern`` if RE2 compiles it and it cannot match the empty string, else ValueError."""
    try:
        compiled = re2.compile(pattern, options=_QUIET_RE2)
    except re2.error as error:
        message = error.args[0] if error.args else error
        if isinstance(message, bytes):
            message = message.decode(errors="replace")
        raise ValueError(
            f"pattern {pattern!r} is not a valid RE2 regular expression: {message}"
        ) from None
    if compiled.search("") is not None:
        raise ValueError(f"pattern {pattern!r} matches the empty string")
    return pattern


class RedactionSettings(Section):
    """Text rcabot redacts besides its built-in secret and PII rules (``tools.text``)."""

    extra_patterns: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="RE2 regular expressions; a match (or its group 1) shows as [REDACTED custom]",
    )

    @field_validator("extra_patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        return [re2_pattern(pattern) for pattern in patterns]
