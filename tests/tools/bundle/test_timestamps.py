from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.bundle.timestamps import EARLIEST, LATEST, ZeroTime, epoch_seconds, parse_timestamp

T = datetime(2026, 3, 2, 8, 43, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        ("2026-03-02T08:43:20Z", None),
        ("2026-03-02T09:43:20+01:00", None),
        (1772441000, None),
        ("1772441000", None),
        (1772441000.0, None),
        (1772441000_000, "milliseconds"),
        ("1772441000000000", "microseconds"),
        (1772441000_000_000_000, "nanoseconds"),
    ],
)
def test_iso_and_epoch_in_any_unit(value: object, unit: str | None) -> None:
    assert parse_timestamp(value) == (T, unit)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9999-12-31T23:59:59Z", "outside 1970..2100"),
        ("9999-12-31T23:00:00-05:00", "outside"),
        ("1969-12-31T23:59:59Z", "outside"),
        (-1.0, "outside"),
        (1e300, "outside"),
        ("1e300", "outside"),
        (10**400, "outside"),
        ("9" * 400, "characters long"),
        (float("inf"), "finite"),
        ("-inf", "finite"),
        (float("nan"), "finite"),
        ("NaN", "finite"),
        (True, "ISO 8601 or epoch"),
        ([1], "ISO 8601 or epoch"),
        ("2026-03-02T08:43:20", "no UTC offset"),
        ("noon", "unparsable"),
    ],
)
def test_out_of_range_or_malformed_is_a_value_error(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_timestamp(value)


def test_alertmanager_zero_time_means_unset() -> None:
    with pytest.raises(ZeroTime, match="unset"):
        parse_timestamp("0001-01-01T00:00:00Z")


@given(st.one_of(st.floats(), st.integers(), st.text(max_size=80)))
@settings(max_examples=500, deadline=None)
def test_anything_parses_in_range_or_raises_value_error(value: object) -> None:
    try:
        moment, _ = parse_timestamp(value)
    except ValueError:
        return
    assert EARLIEST <= moment < LATEST


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_epoch_seconds_is_finite_and_in_range_or_a_value_error(value: float) -> None:
    try:
        seconds, _ = epoch_seconds(value)
    except ValueError:
        return
    assert 0 <= seconds < LATEST.timestamp()
