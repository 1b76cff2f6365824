"""How a change is put in words: in the direction it went, never "up -1%"."""

from __future__ import annotations

import pytest

from tools.formatting import fmt_value, moved


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


@pytest.mark.parametrize(
    ("metric", "value", "shown"),
    [
        ("jvm_threads_live_threads", 4096.0, "4,096"),  # not 4.1e+03
        ("jvm_threads_live_threads", 163.0, "163"),
        ("process_open_fds", 1_048_576.0, "1,048,576"),
        ("cpu_usage_cores", 0.0126, "0.0126"),
        ("cpu_usage_ratio", 0.994, "99.4%"),
        ("latency_p99_seconds", 2.42, "2.42 s"),
        ("memory_usage_bytes", 51.5 * 2**20, "51.5 MiB"),
    ],
)
def test_a_value_is_shown_in_its_unit_and_a_large_count_whole(
    metric: str, value: float, shown: str
) -> None:
    assert fmt_value(metric, value) == shown
