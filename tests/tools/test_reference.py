"""The warning lines that say where a reference period fell short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tools.evidence import TimeWindow
from tools.reference import MAX_NAMED, fallback_warning, unhealthy_warning, window_text

REFERENCE = TimeWindow(
    start=datetime(2026, 3, 2, 6, 0, tzinfo=UTC), end=datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
)


def test_no_unhealthy_service_is_no_warning() -> None:
    assert unhealthy_warning("traces", REFERENCE, []) == []
    assert unhealthy_warning("log lines", REFERENCE, set()) == []


def test_the_unhealthy_warning_names_the_services_their_count_and_the_reference() -> None:
    (line,) = unhealthy_warning("log lines", REFERENCE, {"web", "api"})
    assert line.startswith(f"reference {window_text(REFERENCE)} shows more errors")
    assert "in its log lines" in line
    assert "for 2 service(s) (api, web)" in line  # sorted
    assert "compared with the part of the window before the incident" in line


def test_the_unhealthy_warning_names_at_most_a_few_services() -> None:
    services = [f"svc{i:02d}" for i in range(MAX_NAMED + 3)]
    (line,) = unhealthy_warning("traces", REFERENCE, services)
    assert f"for {MAX_NAMED + 3} service(s)" in line
    assert all(s in line for s in services[:MAX_NAMED])
    assert not any(s in line for s in services[MAX_NAMED:])
    assert f"{services[MAX_NAMED - 1]} …)" in line  # says there are more


def test_the_unhealthy_warning_differs_from_the_missing_one() -> None:
    (unhealthy,) = unhealthy_warning("traces", REFERENCE, ["api"])
    (missing,) = fallback_warning("traces", REFERENCE, ["api"], 3)
    assert "has no traces" in missing and "has no traces" not in unhealthy
    assert "shows more errors" in unhealthy and "shows more errors" not in missing


def test_window_text_is_iso_8601() -> None:
    window = TimeWindow(start=REFERENCE.start, end=REFERENCE.start + timedelta(minutes=30))
    assert window_text(window) == "2026-03-02T06:00:00+00:00..2026-03-02T06:30:00+00:00"
