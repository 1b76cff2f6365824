from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.bundles import T0, alert_payload
from tests.strategies import json_values
from tools.alerts import (
    MAX_ALERTS,
    MAX_ANNOTATION,
    MAX_LABELS,
    parse_alertmanager_payload,
    read_alertmanager_payload,
)
from tools.bundle.timestamps import EARLIEST, LATEST


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


# -- edge validation: limits, zero time, skip-with-warning -----------------------------------

JSON = json_values(text_size=30, key_size=12, width=4, leaves=12)
# Where a mutation lands: the payload's own keys and those of its first alert.
TOP_KEYS = ["alerts", "commonLabels", "commonAnnotations", "status", "version"]
ALERT_KEYS = [
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "status",
    "generatorURL",
    "fingerprint",
]


def _payload() -> dict[str, Any]:
    return alert_payload("CheckoutErrors", "checkout", T0)


@given(
    st.lists(
        st.tuples(st.sampled_from(["top", "alert", "label", "drop"]), st.integers(0, 10), JSON),
        min_size=1,
        max_size=5,
    )
)
@settings(max_examples=400, deadline=None)
def test_any_mutation_of_a_valid_payload_parses_or_raises_value_error(
    mutations: list[tuple[str, int, Any]],
) -> None:
    payload = _payload()
    for where, pick, value in mutations:
        alerts = payload.get("alerts")
        alert = alerts[0] if isinstance(alerts, list) and alerts else None
        if where == "top":
            payload[TOP_KEYS[pick % len(TOP_KEYS)]] = value
        elif where == "alert" and isinstance(alert, dict):
            alert[ALERT_KEYS[pick % len(ALERT_KEYS)]] = value
        elif where == "label" and isinstance(alert, dict) and isinstance(alert.get("labels"), dict):
            alert["labels"][["alertname", "service", "x"][pick % 3]] = value
        elif where == "drop" and isinstance(alert, dict):
            alert.pop(ALERT_KEYS[pick % len(ALERT_KEYS)], None)
    try:
        parsed = read_alertmanager_payload(payload)
    except ValueError:  # the documented error (its message names what is wrong)
        return
    for alert in parsed.alerts:
        assert alert.name and alert.status in ("firing", "resolved")
        assert all(
            isinstance(v, str) for v in [*alert.labels.values(), *alert.annotations.values()]
        )
        assert alert.generator_url is None or isinstance(alert.generator_url, str)
        assert EARLIEST <= alert.starts_at < LATEST


@given(JSON)
@settings(max_examples=300, deadline=None)
def test_any_json_value_parses_or_raises_value_error(payload: Any) -> None:
    with contextlib.suppress(ValueError):  # the one documented error
        read_alertmanager_payload(payload)


@pytest.mark.parametrize(
    ("starts", "message"),
    [
        ("0001-01-01T00:00:00Z", "zero time"),
        ("9999-12-31T23:59:59Z", "outside 1970..2100"),
        (1e300, "outside"),
        (float("inf"), "finite"),
        (10**400, "outside"),
        ("x" * 100, "characters long"),
    ],
)
def test_a_start_out_of_range_is_a_clear_error(starts: object, message: str) -> None:
    payload = _payload()
    payload["alerts"][0]["startsAt"] = starts
    with pytest.raises(ValueError, match=message):
        parse_alertmanager_payload(payload)


def test_zero_end_time_means_still_firing() -> None:
    (alert,) = parse_alertmanager_payload(_payload())  # endsAt is 0001-01-01T00:00:00Z
    assert alert.status == "firing"


def test_a_bad_alert_among_good_ones_is_skipped_with_a_warning() -> None:
    payload = _payload()
    good = payload["alerts"][0]
    payload["alerts"] = [{**good, "labels": ["alertname"]}, good, "nonsense"]
    parsed = read_alertmanager_payload(payload)
    assert [a.name for a in parsed.alerts] == ["CheckoutErrors"]
    assert parsed.warnings == [
        "skipped alerts[0].labels must be an object, got a list",
        "skipped alerts[2] is not an object",
    ]


def test_bad_optional_fields_are_dropped_with_a_warning() -> None:
    payload = _payload()
    payload["alerts"][0].update(generatorURL=5, fingerprint={"a": 1}, status="burning")
    payload["alerts"][0]["annotations"] = {"description": "d" * (MAX_ANNOTATION + 10), "n": [1]}
    parsed = read_alertmanager_payload(payload)
    (alert,) = parsed.alerts
    assert (alert.generator_url, alert.fingerprint, alert.status) == (None, None, "firing")
    assert len(alert.annotations["description"]) == MAX_ANNOTATION
    assert "n" not in alert.annotations
    text = "\n".join(parsed.warnings)
    for field in ("generatorURL", "fingerprint", "status", "description clipped", ".n must"):
        assert field in text


def test_sizes_are_bounded() -> None:
    payload = _payload()
    labels = {"alertname": "A", **{f"l{i}": "v" for i in range(MAX_LABELS)}}
    payload["alerts"][0]["labels"] = labels
    with pytest.raises(ValueError, match="at most 128"):
        parse_alertmanager_payload(payload)
    payload = _payload()
    payload["alerts"] = payload["alerts"] * (MAX_ALERTS + 5)
    parsed = read_alertmanager_payload(payload)
    assert len(parsed.alerts) == MAX_ALERTS
    assert f"only the first {MAX_ALERTS}" in parsed.warnings[0]


def test_scalar_label_values_become_text() -> None:
    payload = _payload()
    payload["alerts"][0]["labels"] = {"alertname": "A", "code": 503, "up": False, "gone": None}
    (alert,) = parse_alertmanager_payload(payload)
    assert dict(alert.labels) == {
        "alertname": "A",
        "service": "checkout",
        "code": "503",
        "up": "false",
    }
