from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.slack.alertmanager import (
    MAX_BODY,
    Webhook,
    WebhookError,
    alert_fingerprint,
    authorized,
    label_set_fingerprint,
    parse_webhook,
)
from bot.slack.settings import SlackSettings
from tests.strategies import json_values
from tools.errors import InvestigationError

STARTS = "2024-05-01T11:52:07.348Z"


def firing_payload() -> dict[str, Any]:
    """Two alerts of one group, as Alertmanager 0.27 sends them (version 4)."""
    labels = {"alertname": "HighErrorRate", "job": "checkout", "severity": "critical"}
    return {
        "receiver": "rcabot",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {**labels, "instance": "checkout-7d9f:8080"},
                "annotations": {
                    "summary": "checkout 5xx ratio above 5%",
                    "description": "checkout-7d9f:8080 returns 12% errors",
                },
                "startsAt": STARTS,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=job%3Ahttp_errors%3Aratio5m"
                "+%3E+0.05&g0.tab=1",
                "fingerprint": "3a7b4f0c2e9d1b68",
            },
            {
                "status": "firing",
                "labels": {**labels, "instance": "checkout-5c2a:8080"},
                "annotations": {"summary": "checkout 5xx ratio above 5%"},
                "startsAt": "2024-05-01T11:53:37.348Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=job%3Ahttp_errors%3Aratio5m"
                "+%3E+0.05&g0.tab=1",
                "fingerprint": "c05e2f61d7a3b490",
            },
        ],
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "checkout 5xx ratio above 5%"},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}/{severity="critical"}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
    }


def resolved_payload() -> dict[str, Any]:
    """The same group once it has recovered: one resolved alert, endsAt set."""
    payload = firing_payload()
    alert = dict(payload["alerts"][0], status="resolved", endsAt="2024-05-01T12:20:07.348Z")
    return dict(payload, status="resolved", alerts=[alert])


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


# -- parse_webhook ------------------------------------------------------------------------------


def test_a_firing_group_is_read_whole() -> None:
    webhook = parse_webhook(body(firing_payload()))
    assert isinstance(webhook, Webhook)
    assert (webhook.version, webhook.status, webhook.receiver) == ("4", "firing", "rcabot")
    assert webhook.group_key == firing_payload()["groupKey"]
    assert [a.fingerprint for a in webhook.alerts] == ["3a7b4f0c2e9d1b68", "c05e2f61d7a3b490"]
    first = webhook.alerts[0]
    assert first.name == "HighErrorRate" and first.service == "checkout"
    assert first.starts_at == datetime(2024, 5, 1, 11, 52, 7, 348000, tzinfo=UTC)
    assert first.summary == "checkout 5xx ratio above 5%"
    assert first.generator_url is not None and "g0.expr=" in first.generator_url
    assert webhook.warnings == []


def test_a_resolved_group_keeps_its_status_and_fingerprint() -> None:
    webhook = parse_webhook(body(resolved_payload()))
    assert webhook.status == "resolved"
    (alert,) = webhook.alerts
    assert alert.status == "resolved"
    assert alert.fingerprint == "3a7b4f0c2e9d1b68"


def test_a_missing_fingerprint_is_computed_from_name_and_labels() -> None:
    payload = firing_payload()
    for alert in payload["alerts"]:
        del alert["fingerprint"]
    first, second = parse_webhook(body(payload)).alerts
    assert first.fingerprint == alert_fingerprint(first.name, first.labels)
    assert first.fingerprint != second.fingerprint  # different instance label
    again = parse_webhook(body(payload)).alerts[0]
    assert again.fingerprint == first.fingerprint


def test_the_computed_fingerprint_ignores_label_order() -> None:
    one = alert_fingerprint("A", {"x": "1", "y": "2"})
    assert one == alert_fingerprint("A", {"y": "2", "x": "1"})
    assert len(one) == 16 and int(one, 16) >= 0
    assert one != alert_fingerprint("B", {"x": "1", "y": "2"})
    assert one != alert_fingerprint("A", {"x": "1", "y": "3"})
    assert alert_fingerprint("\ud800", {"\udfff": "é"})  # any text hashes


def test_the_parsers_warnings_are_kept() -> None:
    payload = firing_payload()
    payload["alerts"].append({"labels": {"alertname": "NoStart"}})
    payload["truncatedAlerts"] = 3
    webhook = parse_webhook(body(payload))
    assert len(webhook.alerts) == 2
    assert any("startsAt" in w for w in webhook.warnings)
    assert any("left out 3 alerts" in w for w in webhook.warnings)


def test_odd_group_fields_are_repaired_with_warnings() -> None:
    payload = dict(firing_payload(), status="weird", receiver=7, groupKey="k" * 5000)
    webhook = parse_webhook(body(payload))
    assert webhook.status == "firing"
    assert webhook.receiver == ""
    assert len(webhook.group_key) < 5000
    assert len(webhook.warnings) == 3


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"x" * (MAX_BODY + 1), "payload larger than"),
        (b"{", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b'{"version": "4", "alerts": [NaN]}', "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b"[]", "not a JSON object"),
        (body(dict(firing_payload(), version="3")), "only version 4"),
        (body({k: v for k, v in firing_payload().items() if k != "version"}), "only version 4"),
        (body(dict(firing_payload(), version=4)), "only version 4"),
        (body(dict(firing_payload(), alerts=[])), "no 'alerts'"),
        (body(dict(firing_payload(), alerts=[{"labels": {}}])), "no usable alert"),
    ],
)
def test_unusable_bodies_are_webhook_errors(raw: bytes, message: str) -> None:
    with pytest.raises(WebhookError, match=message) as error:
        parse_webhook(raw)
    assert isinstance(error.value, InvestigationError)
    assert "\n" not in str(error.value)


@given(json_values(text_size=20, key_size=12, width=4, leaves=12))
@settings(max_examples=200, deadline=None)
def test_any_json_body_parses_or_is_a_webhook_error(payload: Any) -> None:
    if isinstance(payload, dict):
        payload["version"] = "4"
    with contextlib.suppress(WebhookError):
        webhook = parse_webhook(json.dumps(payload).encode())
        assert webhook.alerts and all(a.fingerprint for a in webhook.alerts)


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_any_bytes_parse_or_are_a_webhook_error(raw: bytes) -> None:
    with contextlib.suppress(WebhookError):
        parse_webhook(raw)


# -- authorized ---------------------------------------------------------------------------------

TOKEN = "s3cr3t-t0ken"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def with_token() -> SlackSettings:
    return SlackSettings(alertmanager_token=SecretStr(TOKEN))


def with_basic() -> SlackSettings:
    return SlackSettings(
        alertmanager_username="alertmanager", alertmanager_password=SecretStr("pä55")
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {TOKEN}"},
        {"authorization": f"bearer {TOKEN}"},
        {"AUTHORIZATION": f"Bearer  {TOKEN} "},
    ],
)
def test_the_configured_bearer_token_is_accepted(headers: dict[str, str]) -> None:
    assert authorized(headers, with_token())


def test_the_configured_basic_credentials_are_accepted() -> None:
    assert authorized({"Authorization": basic("alertmanager", "pä55")}, with_basic())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Token {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer tökén"},
        {"Authorization": "Bearer \udcff"},
        {"Authorization": f"Bearer {TOKEN}" + " " * 5000},
        {"X-Authorization": f"Bearer {TOKEN}"},
        {"Authorization": basic("alertmanager", TOKEN)},
    ],
)
def test_anything_but_the_token_is_refused(headers: dict[str, str]) -> None:
    assert not authorized(headers, with_token())


@pytest.mark.parametrize(
    "value",
    [
        basic("alertmanager", "wrong"),
        basic("someone", "pä55"),
        basic("alertmanager", ""),
        "Basic " + base64.b64encode(b"alertmanager").decode(),  # no colon
        "Basic " + base64.b64encode(b"alertmanager:p\xe455").decode(),  # Latin-1, not UTF-8
        "Basic not base64!",
        "Basic ä",
        "Basic ",
        "Bearer pä55",
    ],
)
def test_wrong_basic_credentials_are_refused(value: str) -> None:
    assert not authorized({"Authorization": value}, with_basic())


def test_with_nothing_configured_every_request_is_refused() -> None:
    for headers in [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer anything"},
        {"Authorization": basic("", "")},
        {"Authorization": basic("alertmanager", "pä55")},
    ]:
        assert not authorized(headers, SlackSettings())


def test_an_empty_configured_token_accepts_nothing() -> None:
    settings = SlackSettings(alertmanager_token=SecretStr(""))
    assert not authorized({"Authorization": "Bearer "}, settings)
    assert not authorized({"Authorization": "Bearer"}, settings)


def test_both_kinds_may_be_configured_at_once() -> None:
    both = SlackSettings(
        alertmanager_token=SecretStr(TOKEN),
        alertmanager_username="alertmanager",
        alertmanager_password=SecretStr("pä55"),
    )
    assert authorized({"Authorization": f"Bearer {TOKEN}"}, both)
    assert authorized({"Authorization": basic("alertmanager", "pä55")}, both)
    assert not authorized({"Authorization": "Bearer pä55"}, both)


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=60), max_size=4))
@settings(max_examples=200, deadline=None)
def test_random_headers_are_refused_without_raising(headers: dict[str, str]) -> None:
    assert not authorized(headers, with_token())
    assert not authorized(headers, with_basic())


def test_computed_fingerprints_are_alertmanagers_own() -> None:
    # Prometheus' own test vectors for LabelsToSignature (prometheus/common, signature_test.go),
    # which LabelSet.Fingerprint (Alertmanager's alert fingerprint) is
    assert label_set_fingerprint({}) == f"{14695981039346656037:016x}"
    vector = {"name": "garland, briggs", "fear": "love is not enough"}
    assert label_set_fingerprint(vector) == f"{5799056148416392346:016x}"
    # an alert's fingerprint is that of its labels with alertname
    assert alert_fingerprint("A", {"x": "1"}) == label_set_fingerprint({"alertname": "A", "x": "1"})
    assert alert_fingerprint("A", {"alertname": "A"}) == alert_fingerprint("A", {})
