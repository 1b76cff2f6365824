"""The Alertmanager webhook receiver's pure parts: who may post, and what a post says.

The HTTP endpoint (a listener) stays thin: it reads at most :data:`MAX_BODY` bytes, asks
:func:`authorized`, then :func:`parse_webhook`, and enqueues. Keeping these two here, free of
any web framework, lets them be tested exhaustively and reused by any server.

Payload reference (version 4):
https://prometheus.io/docs/alerting/latest/configuration/#webhook_config —
``{version, groupKey, truncatedAlerts, status, receiver, groupLabels, commonLabels,
commonAnnotations, externalURL, alerts: [{status, labels, annotations, startsAt, endsAt,
generatorURL, fingerprint}]}``. The alerts themselves are read by the project's one
Alertmanager parser, :func:`tools.alerts.read_alertmanager_payload`, whose warnings are kept.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot.slack.settings import SlackSettings
from tools.alerts import STATUSES, read_alertmanager_payload
from tools.errors import InvestigationError
from tools.records import Alert

MAX_BODY = 1024 * 1024  # bytes; Alertmanager's max_alerts keeps real payloads far smaller
MAX_AUTH_HEADER = 4_096  # characters of an Authorization header worth looking at
MAX_FIELD = 2_048  # characters of groupKey / receiver kept
VERSION = "4"


class WebhookError(InvestigationError):
    """An Alertmanager webhook body cannot be used; the message says why (for the HTTP 400)."""


@dataclass
class Webhook:
    """One Alertmanager notification: its group and its usable alerts (firing first), each
    with a fingerprint; ``warnings`` lists what was skipped or repaired."""

    version: str
    group_key: str
    status: str
    receiver: str
    alerts: list[Alert]
    warnings: list[str] = field(default_factory=list)


_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = 0xFF


def alert_fingerprint(name: str, labels: Mapping[str, str]) -> str:
    """The fingerprint Alertmanager gives an alert with these labels (``alertname`` = ``name``
    added when missing): Prometheus' ``LabelSet.Fingerprint``, FNV-1a 64 over the sorted label
    names and values, each followed by 0xFF, as 16 hex digits. So an alert rcabot reads from an
    alert bot's message (which carries no fingerprint) matches the same alert from the webhook,
    when the message shows all its labels."""
    return label_set_fingerprint({"alertname": name, **labels})


def label_set_fingerprint(labels: Mapping[str, str]) -> str:
    """Prometheus' ``model.LabelSet.Fingerprint`` of ``labels``, as 16 hex digits."""
    digest = _FNV_OFFSET
    for key in sorted(labels):
        for part in (key, labels[key]):
            for byte in part.encode("utf-8", "surrogatepass") + bytes([_SEPARATOR]):
                digest = ((digest ^ byte) * _FNV_PRIME) & 0xFFFF_FFFF_FFFF_FFFF
    return f"{digest:016x}"


def authorized(headers: Mapping[str, str], settings: SlackSettings) -> bool:
    """Whether the request carries the credentials Alertmanager was configured to send.

    Alertmanager's webhook ``http_config`` sends either ``Authorization: Bearer TOKEN``
    (``authorization.credentials`` or ``bearer_token``) or ``Authorization: Basic …``
    (``basic_auth``); they are checked against ``slack.alertmanager_token`` and
    ``slack.alertmanager_username``/``alertmanager_password`` with constant-time comparisons.
    With neither configured (or configured empty) this is always ``False``: the endpoint then
    refuses every request rather than accept alerts from anyone.
    """
    value = _header(headers, "authorization")
    if value is None or len(value) > MAX_AUTH_HEADER:
        return False
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return _bearer_ok(credentials, settings)
    if scheme.lower() == "basic":
        return _basic_ok(credentials, settings)
    return False


def parse_webhook(body: bytes) -> Webhook:
    """The notification in ``body``; :class:`WebhookError` (one line) if it is unusable."""
    if len(body) > MAX_BODY:
        raise WebhookError(f"payload larger than {MAX_BODY} bytes ({len(body)} bytes)")
    try:
        payload = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError: ValueError
        raise WebhookError(f"payload is not JSON: {_first_line(exc)}") from exc
    if not isinstance(payload, dict):
        raise WebhookError("payload is not a JSON object")
    version = payload.get("version")
    if version != VERSION:
        shown = repr(version)[:20] if version is not None else "none"
        raise WebhookError(
            f"only version {VERSION} of the Alertmanager webhook payload is understood, got {shown}"
        )
    try:
        parsed = read_alertmanager_payload(payload)
    except ValueError as exc:
        raise WebhookError(f"payload: {exc}") from exc
    warnings = list(parsed.warnings)
    alerts = [_with_fingerprint(alert) for alert in parsed.alerts]
    group_key = _text(payload, "groupKey", warnings)
    receiver = _text(payload, "receiver", warnings)
    status = payload.get("status")
    if status not in STATUSES:
        status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
        warnings.append(f"status is not firing/resolved; taken as {status}")
    truncated = payload.get("truncatedAlerts")
    if isinstance(truncated, int) and not isinstance(truncated, bool) and truncated > 0:
        warnings.append(f"Alertmanager left out {min(truncated, 10**9)} alerts (its max_alerts)")
    return Webhook(VERSION, group_key, str(status), receiver, alerts, warnings)


def _with_fingerprint(alert: Alert) -> Alert:
    if alert.fingerprint:
        return alert
    return replace(alert, fingerprint=alert_fingerprint(alert.name, alert.labels))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name (plain dicts are case-sensitive; Starlette's are not)."""
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
    return value if isinstance(value, str) else None


def _bearer_ok(token: str, settings: SlackSettings) -> bool:
    expected = settings.alertmanager_token
    if expected is None or not expected.get_secret_value() or not token:
        return False
    return _same(token, expected.get_secret_value())


def _basic_ok(credentials: str, settings: SlackSettings) -> bool:
    username, password = settings.alertmanager_username, settings.alertmanager_password
    if not username or password is None or not password.get_secret_value():
        return False
    try:
        decoded = base64.b64decode(credentials.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error):  # non-ASCII header, bad base64, not UTF-8
        return False
    given_user, colon, given_password = decoded.partition(":")
    user_ok = _same(given_user, username)
    password_ok = _same(given_password, password.get_secret_value())
    return bool(colon) and user_ok and password_ok  # both compared: no early exit to time


def _same(given: str, expected: str) -> bool:
    # compare_digest needs bytes for non-ASCII text; surrogatepass: a header decoded with
    # surrogates (bad bytes) still encodes instead of raising.
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def _text(payload: dict[str, Any], key: str, warnings: list[str]) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        warnings.append(f"{key} is not a string; ignored")
        return ""
    if len(value) > MAX_FIELD:
        warnings.append(f"{key} clipped to {MAX_FIELD} characters")
        return value[:MAX_FIELD]
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200] if text.strip() else type(exc).__name__
