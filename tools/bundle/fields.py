"""Typed, bounded reads of one field of a bundle line (a JSON object or a CSV row).

Each function raises :class:`LineError` (a ``ValueError``) naming the key and what is wrong;
the reader then skips the line with a warning. Free text (a log message, a change description)
is clipped rather than rejected; names and ids over their limit reject the line.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from tools.bundle.timestamps import parse_timestamp

MAX_NAME = 256  # service, operation, metric and label names, kinds, levels
MAX_ID = 256  # trace, span, parent and instance ids, versions, authors
MAX_TEXT = 16_384  # a log message, a change description (clipped, not rejected)
MAX_LINK = 4_096
MAX_ATTRS = 64  # span attributes kept
MAX_ATTR_VALUE = 4_096
MAX_DURATION_MS = 7 * 24 * 3600 * 1000.0  # a week
MAX_VALUE = 1e300  # a metric sample's magnitude


class LineError(ValueError):
    """A data line is bad; the message says why (file and line are added by the reader)."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__


def need(obj: dict[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        raise LineError(f"missing key {key!r}")
    return value


def name(obj: dict[str, Any], key: str, limit: int = MAX_NAME) -> str:
    """A required short string (numbers are accepted as their decimal text)."""
    value = need(obj, key)
    text = _scalar_text(value, key)
    if len(text) > limit:
        raise LineError(f"{key} is {len(text)} characters long; at most {limit}")
    return text


def optional(obj: dict[str, Any], key: str, limit: int = MAX_ID) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    text = _scalar_text(value, key)
    if len(text) > limit:
        raise LineError(f"{key} is {len(text)} characters long; at most {limit}")
    return text


def text(obj: dict[str, Any], key: str, clipped: list[int]) -> str:
    """Required free text, clipped to :data:`MAX_TEXT` (``clipped[0]`` counts the clips)."""
    value = _scalar_text(need(obj, key), key)
    if len(value) > MAX_TEXT:
        clipped[0] += 1
        return value[:MAX_TEXT]
    return value


def number(value: Any, key: str, *, nan_ok: bool = False) -> float:
    """A finite number (or a numeric string); NaN too if ``nan_ok`` (a gap in a series)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise LineError(f"{key} must be a number, got {_kind(value)}")
    if isinstance(value, int) and abs(value) > 10**300:
        raise LineError(f"{key} is too large")
    try:
        result = float(value)
    except (ValueError, OverflowError):
        raise LineError(f"{key} must be a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(result) and not (nan_ok and math.isnan(result)):
        raise LineError(f"{key} must be finite, got {result}")
    return result


def duration_ms(obj: dict[str, Any]) -> float:
    duration = number(need(obj, "duration_ms"), "duration_ms")
    if not 0 <= duration <= MAX_DURATION_MS:
        raise LineError(f"duration_ms {duration:g} is outside 0..{MAX_DURATION_MS:g}")
    return duration


def timestamp(obj: dict[str, Any], key: str, units: set[str]) -> datetime:
    moment, unit = parse_timestamp(need(obj, key))
    if unit:
        units.add(unit)
    return moment


def attrs(obj: dict[str, Any]) -> dict[str, Any]:
    """Span attributes: an object; only scalar values are kept (at most :data:`MAX_ATTRS`,
    strings clipped to :data:`MAX_ATTR_VALUE`); nested values are dropped."""
    raw = obj.get("attrs") or {}
    if not isinstance(raw, dict):
        raise LineError("attrs must be an object")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if len(out) >= MAX_ATTRS:
            break
        if len(key) > MAX_NAME:
            continue
        if isinstance(value, str):
            out[key] = value[:MAX_ATTR_VALUE]
        elif _plain_number(value):
            out[key] = value
    return out


def _plain_number(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) < 2**63
    return isinstance(value, float) and math.isfinite(value)


def _scalar_text(value: Any, key: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**30:
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    raise LineError(f"{key} must be a string, got {_kind(value)}")
