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
from typing import Any

import yaml
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.llm.settings import LlmSettings
from bot.loader.settings import LoadSettings
from bot.slack.settings import SlackSettings
from retrieval.settings import RetrievalSettings
from tools.elasticsearch.settings import LogsSettings
from tools.errors import ConfigError
from tools.prometheus.settings import MetricsSettings
from tools.settings import (
    InvestigationSettings,
    LinksSettings,
    RedactionSettings,
    TracesSettings,
)

ENV_PREFIX = "RCABOT_"
DEFAULT_CONFIG_FILE = Path("rcabot.yaml")


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
    redaction: RedactionSettings = Field(default_factory=RedactionSettings)
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
        from_file = _CONFIG_FILE_IN_USE.get("data")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if from_file:  # the YAML file's mapping, read once by load_settings
            sources.append(InitSettingsSource(settings_cls, init_kwargs=from_file))
        return tuple(sources)


_CONFIG_FILE_IN_USE: dict[str, dict[str, Any]] = {}


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; raise :class:`ConfigError` with an actionable message if invalid."""
    path = config_file
    if path is None and (env_path := os.environ.get(f"{ENV_PREFIX}CONFIG")):
        path = Path(env_path)
    if path is not None and not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise ConfigError(f"config file {path} {what} (from --config or RCABOT_CONFIG)")
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    if path is not None:
        _CONFIG_FILE_IN_USE["data"] = _read_yaml(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path)) from exc
    except ValueError as exc:  # a value pydantic-settings cannot decode (an env var's JSON)
        reason = " ".join(str(exc).split())[:300]
        raise ConfigError(f"cannot read config file {path}: {reason}") from exc
    except RecursionError as exc:
        raise ConfigError(f"cannot read config file {path}: nested too deeply") from exc
    finally:
        _CONFIG_FILE_IN_USE.pop("data", None)


def _read_yaml(path: Path) -> dict[str, Any]:
    """The config file's mapping: it must be UTF-8 YAML holding a mapping (or nothing)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise ConfigError(f"cannot read config file {path}: {reason}") from exc
    except RecursionError as exc:
        raise ConfigError(f"cannot read config file {path}: nested too deeply") from exc
    if data is not None and not isinstance(data, dict):
        raise ConfigError(
            f"config file {path}: expected a mapping of sections (logs:, metrics:, ...), "
            f"got a YAML {type(data).__name__}"
        )
    return data or {}


def _explain(exc: ValidationError, path: Path | None) -> str:
    """One line per problem (a single problem: the whole message on one line)."""
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
    if len(lines) == 2:
        return f"{lines[0]} {lines[1][4:]}"
    return "\n".join(lines)
