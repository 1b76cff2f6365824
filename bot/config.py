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
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from retrieval.settings import RetrievalSettings
from tools.elasticsearch.settings import LogsSettings
from tools.errors import ConfigError
from tools.prometheus.settings import MetricsSettings
from tools.settings import InvestigationSettings, LinksSettings, Section, TracesSettings, http_url

ENV_PREFIX = "RCABOT_"
DEFAULT_CONFIG_FILE = Path("rcabot.yaml")


class SlackSettings(Section):
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = Field(default=None, description="xapp- token for Socket Mode")
    api_url: str = "https://slack.com/api/"
    watched_channels: list[str] = Field(default_factory=list)


class LlmSettings(Section):
    url: str | None = Field(default=None, description="TGI (or vLLM/SGLang) base URL")
    api: Literal["tgi", "openai"] = "tgi"
    model: str = "tgi"
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    max_new_tokens: int = Field(default=700, gt=0)

    _check_url = field_validator("url")(http_url)


class LoadSettings(Section):
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

    _check_url = field_validator("elasticsearch_url", "otlp_url")(http_url)


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
