"""rcabot's one configuration object, built once at start-up.

Sources, highest priority first: explicit arguments, environment variables ``RCABOT_*`` (nested
with ``__``, e.g. ``RCABOT_LOGS__URL``), a YAML file (``--config``, ``$RCABOT_CONFIG`` or
``./rcabot.yaml``), defaults. Nothing is read at import time. Tokens and passwords are
``SecretStr``. Invalid or missing settings raise :class:`ConfigError` naming the variable and
how to fix it. See ``deploy/rcabot.example.yaml`` for every key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.errors import ConfigError

ENV_PREFIX = "RCABOT_"
DEFAULT_CONFIG_FILE = Path("rcabot.yaml")


def _http_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


class _Section(BaseModel):
    model_config = {"extra": "forbid"}


class SlackSettings(_Section):
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = Field(default=None, description="xapp- token for Socket Mode")
    api_url: str = "https://slack.com/api/"
    watched_channels: list[str] = Field(default_factory=list)


class LlmSettings(_Section):
    url: str | None = Field(default=None, description="TGI (or vLLM/SGLang) base URL")
    api: Literal["tgi", "openai"] = "tgi"
    model: str = "tgi"
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    max_new_tokens: int = Field(default=700, gt=0)

    _check_url = field_validator("url")(_http_url)


class LogFields(_Section):
    """Field names in the log index; the defaults are Elastic Common Schema (ECS)."""

    timestamp: str = "@timestamp"
    service: str = "service.name"
    level: str = "log.level"
    message: str = "message"
    trace_id: str = "trace.id"


class LogsSettings(_Section):
    url: str | None = Field(default=None, description="Elasticsearch URL")
    index: str = "logs-*"
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    verify_tls: bool = True
    fields: LogFields = Field(default_factory=LogFields)
    timeout_s: float = Field(default=10.0, gt=0)

    _check_url = field_validator("url")(_http_url)


DEFAULT_PROMQL: dict[str, str] = {
    "latency_p99_seconds": (
        "histogram_quantile(0.99, sum by (service, le) "
        '(rate(http_server_request_duration_seconds_bucket{{service=~"{services}"}}[{rate}])))'
    ),
    "latency_p50_seconds": (
        "histogram_quantile(0.5, sum by (service, le) "
        '(rate(http_server_request_duration_seconds_bucket{{service=~"{services}"}}[{rate}])))'
    ),
    "requests_per_second": (
        "sum by (service) (rate(http_server_request_duration_seconds_count"
        '{{service=~"{services}"}}[{rate}]))'
    ),
    "error_ratio": (
        "sum by (service) (rate(http_server_request_duration_seconds_count"
        '{{service=~"{services}", http_response_status_code=~"5.."}}[{rate}])) / '
        "sum by (service) (rate(http_server_request_duration_seconds_count"
        '{{service=~"{services}"}}[{rate}]))'
    ),
    "cpu_usage_ratio": (
        "sum by (service) (rate(container_cpu_usage_seconds_total"
        '{{service=~"{services}"}}[{rate}]))'
        ' / sum by (service) (kube_pod_container_resource_limits{{resource="cpu", '
        'service=~"{services}"}})'
    ),
    "memory_usage_bytes": (
        'sum by (service) (container_memory_working_set_bytes{{service=~"{services}"}})'
    ),
}


class MetricsSettings(_Section):
    url: str | None = Field(default=None, description="Prometheus URL")
    queries: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROMQL),
        description="PromQL template per golden signal; {services} and {rate} are filled in",
    )
    step_s: int = Field(default=15, gt=0)
    timeout_s: float = Field(default=10.0, gt=0)

    _check_url = field_validator("url")(_http_url)


class TracesSettings(_Section):
    kind: Literal["jaeger", "tempo"] = "jaeger"
    url: str | None = Field(default=None, description="Jaeger query or Tempo URL")
    timeout_s: float = Field(default=10.0, gt=0)

    _check_url = field_validator("url")(_http_url)


class RetrievalSettings(_Section):
    chroma_path: Path = Field(default_factory=lambda: Path(".cache/rcabot/chroma"))
    chroma_url: str | None = Field(default=None, description="Chroma server; embedded if unset")
    model: str = "all-MiniLM-L6-v2"
    url_base: str | None = Field(default=None, description="link base for postmortems (wiki)")

    _check_url = field_validator("chroma_url", "url_base")(_http_url)


class LinksSettings(_Section):
    """UI base URLs for deep links in evidence. Unset → links point at the data source."""

    kibana_url: str | None = None
    kibana_data_view: str | None = None
    grafana_url: str | None = None
    grafana_prometheus_uid: str = "prometheus"
    grafana_tempo_uid: str = "tempo"
    jaeger_ui_url: str | None = None
    prometheus_url: str | None = None

    _check_url = field_validator("kibana_url", "grafana_url", "jaeger_ui_url", "prometheus_url")(
        _http_url
    )


class LoadSettings(_Section):
    """Targets of ``rcabot load BUNDLE --to-backends``, the one command that writes.

    Logs go to Elasticsearch (``logs.url`` unless ``elasticsearch_url`` is set) with the
    ``logs`` credentials, metrics are backfilled into a Prometheus data directory with
    ``promtool``, spans are sent over OTLP/HTTP to a Jaeger collector or Tempo distributor.
    """

    elasticsearch_url: str | None = Field(default=None, description="default: logs.url")
    index: str = Field(default="logs-rcabot", description="index written; match logs.index")
    prometheus_data_dir: Path | None = Field(
        default=None, description="Prometheus --storage.tsdb.path to backfill into"
    )
    promtool: str = "promtool"
    otlp_url: str | None = Field(
        default=None, description="OTLP/HTTP receiver, e.g. http://jaeger-collector:4318"
    )

    _check_url = field_validator("elasticsearch_url", "otlp_url")(_http_url)


class InvestigationSettings(_Section):
    default_window_minutes: int = Field(default=60, gt=0)
    tool_timeout_s: float = Field(default=30.0, gt=0)
    log_sample: int = Field(default=5_000, gt=0, le=10_000)
    trace_sample: int = Field(default=400, gt=0, le=5_000)
    max_candidates: int = Field(default=5, gt=0)
    max_evidence: int = Field(default=20, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    slack: SlackSettings = Field(default_factory=SlackSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    logs: LogsSettings = Field(default_factory=LogsSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    traces: TracesSettings = Field(default_factory=TracesSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    links: LinksSettings = Field(default_factory=LinksSettings)
    investigation: InvestigationSettings = Field(default_factory=InvestigationSettings)
    load: LoadSettings = Field(default_factory=LoadSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = _CONFIG_FILE_IN_USE.get("path")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


_CONFIG_FILE_IN_USE: dict[str, Path | None] = {}


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; raise :class:`ConfigError` with an actionable message if invalid."""
    path = config_file
    if path is None and (env_path := os.environ.get(f"{ENV_PREFIX}CONFIG")):
        path = Path(env_path)
    if path is not None and not path.is_file():
        raise ConfigError(f"config file {path} does not exist (from --config or RCABOT_CONFIG)")
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    _CONFIG_FILE_IN_USE["path"] = path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path)) from exc
    except (ValueError, OSError, yaml.YAMLError) as exc:  # unreadable file, YAML syntax
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    finally:
        _CONFIG_FILE_IN_USE.pop("path", None)


def _explain(exc: ValidationError, path: Path | None) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        env = ENV_PREFIX + "__".join(part.upper() for part in loc)
        key = ".".join(loc)
        where = f"{env} (or {key} in {path or 'rcabot.yaml'})"
        given = error.get("input")
        shown = ""
        if given is not None and not isinstance(given, dict) and str(given) not in error["msg"]:
            shown = f" (got {str(given)[:80]!r})"
        lines.append(f"  - {where}: {error['msg']}{shown}")
    return "\n".join(lines)
