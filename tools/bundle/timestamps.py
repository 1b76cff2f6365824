"""Timestamp parsing for bundle files: ISO 8601 with offset, or epoch seconds.

Epoch numbers in milliseconds, microseconds or nanoseconds are recognised by magnitude and
converted; the caller is told which unit was seen so it can warn once per file.
"""

from __future__ import annotations

from datetime import UTC, datetime

# Epoch seconds stay below 1e11 until the year 5138; larger numbers are finer units.
_UNITS: tuple[tuple[float, float, str], ...] = (
    (1e17, 1e9, "nanoseconds"),
    (1e14, 1e6, "microseconds"),
    (1e11, 1e3, "milliseconds"),
)


def epoch_seconds(value: float) -> tuple[float, str | None]:
    """``value`` as epoch seconds, and the finer unit it was given in (or ``None``)."""
    magnitude = abs(value)
    for threshold, divisor, unit in _UNITS:
        if magnitude >= threshold:
            return value / divisor, unit
    return float(value), None


def parse_timestamp(value: object) -> tuple[datetime, str | None]:
    """Parse a bundle timestamp; raise ``ValueError`` saying what was wrong."""
    if isinstance(value, bool):
        raise ValueError(f"timestamp must be ISO 8601 or epoch seconds, got {value!r}")
    if isinstance(value, int | float):
        seconds, unit = epoch_seconds(float(value))
        return datetime.fromtimestamp(seconds, tz=UTC), unit
    if isinstance(value, str):
        text = value.strip()
        if ":" not in text:  # not ISO 8601 with a time: maybe epoch digits in a string
            try:
                number = float(text)
            except ValueError:
                pass
            else:
                return parse_timestamp(number)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"unparsable timestamp {value!r}") from None
        if moment.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no UTC offset (add 'Z' or '+00:00')")
        return moment.astimezone(UTC), None
    raise ValueError(f"timestamp must be ISO 8601 or epoch seconds, got {value!r}")
