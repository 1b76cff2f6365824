"""Alertmanager webhook payloads → :class:`tools.records.Alert`, validated at the edge.

The same parser serves the Alertmanager webhook listener, ``--alert FILE`` and ``alerts.json``
in bundles. Payload reference:
https://prometheus.io/docs/alerting/latest/configuration/#webhook_config

Error policy — the only exception raised is ``ValueError`` (its message names the field):

- the payload itself is unusable (not an object, no non-empty ``alerts`` list, or no alert in
  it is usable) → ``ValueError``;
- one alert is unusable (not an object; ``labels`` not an object of scalars, over
  ``MAX_LABELS`` labels or a label over ``MAX_LABEL_VALUE`` characters; no ``alertname``;
  ``startsAt`` missing, unparsable, outside 1970..2100 or Alertmanager's zero time
  ``0001-01-01T00:00:00Z``, which means "unset") → that alert is skipped with a warning;
- an optional field is wrong (``generatorURL``/``fingerprint`` not a short string, ``status``
  not ``firing``/``resolved``, ``annotations`` or ``commonLabels`` not an object, an annotation
  over ``MAX_ANNOTATION`` characters) → the field is dropped, defaulted or clipped, with a
  warning;
- over ``MAX_ALERTS`` alerts → the first ``MAX_ALERTS`` are read, with a warning.

``endsAt`` is not read (an investigation needs when the alert started); Alertmanager's zero
time there is the normal "still firing".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tools.bundle.timestamps import parse_timestamp
from tools.records import Alert

MAX_ALERTS = 1_000
MAX_LABELS = 128
MAX_LABEL_NAME = 256
MAX_LABEL_VALUE = 1_024
MAX_ANNOTATIONS = 128
MAX_ANNOTATION = 16_384
MAX_URL = 4_096
MAX_FINGERPRINT = 128
MAX_WARNINGS = 20
STATUSES = ("firing", "resolved")


@dataclass
class ParsedAlerts:
    """The usable alerts of a payload (firing first) and what was skipped or repaired."""

    alerts: list[Alert]
    warnings: list[str] = field(default_factory=list)


class _Notes:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.hidden = 0

    def add(self, text: str) -> None:
        if len(self.lines) < MAX_WARNINGS:
            self.lines.append(text)
        else:
            self.hidden += 1

    def done(self) -> list[str]:
        more = [f"{self.hidden} more alert warnings"] if self.hidden else []
        return self.lines + more


def parse_alertmanager_payload(payload: Any) -> list[Alert]:
    """The alerts of one webhook payload, firing ones first; ``ValueError`` if unusable."""
    return read_alertmanager_payload(payload).alerts


def read_alertmanager_payload(payload: Any) -> ParsedAlerts:
    """Like :func:`parse_alertmanager_payload`, with the warnings about what was skipped."""
    if not isinstance(payload, dict):
        raise ValueError("expected an Alertmanager webhook payload (a JSON object)")
    raw = payload.get("alerts")
    if not isinstance(raw, list) or not raw:
        raise ValueError("payload has no 'alerts' list")
    notes = _Notes()
    if len(raw) > MAX_ALERTS:
        notes.add(f"alerts: {len(raw)} alerts; only the first {MAX_ALERTS} are read")
        raw = raw[:MAX_ALERTS]
    common = _common(payload, "commonLabels", notes)
    common_ann = _annotations(payload.get("commonAnnotations"), "commonAnnotations", notes)
    default_status = payload.get("status")
    if default_status not in STATUSES:
        default_status = "firing"
    alerts: list[Alert] = []
    skipped: list[str] = []
    for index, item in enumerate(raw):
        where = f"alerts[{index}]"
        try:
            alerts.append(_alert(item, where, common, common_ann, default_status, notes))
        except ValueError as exc:
            skipped.append(str(exc))
    if not alerts:
        more = f" (and {len(skipped) - 1} more bad alerts)" if len(skipped) > 1 else ""
        raise ValueError(f"no usable alert: {skipped[0]}{more}")
    for reason in skipped:
        notes.add(f"skipped {reason}")
    alerts.sort(key=lambda a: (a.status != "firing", a.starts_at))
    return ParsedAlerts(alerts, notes.done())


def _alert(
    item: Any,
    where: str,
    common: dict[str, str],
    common_ann: dict[str, str],
    default_status: str,
    notes: _Notes,
) -> Alert:
    if not isinstance(item, dict):
        raise ValueError(f"{where} is not an object")
    labels = {**common, **_labels(item.get("labels"), f"{where}.labels")}
    name = labels.get("alertname")
    if not name:
        raise ValueError(f"{where} has no 'alertname' label")
    if "startsAt" not in item:
        raise ValueError(f"{where} has no 'startsAt'")
    try:
        starts_at, _ = parse_timestamp(item["startsAt"])
    except ValueError as exc:  # ZeroTime included: an alert must say when it started
        raise ValueError(f"{where}.startsAt: {exc}") from exc
    annotations = {
        **common_ann,
        **_annotations(item.get("annotations"), f"{where}.annotations", notes),
    }
    status = item.get("status", default_status)
    if status not in STATUSES:
        notes.add(f"{where}.status {_show(status)} is not firing/resolved; taken as firing")
        status = "firing"
    return Alert(
        name=name,
        status=status,
        labels=MappingProxyType(labels),
        annotations=MappingProxyType(annotations),
        starts_at=starts_at,
        generator_url=_optional(item, "generatorURL", MAX_URL, where, notes),
        fingerprint=_optional(item, "fingerprint", MAX_FINGERPRINT, where, notes),
    )


def _common(payload: dict[str, Any], key: str, notes: _Notes) -> dict[str, str]:
    try:
        return _labels(payload.get(key), key)
    except ValueError as exc:
        notes.add(f"{exc}; {key} ignored")
        return {}


def _scalar(value: Any, where: str) -> str | None:
    """A label or annotation value as text; ``None`` for null; ``ValueError`` if nested."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) < 10**30:
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    if isinstance(value, int | float):
        raise ValueError(f"{where} is not a usable number")
    raise ValueError(f"{where} must be a string, got {_kind(value)}")


def _labels(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be an object, got {_kind(value)}")
    if len(value) > MAX_LABELS:
        raise ValueError(f"{where} has {len(value)} labels; at most {MAX_LABELS}")
    out: dict[str, str] = {}
    for key, raw in value.items():
        if len(key) > MAX_LABEL_NAME:
            raise ValueError(f"{where} has a label name of {len(key)} characters")
        text = _scalar(raw, f"{where}.{key[:40]}")
        if text is None:
            continue
        if len(text) > MAX_LABEL_VALUE:
            raise ValueError(
                f"{where}.{key[:40]} is {len(text)} characters long; at most {MAX_LABEL_VALUE}"
            )
        out[key] = text
    return out


def _annotations(value: Any, where: str, notes: _Notes) -> dict[str, str]:
    """Annotations are free text: bad entries are dropped and long ones clipped, with notes."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        notes.add(f"{where} must be an object, got {_kind(value)}; ignored")
        return {}
    out: dict[str, str] = {}
    for key, raw in list(value.items())[:MAX_ANNOTATIONS]:
        try:
            text = _scalar(raw, f"{where}.{key[:40]}")
        except ValueError as exc:
            notes.add(f"{exc}; dropped")
            continue
        if text is None:
            continue
        if len(text) > MAX_ANNOTATION:
            notes.add(f"{where}.{key[:40]} clipped to {MAX_ANNOTATION} characters")
            text = text[:MAX_ANNOTATION]
        out[key[:MAX_LABEL_NAME]] = text
    if len(value) > MAX_ANNOTATIONS:
        notes.add(f"{where}: only the first {MAX_ANNOTATIONS} annotations are read")
    return out


def _optional(item: dict[str, Any], key: str, limit: int, where: str, notes: _Notes) -> str | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        notes.add(f"{where}.{key} must be a string, got {_kind(value)}; ignored")
        return None
    if len(value) > limit:
        notes.add(f"{where}.{key} is {len(value)} characters long (at most {limit}); ignored")
        return None
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _show(value: Any) -> str:
    return repr(value)[:40]
