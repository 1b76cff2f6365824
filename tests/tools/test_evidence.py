from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from tests.bundles import T0
from tools.evidence import Evidence, EvidenceDraft, Source, TimeWindow, clip


def test_window_rejects_end_before_start() -> None:
    with pytest.raises(ValidationError, match="is not after start"):
        TimeWindow(start=T0, end=T0 - timedelta(seconds=1))


def test_window_rejects_naive_timestamps() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        TimeWindow(start=datetime(2026, 1, 1), end=datetime(2026, 1, 2))


def test_window_split_at_inside_and_outside() -> None:
    window = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
    before, after = window.split(T0 + timedelta(minutes=40))
    assert before is not None and after is not None
    assert before.duration == timedelta(minutes=40)
    assert after.duration == timedelta(minutes=20)
    assert window.split(T0 - timedelta(minutes=1)) == (None, window)


def test_number_keeps_fields_and_validates_id() -> None:
    draft = EvidenceDraft(key="k", source=Source.LOGS, title="t", summary="s", query="q")
    item = Evidence.number(draft, 3)
    assert item.id == "E3"
    assert item.key == "k"
    with pytest.raises(ValidationError):
        Evidence(id="X1", **draft.model_dump())


def test_clip_marks_the_cut() -> None:
    assert clip("a" * 10, 5) == "aaaa…"
    assert clip("  short  ") == "short"
