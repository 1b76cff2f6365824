"""Timestamp helpers for the Nezha importer (all times are UTC epoch seconds internally)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

# Epoch nanoseconds that can belong to real telemetry (2001..2033); the Nezha logs hold a few
# overflowed TimeUnixNano values (negative), which this range rejects.
_MIN_NS = 1_000_000_000 * 1_000_000_000
_MAX_NS = 2_000_000_000 * 1_000_000_000


def iso_utc(seconds: float) -> str:
    """``2023-01-29T08:42:22.383150Z`` (microsecond precision)."""
    whole = int(seconds // 1)
    micros = round((seconds - whole) * 1_000_000)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}Z"


def iso_utc_ns(nanos: int) -> str:
    """Like :func:`iso_utc` for integer epoch nanoseconds, without float rounding."""
    whole, rest = divmod(nanos, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{rest // 1000:06d}Z"


def iso_utc_seconds(moment: datetime) -> str:
    """``2023-01-29T08:43:04Z`` for an aware datetime (whole seconds kept)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_z(text: str) -> float:
    """Epoch seconds of ``2023-01-29T08:42:22.383150913Z`` (fraction of any length, or none).

    Raises ``ValueError`` for anything else; a missing offset is read as UTC (``Z``).
    """
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1]
    head, _, fraction = text.partition(".")
    if len(head) != 19 or (fraction and not fraction.isdigit()):
        raise ValueError(f"unparsable timestamp {text!r}")
    moment = datetime.fromisoformat(head).replace(tzinfo=UTC)
    return moment.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def epoch_ns_to_seconds(text: str) -> float:
    """Epoch seconds of an epoch-nanoseconds string; ``ValueError`` if implausible."""
    value = int(text)
    if not _MIN_NS <= value < _MAX_NS:
        raise ValueError(f"implausible epoch nanoseconds {text!r}")
    return value / 1e9
