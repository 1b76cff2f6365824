"""Timestamp parsing for bundles, alerts and options: ISO 8601 with offset, or epoch seconds.

Epoch numbers in milliseconds, microseconds or nanoseconds are recognised by magnitude and
converted; the caller is told which unit was seen so it can warn once per file.

Every accepted moment lies in ``[EARLIEST, LATEST)`` (1970 to 2100): anything else — year 9999,
``1e300``, ``inf``, NaN, a 400-digit integer, Alertmanager's zero time ``0001-01-01T00:00:00Z``
(which means "unset") — raises ``ValueError`` saying what was wrong, never ``OverflowError``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_LATEST_S = LATEST.timestamp()
MAX_TEXT = 64  # characters: no timestamp is longer
# Alertmanager (Go) writes time.Time{} — "unset" — as this.
ZERO_TIME_PREFIX = "0001-01-01T00:00:00"

# Epoch seconds stay below 1e11 until the year 5138; larger numbers are finer units.
_UNITS: tuple[tuple[float, float, str], ...] = (
    (1e17, 1e9, "nanoseconds"),
    (1e14, 1e6, "microseconds"),
    (1e11, 1e3, "milliseconds"),
)


class ZeroTime(ValueError):
    """The timestamp is Go's zero time: the sender meant "unset"."""


def epoch_seconds(value: float) -> tuple[float, str | None]:
    """``value`` as epoch seconds in range, and the finer unit it was given in (or ``None``);
    ``ValueError`` if it is not finite or lies outside 1970..2100."""
    if not math.isfinite(value):
        raise ValueError(f"timestamp must be a finite number, got {value}")
    magnitude = abs(value)
    seconds, unit = float(value), None
    for threshold, divisor, name in _UNITS:
        if magnitude >= threshold:
            seconds, unit = value / divisor, name
            break
    if not 0 <= seconds < _LATEST_S:
        raise ValueError(f"timestamp {value:g} is outside {_range()}")
    return seconds, unit


def parse_timestamp(value: object) -> tuple[datetime, str | None]:
    """Parse a timestamp; raise ``ValueError`` (``ZeroTime`` for Go's zero time) saying what
    was wrong."""
    if isinstance(value, bool):
        raise ValueError(f"timestamp must be ISO 8601 or epoch seconds, got {value!r}")
    if isinstance(value, int):
        if abs(value) >= 10**20:  # float() of a huge int overflows; no unit gets it in range
            raise ValueError(f"timestamp {str(value)[:20]}… is outside {_range()}")
        value = float(value)
    if isinstance(value, float):
        seconds, unit = epoch_seconds(value)
        return datetime.fromtimestamp(seconds, tz=UTC), unit
    if isinstance(value, str):
        return _parse_text(value)
    raise ValueError(f"timestamp must be ISO 8601 or epoch seconds, got {type(value).__name__}")


def _parse_text(value: str) -> tuple[datetime, str | None]:
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"timestamp is {len(text)} characters long; not a timestamp")
    if text.startswith(ZERO_TIME_PREFIX):
        raise ZeroTime(f"{text!r} is the zero time, which means unset")
    if ":" not in text:  # not ISO 8601 with a time: maybe epoch digits in a string
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            seconds, unit = epoch_seconds(number)
            return datetime.fromtimestamp(seconds, tz=UTC), unit
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unparsable timestamp {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset (add 'Z' or '+00:00')")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past datetime.max in UTC
        raise ValueError(f"timestamp {value!r} is outside {_range()}") from None
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"timestamp {value!r} is outside {_range()}")
    return moment, None


def _range() -> str:
    return f"{EARLIEST.year}..{LATEST.year}"
