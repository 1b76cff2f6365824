"""The demo's time base: a fixed two-hour window, 15 s metric steps, integer microseconds.

All simulated times are integer microseconds since the window start, so that spans nest exactly
(no float rounding) and every formatted timestamp is reproducible.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

BASE = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
WINDOW_S = 2 * 60 * 60
STEP_S = 15
N_STEPS = WINDOW_S // STEP_S
US = 1_000_000
STEP_US = STEP_S * US
WINDOW_US = WINDOW_S * US

_SECOND_PREFIX: dict[int, str] = {}


def _prefix(second: int) -> str:
    text = _SECOND_PREFIX.get(second)
    if text is None:
        text = (BASE + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S")
        _SECOND_PREFIX[second] = text
    return text


def iso_s(offset_s: int) -> str:
    """Whole-second ISO 8601 UTC timestamp ``offset_s`` seconds after the window start."""
    return _prefix(offset_s) + "Z"


def iso_ms(offset_us: int) -> str:
    """Millisecond-precision timestamp (log records)."""
    second, micros = divmod(offset_us, US)
    return f"{_prefix(second)}.{micros // 1000:03d}Z"


def iso_us(offset_us: int) -> str:
    """Microsecond-precision timestamp (span starts)."""
    second, micros = divmod(offset_us, US)
    return f"{_prefix(second)}.{micros:06d}Z"


def step_of(offset_us: int) -> int:
    """Index of the 15 s metric step holding ``offset_us`` (clamped to the window)."""
    return min(max(offset_us // STEP_US, 0), N_STEPS - 1)


def load_factor(offset_s: float) -> float:
    """Mild morning ramp in traffic (about +18 % over the window) with a slow wobble."""
    return 1.0 + 0.18 * offset_s / WINDOW_S + 0.04 * math.sin(2.0 * math.pi * offset_s / 2400.0)
