"""Messages that alert bots post in Slack → :class:`tools.records.Alert`.

In a watched channel rcabot answers an alert bot's message with a summary in its thread. No
bot posts structured data there, only text made from templates, so this module reads the
three formats seen in practice, by their default templates:

1. Prometheus Alertmanager's Slack notifier: an attachment titled ``[FIRING:2] HighErrorRate
   (checkout critical)`` or ``[RESOLVED] …`` (the group labels' values, then the other common
   labels' values), ``title_link`` to Alertmanager, ``color`` danger/good, and with the widely
   used text template ``*Alert:* … - `critical``` / ``*Description:* …`` / ``*Details:*`` then
   `` • *label:* `value``` lines.
2. Grafana alerting's Slack contact point: the same title, a body ``**Firing**`` / ``Value:
   A=1.2`` / ``Labels:`` then `` - name = value`` lines / ``Annotations:`` (same) / ``Source:
   URL``; in an attachment, the message text, or Block Kit sections.
3. PagerDuty's Slack app: ``Triggered #1234 … : SERVICE : TITLE`` / ``Resolved #1234``, often
   with attachment fields (Service, Urgency, Status…).

A message that fits none is not an alert (``None``). Only the first alert of a grouped message
is read. Labels come only from where a template prints them with their names; the bare values
in a title's parentheses are not guessed at. Everything is bounded
(:data:`~bot.slack.message_text.MAX_TEXT` of text, :data:`MAX_LABELS` labels of
:data:`MAX_VALUE` characters), every pattern is RE2 (linear time), and no input makes
:func:`parse_alert_message` raise. The message's text is collected and cleaned of Slack's wire
format by :mod:`bot.slack.message_text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import re2

from bot.slack.alertmanager import alert_fingerprint
from bot.slack.message_text import (
    MAX_PARTS,
    MessageText,
    collect_text,
    http_url,
    message_of,
    str_or_none,
)
from tools.bundle.timestamps import parse_timestamp
from tools.records import Alert

MAX_LABELS = 64
MAX_VALUE = 256  # characters of a label value (and of the alert name)
MAX_ANNOTATION = 1_000

_TITLE = re2.compile(r"(?i)\[(firing|resolved)(?::\s*\d+)?\]\s*([^\n]*)")
_PAGERDUTY = re2.compile(
    r"(?im)^[^\w#\n]*(?::[a-z0-9_+-]+:\s*)?"
    r"(triggered|acknowledged|escalated|reassigned|resolved)[^\w#\n]*#(\d{1,12})\b[ \t]*([^\n]*)"
)
_INCIDENT = re2.compile(r"#(\d{1,12})\b")
_LABEL_NAME = re2.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_BULLET = re2.compile(r"^\s*[•\-]\s*\*([A-Za-z_][A-Za-z0-9_]*):\*\s*`([^`]*)`\s*$")
_PAIR = re2.compile(r"^\s*-\s*([^=\s]+)\s*=\s?(.*)$")
_STARRED = re2.compile(r"^\s*\*([A-Za-z][A-Za-z ]{0,30}):\*\s*(.*)$")
_SEVERITY_SUFFIX = re2.compile(r"^(.*?)\s*-\s*`([^`]*)`\s*$")
_SOURCE = re2.compile(r"^\s*Source:\s*(\S+)\s*$")
_VALUE = re2.compile(r"^\s*Value:\s*(.+)$")
_START = re2.compile(
    r"(?i)^[\s*•_-]*(?:started|starts at|started at|start|since)[\s*:_]+`?([^`\n]+)"
)
_GO_TIME = re2.compile(
    r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*(Z|[+-]\d{2}:?\d{2})?"
)
_FINGERPRINT = re2.compile(r"(?i)\bfingerprint\b[\s*:=`_]*([0-9a-f]{8,64})\b")
_MAX_LINE = 1_000  # characters of one line matched against the line patterns
_RESOLVED_COLORS = {"good", "#36a64f", "#2eb886"}
_STARRED_ANNOTATIONS = {"alert": "summary", "summary": "summary", "description": "description"}


def is_alert_bot(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` is a message posted by a bot or an app (``bot_id``, ``app_id`` or the
    ``bot_message`` subtype; an edit's new message counts). Which channels are watched, and
    skipping rcabot's own messages, is the caller's business."""
    message = message_of(event)
    if message is None:
        return False
    return bool(
        str_or_none(message.get("bot_id"))
        or str_or_none(message.get("app_id"))
        or message.get("subtype") == "bot_message"
    )


def parse_alert_message(event: Mapping[str, Any], now: datetime) -> Alert | None:
    """The alert an alert bot's message announces, or ``None`` when it is not one.

    ``now`` is the message's time (its ``ts``); the alert starts then unless the text says
    when it started. The fingerprint is the one the text gives, else PagerDuty's incident
    number, else :func:`~bot.slack.alertmanager.alert_fingerprint` of the name and labels.
    """
    message = message_of(event)
    if message is None:
        return None
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    text = collect_text(message)
    return _pagerduty(text, now) or _prometheus(text, now)


def _prometheus(text: MessageText, now: datetime) -> Alert | None:
    """Alertmanager's and Grafana's formats (the same title; different bodies)."""
    status, name = None, None
    for candidate in text.everything:
        if title := _TITLE.search(candidate):
            status = title.group(1).lower()
            words = (title.group(2) or "").split()
            name = words[0] if words and not words[0].startswith("(") else None
            break
    body = text.body
    labels = _labels(body)
    name = labels.get("alertname") or name
    if not name:
        return None
    annotations = _annotations(body)
    if "severity" not in labels and (severity := annotations.pop("_severity", None)):
        labels["severity"] = severity
    annotations.pop("_severity", None)
    return _alert(
        name=name,
        status=status or _status_from_body(body, text.colors),
        labels=labels,
        annotations=annotations,
        starts_at=_start(body, now),
        url=_source(body) or (text.links[0] if text.links else None),
        fingerprint=_given_fingerprint(body),
    )


def _pagerduty(text: MessageText, now: datetime) -> Alert | None:
    fields = {_label_name(name): value for name, value in text.fields[:MAX_PARTS]}
    status_word, number, rest = None, None, ""
    for candidate in text.everything:
        if match := _PAGERDUTY.search(candidate):
            status_word, number, rest = match.group(1), match.group(2), match.group(3) or ""
            break
    if number is None and fields.get("status", "").lower() in (
        "triggered",
        "acknowledged",
        "resolved",
    ):
        status_word = fields["status"]
        for candidate in text.everything:
            if incident := _INCIDENT.search(candidate):
                number, rest = incident.group(1), candidate[incident.end() :]
                break
    if number is None or status_word is None:
        return None
    parts = [p.strip(" :-\t*_") for p in re2.split(r"\s+:\s+", rest.strip(" :-\t*_"))]
    parts = [p for p in parts if p]
    title = parts[-1] if parts else ""
    labels = {k: v[:MAX_VALUE] for k, v in fields.items() if k and k != "status" and v}
    if len(parts) >= 2:
        labels.setdefault("service", parts[-2][:MAX_VALUE])
    name = title
    if inner := _TITLE.search(title):
        words = (inner.group(2) or "").split()
        name = words[0] if words and not words[0].startswith("(") else title
    labels["incident"] = number
    return _alert(
        name=name or f"PagerDuty incident #{number}",
        status="resolved" if status_word.lower() == "resolved" else "firing",
        labels=labels,
        annotations={"summary": title[:MAX_ANNOTATION]} if title else {},
        starts_at=_start(text.body, now),
        url=next(iter(text.links + text.text_links), None),
        fingerprint=alert_fingerprint("pagerduty", {"incident": number}),
    )


def _alert(
    *,
    name: str,
    status: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    starts_at: datetime,
    url: str | None,
    fingerprint: str | None,
) -> Alert:
    name = name[:MAX_VALUE]
    bounded = dict(list(labels.items())[:MAX_LABELS])
    if "alertname" not in bounded and len(bounded) < MAX_LABELS:
        bounded["alertname"] = name
    return Alert(
        name=name,
        status=status,
        labels=MappingProxyType(bounded),
        annotations=MappingProxyType(dict(list(annotations.items())[:MAX_LABELS])),
        starts_at=starts_at,
        generator_url=url,
        fingerprint=fingerprint or alert_fingerprint(name, bounded),
    )


def _labels(body: str) -> dict[str, str]:
    """Labels printed with their names: Alertmanager's `` • *name:* `value``` lines of the
    first alert, or Grafana's first ``Labels:`` list."""
    labels: dict[str, str] = {}
    alerts_seen, in_grafana_list, grafana_done = 0, False, False
    for line in _lines(body):
        if _STARRED.match(line) and line.lstrip().lower().startswith("*alert:*"):
            alerts_seen += 1
        if alerts_seen > 1 or len(labels) >= MAX_LABELS:
            break
        if bullet := _BULLET.match(line):
            labels.setdefault(bullet.group(1), bullet.group(2).strip()[:MAX_VALUE])
            continue
        if line.strip() == "Labels:" and not grafana_done:
            in_grafana_list = True
            continue
        if in_grafana_list:
            pair = _PAIR.match(line)
            if pair and _LABEL_NAME.fullmatch(pair.group(1)):
                labels.setdefault(pair.group(1), pair.group(2).strip()[:MAX_VALUE])
                continue
            in_grafana_list, grafana_done = False, True
    return labels


def _annotations(body: str) -> dict[str, str]:
    """Alertmanager's ``*Alert:*`` / ``*Summary:*`` / ``*Description:*`` lines (and the
    severity after ``*Alert:*``, as ``_severity``), or Grafana's first ``Annotations:`` list and
    ``Value:`` line."""
    found: dict[str, str] = {}
    in_list, list_done, alerts_seen = False, False, 0
    for line in _lines(body):
        if len(found) >= MAX_LABELS:
            break
        if starred := _STARRED.match(line):
            key = starred.group(1).strip().lower()
            alerts_seen += key == "alert"
            if alerts_seen > 1:
                break
            value = starred.group(2).strip()
            if key == "alert" and (suffix := _SEVERITY_SUFFIX.match(value)):
                value = suffix.group(1)
                found.setdefault("_severity", suffix.group(2).strip()[:MAX_VALUE])
            if (name := _STARRED_ANNOTATIONS.get(key)) and value:
                found.setdefault(name, value[:MAX_ANNOTATION])
            continue
        if (value_line := _VALUE.match(line)) and "value" not in found:
            found["value"] = value_line.group(1).strip()[:MAX_ANNOTATION]
        elif line.strip() == "Annotations:" and not list_done:
            in_list = True
        elif in_list:
            pair = _PAIR.match(line)
            if pair and _LABEL_NAME.fullmatch(pair.group(1)):
                found.setdefault(pair.group(1), pair.group(2).strip()[:MAX_ANNOTATION])
            else:
                in_list, list_done = False, True
    return found


def _status_from_body(body: str, colors: list[str]) -> str:
    firing, resolved = body.find("**Firing**"), body.find("**Resolved**")
    if resolved >= 0 and (firing < 0 or resolved < firing):
        return "resolved"
    if firing < 0 and colors and colors[0] in _RESOLVED_COLORS:
        return "resolved"
    return "firing"  # danger, Grafana's #D63232, or no sign either way


def _start(body: str, now: datetime) -> datetime:
    """When the text says the alert started (not after ``now``), else ``now``."""
    for line in _lines(body):
        if (match := _START.match(line)) and (moment := _time(match.group(1))):
            return min(moment, now)
    return now


def _time(text: str) -> datetime | None:
    """ISO 8601 or Go's ``2024-05-01 10:00:00.123 +0000 UTC`` (no offset = UTC)."""
    match = _GO_TIME.search(text)
    if not match:
        return None
    offset = match.group(3) or "+00:00"
    if offset != "Z" and ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    try:
        moment, _ = parse_timestamp(f"{match.group(1)}T{match.group(2)}{offset}")
    except ValueError:
        return None
    return moment


def _source(body: str) -> str | None:
    for line in _lines(body):
        if match := _SOURCE.match(line):
            return http_url(match.group(1))
    return None


def _given_fingerprint(body: str) -> str | None:
    match = _FINGERPRINT.search(body)
    return match.group(1).lower() if match else None


def _lines(body: str) -> list[str]:
    return [line[:_MAX_LINE] for line in body.splitlines()]


def _label_name(title: str) -> str:
    name = re2.sub(r"[^a-z0-9_]+", "_", title.strip().lower()).strip("_")[:100]
    return name if _LABEL_NAME.fullmatch(name) else ""
