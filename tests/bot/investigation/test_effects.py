"""Sizes of change in doublings (``bot.investigation.effects``)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from bot.investigation.effects import SHARE_FLOOR, code_path_effect, share_effect
from tests.bot.investigation.test_signals import code_path
from tools.records import LogLevel


def test_a_share_that_fell_to_zero_is_measured_from_the_floor_not_infinite() -> None:
    assert share_effect(0.5, 0.0) == pytest.approx(math.log2((0.5 + SHARE_FLOOR) / SHARE_FLOOR))
    assert math.isfinite(share_effect(1.0, 0.0))


def test_a_share_effect_is_the_same_up_or_down_and_zero_when_unchanged() -> None:
    assert share_effect(0.1, 0.8) == pytest.approx(share_effect(0.8, 0.1))
    assert share_effect(0.3, 0.3) == 0.0


def test_the_code_path_effect_is_the_doublings_between_the_two_shares() -> None:
    vanished = code_path("vanished", LogLevel.INFO, "Query route by id <*>")
    assert code_path_effect(vanished) == pytest.approx(math.log2((29 / 40 + 0.05) / 0.05))
    appeared = code_path("appeared", LogLevel.ERROR, "boom <*>", normal=(0, 40), incident=(29, 40))
    assert code_path_effect(appeared) == pytest.approx(code_path_effect(vanished))


def test_the_code_path_effect_is_measured_since_the_change_began() -> None:
    """11 of 26 incident spans still wrote the line, then none did: it stopped, fully."""
    late = replace(
        code_path("vanished", LogLevel.INFO, "Query <*>", incident=(11, 26)), since_spans=15
    )
    assert late.share_since == 0.0
    stopped = code_path("vanished", LogLevel.INFO, "Query <*>", incident=(0, 26))
    assert code_path_effect(late) == pytest.approx(code_path_effect(stopped))
    assert code_path_effect(replace(late, since_spans=0)) < code_path_effect(stopped)
