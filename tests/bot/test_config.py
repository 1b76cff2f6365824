from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from tools.errors import ConfigError


def test_defaults_are_ecs_field_names() -> None:
    settings = load_settings()
    assert settings.logs.fields.service == "service.name"
    assert settings.logs.fields.timestamp == "@timestamp"
    assert settings.logs.url is None


def test_env_overrides_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("logs:\n  url: http://from-yaml:9200\n  index: app-*\n")
    monkeypatch.setenv("RCABOT_LOGS__URL", "http://from-env:9200")
    settings = load_settings(config)
    assert settings.logs.url == "http://from-env:9200"
    assert settings.logs.index == "app-*"


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCABOT_SLACK__BOT_TOKEN", "xoxb-very-secret")
    settings = load_settings()
    assert "very-secret" not in repr(settings)
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-very-secret"


def test_invalid_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCABOT_METRICS__URL", "prometheus:9090")
    with pytest.raises(ConfigError, match=r"RCABOT_METRICS__URL .*http:// or https://"):
        load_settings()


def test_unknown_key_in_yaml_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("logs:\n  urll: http://x\n")
    with pytest.raises(ConfigError, match=r"logs\.urll"):
        load_settings(config)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_broken_yaml_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("logs: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(config)


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "deploy" / "rcabot.example.yaml"
    settings = load_settings(example)
    assert settings.investigation.max_evidence == 20


def test_example_config_documents_every_slack_setting() -> None:
    from bot.slack.settings import SlackSettings

    example = Path(__file__).resolve().parents[2] / "deploy" / "rcabot.example.yaml"
    text = example.read_text(encoding="utf-8")
    missing = [name for name in SlackSettings.model_fields if f"{name}:" not in text]
    assert missing == []
