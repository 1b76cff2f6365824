from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.alert_messages import (
    MAX_LABELS,
    MAX_VALUE,
    is_alert_bot,
    parse_alert_message,
)
from bot.slack.alertmanager import alert_fingerprint
from bot.slack.message_text import MAX_TEXT
from tests.strategies import json_values
from tools.records import Alert

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# Events as Slack's Events API delivers them: text escaped (&amp; &lt; &gt;), links wrapped.

AM_TEXT = (
    "*Alert:* checkout 5xx ratio above 5% - `critical`\n"
    "*Description:* checkout-7d9f:8080 returns 12% errors &amp; rising\n"
    "*Details:*\n"
    "  • *alertname:* `HighErrorRate`\n"
    "  • *instance:* `checkout-7d9f:8080`\n"
    "  • *service:* `checkout`\n"
    "  • *severity:* `critical`\n"
    "\n"
    "*Alert:* checkout 5xx ratio above 5% - `warning`\n"
    "*Description:* checkout-5c2a:8080 returns 6% errors\n"
    "*Details:*\n"
    "  • *alertname:* `HighErrorRate`\n"
    "  • *instance:* `checkout-5c2a:8080`\n"
    "  • *service:* `cart`\n"
)


def alertmanager_event(
    title: str = "[FIRING:2] HighErrorRate (checkout critical)",
) -> dict[str, Any]:
    link = "http://alertmanager:9093/#/alerts?receiver=slack-ops"
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0123ALERT",
        "username": "alertmanager",
        "text": "",
        "ts": "1714564800.000100",
        "attachments": [
            {
                "id": 1,
                "color": "danger",
                "title": title,
                "title_link": link,
                "text": AM_TEXT,
                "fallback": f"{title} | &lt;{link}&gt;",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
    }


GRAFANA_TEXT = (
    "**Firing**\n\n"
    "Value: A=1.2, C=1\n"
    "Labels:\n"
    " - alertname = HighLatency\n"
    " - grafana_folder = prod\n"
    " - service = frontend\n"
    "Annotations:\n"
    " - description = p99 latency of frontend is 1.2s\n"
    " - summary = frontend is slow\n"
    "Source: <http://grafana:3000/alerting/grafana/fdk2a1/view?orgId=1>\n"
    "Silence: <http://grafana:3000/alerting/silence/new?alertmanager=grafana>\n"
    "Dashboard: <http://grafana:3000/d/frontend?orgId=1>\n"
    "\n"
    "Value: A=1.5\n"
    "Labels:\n"
    " - alertname = HighLatency\n"
    " - service = search\n"
)


def grafana_event() -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0456GRAF",
        "attachments": [
            {
                "color": "#D63232",
                "title": "[FIRING:2] HighLatency prod",
                "title_link": "http://grafana:3000/alerting/list",
                "text": GRAFANA_TEXT,
                "fallback": "[FIRING:2] HighLatency prod",
                "footer": "Grafana v10.4.1",
                "ts": 1714564800,
            }
        ],
    }


def grafana_blocks_event() -> dict[str, Any]:
    body = GRAFANA_TEXT.replace("**Firing**", "**Resolved**")
    return {
        "type": "message",
        "bot_id": "B0456GRAF",
        "app_id": "A0456GRAF",
        "text": "[RESOLVED] HighLatency prod",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "[RESOLVED] HighLatency"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
        ],
    }


def pagerduty_event(status: str = "Triggered") -> dict[str, Any]:
    incident = "https://acme.pagerduty.com/incidents/Q2JX1T5PZ4"
    return {
        "type": "message",
        "bot_id": "B0789PGDY",
        "app_id": "A1FKYAUUX",
        "text": f"{status} <{incident}|#1234> (<{incident}|Details>) : Checkout API : "
        "checkout 5xx ratio above 5%",
        "attachments": [
            {
                "color": "#e01e5a",
                "fields": [
                    {"title": "Status", "value": status, "short": True},
                    {"title": "Urgency", "value": "High", "short": True},
                    {"title": "Assigned", "value": "<@U0123ANN>", "short": True},
                ],
            }
        ],
    }


def parse(event: Any) -> Alert:
    alert = parse_alert_message(event, NOW)
    assert alert is not None
    return alert


# -- the real formats ---------------------------------------------------------------------------


def test_alertmanager_notifier_reads_the_first_alert() -> None:
    alert = parse(alertmanager_event())
    assert (alert.name, alert.status, alert.service) == ("HighErrorRate", "firing", "checkout")
    assert alert.labels["instance"] == "checkout-7d9f:8080"
    assert alert.labels["severity"] == "critical"
    assert alert.summary == "checkout 5xx ratio above 5%"
    assert alert.annotations["description"] == "checkout-7d9f:8080 returns 12% errors & rising"
    assert alert.generator_url == "http://alertmanager:9093/#/alerts?receiver=slack-ops"
    assert alert.starts_at == NOW
    assert alert.fingerprint == alert_fingerprint(alert.name, alert.labels)


def test_alertmanager_resolved_title_and_default_template() -> None:
    event = alertmanager_event("[RESOLVED] HighErrorRate (checkout critical)")
    attachment = event["attachments"][0]
    del attachment["text"]  # the notifier's default: no text, title and fallback only
    attachment["color"] = "good"
    alert = parse(event)
    assert (alert.name, alert.status) == ("HighErrorRate", "resolved")
    assert alert.service is None  # bare values in the title's parentheses are not guessed at
    assert dict(alert.labels) == {"alertname": "HighErrorRate"}


def test_the_severity_after_the_alert_line_is_kept_when_details_lack_it() -> None:
    event = alertmanager_event()
    event["attachments"][0]["text"] = "*Alert:* disk full - `warning`\n • *alertname:* `DiskFull`"
    alert = parse(event)
    assert (alert.name, alert.labels["severity"]) == ("DiskFull", "warning")
    assert alert.summary == "disk full"


def test_grafana_attachment() -> None:
    alert = parse(grafana_event())
    assert (alert.name, alert.status, alert.service) == ("HighLatency", "firing", "frontend")
    assert alert.labels["grafana_folder"] == "prod"
    assert alert.summary == "frontend is slow"
    assert alert.annotations["value"] == "A=1.2, C=1"
    assert alert.generator_url == "http://grafana:3000/alerting/grafana/fdk2a1/view?orgId=1"


def test_grafana_blocks() -> None:
    alert = parse(grafana_blocks_event())
    assert (alert.name, alert.status, alert.service) == ("HighLatency", "resolved", "frontend")
    assert "search" not in alert.labels.values()  # the second alert is not mixed in


def test_pagerduty_triggered_and_resolved_are_one_incident() -> None:
    triggered = parse(pagerduty_event())
    assert triggered.status == "firing"
    assert triggered.name == "checkout 5xx ratio above 5%"
    assert triggered.service == "Checkout API"
    assert triggered.labels["incident"] == "1234"
    assert triggered.labels["urgency"] == "High"
    assert "status" not in triggered.labels
    assert triggered.generator_url == "https://acme.pagerduty.com/incidents/Q2JX1T5PZ4"
    resolved = parse({"bot_id": "B0789PGDY", "text": "Resolved #1234"})
    assert resolved.status == "resolved"
    assert resolved.name == "PagerDuty incident #1234"
    assert resolved.fingerprint == triggered.fingerprint


def test_pagerduty_status_in_fields_with_the_number_in_the_title() -> None:
    event = {
        "bot_id": "B0789PGDY",
        "attachments": [
            {
                "title": "#987: [FIRING:1] HighErrorRate (checkout critical)",
                "title_link": "https://acme.pagerduty.com/incidents/Q1",
                "fields": [
                    {"title": "Status", "value": "Acknowledged"},
                    {"title": "Service", "value": "checkout"},
                ],
            }
        ],
    }
    alert = parse(event)
    assert (alert.name, alert.status, alert.service) == ("HighErrorRate", "firing", "checkout")
    assert alert.labels["incident"] == "987"


def test_pagerduty_in_block_kit_sections() -> None:
    event = {
        "bot_id": "B0789PGDY",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "*#4321* Disk full on db-1"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Status:*\nResolved"},
                    {"type": "mrkdwn", "text": "*Service:*\npostgres"},
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "via PagerDuty"}]},
        ],
    }
    alert = parse(event)
    assert (alert.name, alert.status, alert.service) == (
        "Disk full on db-1",
        "resolved",
        "postgres",
    )


def test_without_a_title_the_color_says_resolved() -> None:
    details = " • *alertname:* `DiskFull`\n • *service:* `postgres`"
    for color, status in [("good", "resolved"), ("#36a64f", "resolved"), ("danger", "firing")]:
        event = {"bot_id": "B1", "attachments": [{"color": color, "text": details}]}
        assert parse(event).status == status


def test_an_edited_message_is_read_as_its_new_text() -> None:
    event = {"type": "message", "subtype": "message_changed", "message": pagerduty_event()}
    assert is_alert_bot(event)
    assert parse(event).labels["incident"] == "1234"


def test_a_given_fingerprint_and_start_are_used() -> None:
    event = alertmanager_event()
    event["attachments"][0]["text"] = (
        AM_TEXT + "*Started:* 2024-05-01 11:40:07.123456789 +0000 UTC\n*Fingerprint:* `3A7B4F0C`"
    )
    alert = parse(event)
    assert alert.fingerprint == "3a7b4f0c"
    assert alert.starts_at == datetime(2024, 5, 1, 11, 40, 7, 123456, tzinfo=UTC)


def test_a_start_after_the_message_is_the_message_time() -> None:
    event = alertmanager_event()
    event["attachments"][0]["text"] = AM_TEXT + "Starts at: 2024-05-01T13:00:00Z"
    assert parse(event).starts_at == NOW
    naive = parse_alert_message(event, NOW.replace(tzinfo=None))
    assert naive is not None and naive.starts_at == NOW


@pytest.mark.parametrize(
    "event",
    [
        {"bot_id": "B1", "text": "Deploy of checkout v1.2.3 finished"},
        {"bot_id": "B1", "text": "Resolved the flaky test in PR 12"},
        {"user": "U1", "text": "anyone seeing errors on checkout?"},
        {"bot_id": "B1", "attachments": [{"title": "Weekly report", "text": "all good"}]},
        {"bot_id": "B1", "attachments": [{"title": "[FIRING:1] (checkout)"}]},
        {},
        {"text": None, "attachments": "x", "blocks": 3},
    ],
)
def test_messages_that_are_not_alerts_give_none(event: dict[str, Any]) -> None:
    assert parse_alert_message(event, NOW) is None


def test_not_a_mapping_gives_none() -> None:
    assert parse_alert_message([], NOW) is None  # type: ignore[arg-type]
    assert not is_alert_bot("bot")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"bot_id": "B1", "text": "x"}, True),
        ({"subtype": "bot_message", "text": "x"}, True),
        ({"app_id": "A1", "user": "U1", "text": "x"}, True),
        ({"user": "U1", "text": "x"}, False),
        ({"bot_id": "", "user": "U1"}, False),
        ({"bot_id": 5}, False),
        ({"subtype": "message_changed", "message": {"user": "U1"}}, False),
    ],
)
def test_is_alert_bot(event: dict[str, Any], expected: bool) -> None:
    assert is_alert_bot(event) is expected


# -- bounds ------------------------------------------------------------------------------------


def test_text_past_the_limit_is_ignored() -> None:
    event = alertmanager_event()
    padding = "x" * MAX_TEXT
    event["attachments"][0]["text"] = padding + "\n • *alertname:* `Hidden`"
    alert = parse(event)
    assert alert.name == "HighErrorRate"
    event["attachments"][0]["title"] = padding
    assert parse_alert_message(event, NOW) is None


def test_labels_and_values_are_bounded() -> None:
    lines = [f" • *label_{i}:* `{'v' * 1000}`" for i in range(200)]
    event = alertmanager_event()
    event["attachments"][0]["text"] = "\n".join(lines)
    alert = parse(event)
    assert len(alert.labels) <= MAX_LABELS
    assert all(len(v) <= MAX_VALUE for v in alert.labels.values())
    assert len(alert.name) <= MAX_VALUE


def test_a_huge_name_is_clipped() -> None:
    event = alertmanager_event("[FIRING:1] " + "N" * 5000)
    del event["attachments"][0]["text"]
    alert = parse(event)
    assert alert.name == "N" * MAX_VALUE
    assert alert.labels["alertname"] == alert.name


# -- hostile input ---------------------------------------------------------------------------

JSON = json_values(text_size=40, key_size=12, width=4, leaves=16)
KEYS = ["text", "attachments", "blocks", "subtype", "bot_id", "message", "title", "fields"]
REAL = [alertmanager_event, grafana_event, grafana_blocks_event, pagerduty_event]


def _check(alert: Alert | None) -> None:
    if alert is None:
        return
    assert alert.name and len(alert.name) <= MAX_VALUE
    assert alert.status in ("firing", "resolved")
    assert len(alert.labels) <= MAX_LABELS
    assert all(isinstance(v, str) and len(v) <= MAX_VALUE for v in alert.labels.values())
    assert alert.fingerprint
    assert alert.starts_at <= NOW and alert.starts_at.tzinfo is not None


@given(JSON)
@settings(max_examples=300, deadline=None)
def test_any_json_value_never_raises(event: Any) -> None:
    _check(parse_alert_message(event, NOW))
    is_alert_bot(event)


@given(
    st.sampled_from(REAL),
    st.lists(
        st.tuples(st.sampled_from(["top", "attachment", "block"]), st.sampled_from(KEYS), JSON),
        max_size=4,
    ),
)
@settings(max_examples=300, deadline=None)
def test_any_mutation_of_a_real_message_never_raises(
    make: Any, mutations: list[tuple[str, str, Any]]
) -> None:
    event = copy.deepcopy(make())
    for where, key, value in mutations:
        parts = event.get("attachments" if where == "attachment" else "blocks")
        if where == "top":
            event[key] = value
        elif isinstance(parts, list) and parts and isinstance(parts[0], dict):
            parts[0][key] = value
    _check(parse_alert_message(event, NOW))


@given(st.text(max_size=300), st.sampled_from(["text", "title", "fallback", "field"]))
@settings(max_examples=300, deadline=None)
def test_any_text_anywhere_never_raises(text: str, where: str) -> None:
    attachment: dict[str, Any] = {"title": "[FIRING:1] X"}
    if where == "field":
        attachment["fields"] = [{"title": "Status", "value": "Triggered"}, {"title": text}]
        attachment["text"] = text
    else:
        attachment[where] = text
    for event in ({"bot_id": "B1", "text": text}, {"bot_id": "B1", "attachments": [attachment]}):
        _check(parse_alert_message(event, NOW))


def test_a_long_hostile_line_is_read_quickly() -> None:
    event = alertmanager_event()
    event["attachments"][0]["text"] = "*Alert:* " + "- `" * 6000 + "\n" + "Labels:\n - a = b" * 900
    started = datetime.now(UTC)
    _check(parse_alert_message(event, NOW))
    assert datetime.now(UTC) - started < timedelta(seconds=2)
