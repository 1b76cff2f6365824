"""How a change is put in words: in the direction it went, never "up -1%"."""

from __future__ import annotations

import pytest

from tools.formatting import moved


@pytest.mark.parametrize(
    ("direction", "before", "sustained", "peak", "value", "words"),
    [
        ("up", 0.10, 0.44, 0.50, 0.44, "340%"),  # the sustained level when it moved that way
        ("up", 0.10, 0.099, 0.50, 0.50, "400%"),  # else the peak: never "up -1%"
        ("down", 0.50, 0.20, 0.10, 0.20, "60%"),
        ("up", 0.0045, 20.0, 30.0, 20.0, "×4444"),
        ("up", 1.0, 1.004, 1.2, 1.004, "<1%"),
        ("up", 0.0, 3.0, 4.0, 3.0, "from zero"),
    ],
)
def test_a_change_is_told_in_the_direction_it_went(
    direction: str, before: float, sustained: float, peak: float, value: float, words: str
) -> None:
    assert moved(direction, before, sustained, peak) == (value, words)
    assert "-" not in words
