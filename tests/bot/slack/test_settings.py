"""The ``slack`` settings: channel ids, the Alertmanager receiver's auth, the state URL."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from tools.errors import ConfigError


def test_defaults_serve_a_single_replica_safely() -> None:
    slack = load_settings().slack
    assert slack.state_url.startswith("sqlite:///")
    assert slack.worker == "process"
    assert slack.allows("C0123ABCD")  # no allow-list: any channel rcabot is in
    assert not slack.allows(None) and not slack.allows("")


def test_the_allow_list_limits_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCABOT_SLACK__ALLOWED_CHANNELS", '["C0123ABCD"]')
    slack = load_settings().slack
    assert slack.allows("C0123ABCD") and not slack.allows("C0OTHER01")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("RCABOT_SLACK__WATCHED_CHANNELS", '["#incidents"]', "not a Slack channel id"),
        ("RCABOT_SLACK__ALERT_CHANNEL", "incidents", "not a Slack channel id"),
        ("RCABOT_SLACK__STATE_URL", "postgres://db/rcabot", "sqlite:///PATH or redis://"),
        ("RCABOT_SLACK__ALERTMANAGER_USERNAME", "am", "go together"),
        ("RCABOT_SLACK__MAX_CONCURRENT", "0", "RCABOT_SLACK__MAX_CONCURRENT"),
        ("RCABOT_SLACK__WORKER", "threads", "RCABOT_SLACK__WORKER"),
    ],
)
def test_bad_slack_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=says):
        load_settings()


def test_secrets_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCABOT_SLACK__BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("RCABOT_SLACK__ALERTMANAGER_PASSWORD", "hunter2")
    monkeypatch.setenv("RCABOT_SLACK__ALERTMANAGER_USERNAME", "am")
    shown = repr(load_settings().slack)
    assert "xoxb-very-secret" not in shown and "hunter2" not in shown
