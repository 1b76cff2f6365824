"""Which healthy period stands for normal behaviour, resolved once in the scope: the request's
own, else the data's (a bundle's ``reference/``), else the live offset; else none."""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType

import pytest
from pydantic import ValidationError

from bot.investigation.report import REPORT_SCHEMA_VERSION, Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import (
    MAX_REFERENCE,
    NO_REFERENCE,
    ReferenceSources,
    Scope,
    incident_part,
    resolve_reference,
    resolve_scope,
)
from tests.bundles import T0
from tools.errors import InvestigationError
from tools.evidence import TimeWindow
from tools.records import Alert
from tools.settings import InvestigationSettings
from tools.text import TextPipeline

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
EXPLICIT = TimeWindow(start=T0 - timedelta(hours=5), end=T0 - timedelta(hours=4))
STORED = TimeWindow(start=T0 - timedelta(hours=3), end=T0 - timedelta(hours=2))
DAY = timedelta(hours=24)
EVERY_SOURCE = ReferenceSources(stored=STORED, offset=DAY)


def _request(reference: TimeWindow | None = None) -> InvestigationRequest:
    return InvestigationRequest(service="api", window=WINDOW, reference=reference)


def _scope_reference(
    request: InvestigationRequest, sources: ReferenceSources
) -> tuple[TimeWindow | None, str]:
    scope = resolve_scope(request, None, timedelta(hours=1), TextPipeline(), sources)
    return scope.reference, scope.reference_note


def test_the_request_s_reference_comes_first() -> None:
    assert _scope_reference(_request(EXPLICIT), EVERY_SOURCE) == (EXPLICIT, "")


def test_then_the_bundle_s_reference() -> None:
    assert _scope_reference(_request(), EVERY_SOURCE) == (STORED, "")


def test_then_the_same_window_an_offset_earlier() -> None:
    reference, note = _scope_reference(_request(), ReferenceSources(offset=DAY))
    assert reference == TimeWindow(start=WINDOW.start - DAY, end=WINDOW.end - DAY)
    assert note == ""


def test_else_no_reference_the_minutes_before_are_the_baseline() -> None:
    assert _scope_reference(_request(), NO_REFERENCE) == (None, "")


def test_live_settings_give_the_offset_or_nothing() -> None:
    assert ReferenceSources.live(InvestigationSettings()).offset == DAY  # the default
    hours = InvestigationSettings(reference_offset_hours=168)
    assert ReferenceSources.live(hours).offset == timedelta(days=7)
    assert ReferenceSources.live(InvestigationSettings(reference_offset_hours=None)).offset is None
    for bad in (0, -1, 24 * 8):
        with pytest.raises(ValidationError, match="reference_offset_hours"):
            InvestigationSettings(reference_offset_hours=bad)


def test_a_stored_reference_overlapping_the_window_is_not_used_and_said() -> None:
    overlapping = TimeWindow(start=WINDOW.start - timedelta(minutes=30), end=WINDOW.end)
    reference, note = resolve_reference(
        _request(), WINDOW, ReferenceSources(stored=overlapping, offset=DAY)
    )
    assert reference is None  # not the offset either: the data's own period was unusable
    assert "bundle's reference period" in note and "overlaps" in note


def test_an_offset_shorter_than_the_window_gives_no_reference_and_says_why() -> None:
    reference, note = resolve_reference(
        _request(), WINDOW, ReferenceSources(offset=timedelta(minutes=30))
    )
    assert reference is None
    assert "reference_offset_hours (0.5) is shorter than the investigated window" in note


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (TimeWindow(start=T0 + timedelta(minutes=30), end=T0 + timedelta(hours=2)), "overlaps"),
        (TimeWindow(start=WINDOW.start - timedelta(minutes=1), end=WINDOW.end), "overlaps"),
        (
            TimeWindow(start=T0 - MAX_REFERENCE - timedelta(hours=2), end=T0 - timedelta(hours=1)),
            "at most 168 h",
        ),
    ],
)
def test_a_request_s_unusable_reference_is_an_error(reference: TimeWindow, message: str) -> None:
    with pytest.raises(InvestigationError, match=message):
        _scope_reference(_request(reference), EVERY_SOURCE)


def test_a_reference_touching_the_window_is_fine() -> None:
    before = TimeWindow(start=WINDOW.start - WINDOW.duration, end=WINDOW.start)
    assert _scope_reference(_request(before), NO_REFERENCE) == (before, "")


def test_the_report_says_which_normal_was_used_compatibly() -> None:
    base = {
        "question": "q",
        "scope": "s",
        "window": WINDOW,
        "incident_start": T0.isoformat(),
        "candidates": [],
        "evidence": [],
        "answer": "",
        "answer_by": "deterministic",
        "sources": [],
    }
    assert Report.model_validate(base).reference is None  # an older report still reads
    report = Report.model_validate({**base, "reference": STORED})
    again = Report.model_validate_json(report.model_dump_json())
    assert again.reference == STORED and again.schema_version == REPORT_SCHEMA_VERSION
    assert "reference" in Report.model_json_schema()["properties"]


ALERT_AT = T0 + timedelta(minutes=50)


def _alerting(reference: TimeWindow | None = None) -> InvestigationRequest:
    alert = Alert(
        name="HighErrorRate",
        status="firing",
        labels=MappingProxyType({"service": "api"}),
        annotations=MappingProxyType({}),
        starts_at=ALERT_AT,
    )
    return InvestigationRequest(alert=alert, window=WINDOW, reference=reference)


def _scope(request: InvestigationRequest, sources: ReferenceSources = NO_REFERENCE) -> Scope:
    return resolve_scope(request, None, timedelta(hours=1), TextPipeline(), sources)


def test_the_incident_part_starts_at_the_alert_or_the_given_start() -> None:
    scope = _scope(_alerting())
    assert incident_part(_alerting(), WINDOW, scope.baseline_end).start == ALERT_AT
    started = InvestigationRequest(window=WINDOW, incident_start=T0 + timedelta(minutes=20))
    assert incident_part(started, WINDOW, T0).start == T0 + timedelta(minutes=20)
    # without either: the baseline's end, as the rest of the scope assumes
    assert incident_part(_request(), WINDOW, T0 + timedelta(minutes=30)).start == (
        T0 + timedelta(minutes=30)
    )


def test_a_stored_reference_in_the_minutes_before_the_alert_is_used() -> None:
    """A healthy period declared just before the incident (Nezha's fault-free phase lies in
    the half hour before some of its faults) is the best normal there is; the window then
    starts where it ends, so the incident's own queries never mix the two periods."""
    early = TimeWindow(start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=20))
    scope = _scope(_alerting(), ReferenceSources(stored=early, offset=DAY))
    assert scope.reference == early and scope.reference_note == ""
    assert scope.window == TimeWindow(start=early.end, end=WINDOW.end)
    assert early.end <= scope.baseline_end < ALERT_AT


def test_a_stored_reference_reaching_the_alert_is_not_used_and_said() -> None:
    late = TimeWindow(start=T0 + timedelta(minutes=30), end=T0 + timedelta(minutes=55))
    scope = _scope(_alerting(), ReferenceSources(stored=late, offset=DAY))
    assert scope.reference is None and scope.window == WINDOW
    assert "bundle's reference period" in scope.reference_note
    assert "overlaps the incident" in scope.reference_note


def test_a_request_s_reference_before_the_alert_is_used_and_one_after_is_an_error() -> None:
    before = TimeWindow(start=T0 - timedelta(minutes=10), end=T0 + timedelta(minutes=15))
    scope = _scope(_alerting(before))
    assert scope.reference == before
    assert scope.window.start == before.end
    after = TimeWindow(start=ALERT_AT, end=ALERT_AT + timedelta(minutes=5))
    with pytest.raises(InvestigationError, match="overlaps the incident"):
        _scope(_alerting(after))


def test_a_reference_after_the_window_leaves_it_whole() -> None:
    later = TimeWindow(start=WINDOW.end, end=WINDOW.end + timedelta(minutes=30))
    scope = _scope(_alerting(), ReferenceSources(stored=later))
    assert scope.reference == later and scope.window == WINDOW
