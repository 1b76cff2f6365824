"""Alertmanager webhook payloads → :class:`tools.records.Alert`.

The same parser serves the Alertmanager webhook listener and ``alerts.json`` in bundles.
Payload reference: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from tools.bundle.timestamps import parse_timestamp
from tools.records import Alert


def parse_alertmanager_payload(payload: Any) -> list[Alert]:
    """The alerts of one webhook payload, firing ones first; ``ValueError`` if malformed."""
    if not isinstance(payload, dict):
        raise ValueError("expected an Alertmanager webhook payload (a JSON object)")
    raw = payload.get("alerts")
    if not isinstance(raw, list) or not raw:
        raise ValueError("payload has no 'alerts' list")
    common = payload.get("commonLabels") or {}
    common_ann = payload.get("commonAnnotations") or {}
    alerts: list[Alert] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValueError(f"alerts[{index}] is not an object")
        labels = {**_strings(common), **_strings(item.get("labels"))}
        annotations = {**_strings(common_ann), **_strings(item.get("annotations"))}
        name = labels.get("alertname")
        if not name:
            raise ValueError(f"alerts[{index}] has no 'alertname' label")
        if "startsAt" not in item:
            raise ValueError(f"alerts[{index}] has no 'startsAt'")
        try:
            starts_at, _ = parse_timestamp(item["startsAt"])
        except ValueError as exc:
            raise ValueError(f"alerts[{index}].startsAt: {exc}") from exc
        alerts.append(
            Alert(
                name=name,
                status=str(item.get("status") or payload.get("status") or "firing"),
                labels=MappingProxyType(labels),
                annotations=MappingProxyType(annotations),
                starts_at=starts_at,
                generator_url=item.get("generatorURL") or None,
                fingerprint=item.get("fingerprint") or None,
            )
        )
    alerts.sort(key=lambda a: (a.status != "firing", a.starts_at))
    return alerts


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}
