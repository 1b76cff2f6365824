from __future__ import annotations

from datetime import timedelta

import pytest

from tests.bundles import T0, alert_payload
from tools.alerts import parse_alertmanager_payload


def test_parses_webhook_payload() -> None:
    (alert,) = parse_alertmanager_payload(alert_payload("CheckoutErrors", "checkout", T0))
    assert alert.name == "CheckoutErrors"
    assert alert.service == "checkout"
    assert alert.starts_at == T0
    assert alert.summary == "checkout is unhappy"


def test_firing_alerts_come_first() -> None:
    payload = alert_payload("A", "a", T0)
    resolved = dict(payload["alerts"][0], status="resolved")
    later = dict(payload["alerts"][0], startsAt=(T0 + timedelta(minutes=1)).isoformat())
    payload["alerts"] = [resolved, later]
    alerts = parse_alertmanager_payload(payload)
    assert [a.status for a in alerts] == ["firing", "resolved"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "JSON object"),
        ({"alerts": []}, "no 'alerts'"),
        ({"alerts": [{"labels": {}, "startsAt": "2026-01-01T00:00:00Z"}]}, "alertname"),
        ({"alerts": [{"labels": {"alertname": "X"}}]}, "startsAt"),
        ({"alerts": [{"labels": {"alertname": "X"}, "startsAt": "yesterday"}]}, "unparsable"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(payload: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_alertmanager_payload(payload)
