"""Bad input to the comparison with normal (issue 11): a ranking from what there is, and a report
that says what could not be compared.

A reference period missing, shorter than the incident or itself faulty; services absent from
it; clocks of logs and traces that disagree; an alert without a service label; every source
failing.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from bot.config import load_settings
from bot.investigation.engine import investigate
from bot.investigation.report import Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import ReferenceSources
from bot.investigation.sources import bundle_sources
from tests.bundles import T0, iso, small_incident
from tests.reference_bundles import REFERENCE, chronic_incident
from tools.backends import LogHistogram, LogPage, LogQuery, QueryInfo, TraceQuery
from tools.errors import BackendError
from tools.evidence import TimeWindow
from tools.records import Change, MetricSeries, Span

HOURS_EARLIER = timedelta(hours=2)


async def _investigate(path: Path, **request: object) -> Report:
    sources = await bundle_sources(path, load_settings())
    alert = request.pop("alert", sources.alert)
    return await investigate(
        InvestigationRequest(alert=alert, **request),
        sources.deps,
        sources.window,
        source_warnings=sources.bundle.warnings,
        references=ReferenceSources(stored=sources.bundle.reference_window),
    )


def _shifted_copy(source: Path, target: Path, by: timedelta) -> None:
    """``source``'s logs, metrics and traces, every timestamp moved by ``by``."""
    target.mkdir(parents=True)
    with (source / "logs.jsonl").open() as rows, (target / "logs.jsonl").open("w") as out:
        for line in rows:
            row = json.loads(line)
            row["ts"] = iso(datetime.fromisoformat(row["ts"].replace("Z", "+00:00")) + by)
            out.write(json.dumps(row) + "\n")
    with (source / "traces.jsonl").open() as rows, (target / "traces.jsonl").open("w") as out:
        for line in rows:
            row = json.loads(line)
            row["start"] = row["start"] + by.total_seconds()
            out.write(json.dumps(row) + "\n")
    with (source / "metrics.csv").open() as rows, (target / "metrics.csv").open("w") as out:
        reader = csv.reader(rows)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(next(reader))
        for row in reader:
            moment = datetime.fromisoformat(row[0].replace("Z", "+00:00")) + by
            writer.writerow([iso(moment), *row[1:]])


async def test_without_a_reference_the_minutes_before_are_normal(tmp_path: Path) -> None:
    path = chronic_incident(tmp_path / "b", reference=False)
    report = await _investigate(path)
    assert report.reference is None
    assert report.candidates, "a ranking from the minutes before the incident"
    assert report.candidates[0].service == "cache"  # the change the window itself shows


async def test_services_absent_from_the_reference_are_compared_with_the_minutes_before(
    tmp_path: Path,
) -> None:
    report = await _investigate(chronic_incident(tmp_path / "b"))
    assert report.reference is not None
    absent = [w for w in report.warnings if "cache" in w and "before the incident" in w]
    assert absent, report.warnings
    assert {c.service for c in report.candidates[:2]} == {"api", "cache"}


async def test_a_reference_shorter_than_the_incident_is_used_and_said(tmp_path: Path) -> None:
    path = chronic_incident(tmp_path / "b")
    short = TimeWindow(start=REFERENCE.start, end=REFERENCE.start + timedelta(minutes=10))
    report = await _investigate(path, reference=short)
    assert report.reference == short
    assert any("shorter than the incident" in w for w in report.warnings), report.warnings
    assert report.candidates[0].service in {"api", "cache"}


async def test_a_faulty_reference_is_not_normal_for_the_services_it_caught(
    tmp_path: Path,
) -> None:
    """The reference period is this same incident two hours earlier (api failing for its last
    20 minutes); the minutes before this incident are healthier for api, so they are its
    baseline, and the report says why."""
    path = small_incident(tmp_path / "b")
    _shifted_copy(path, path / "reference", -HOURS_EARLIER)
    (path / "reference" / "manifest.json").write_text(
        json.dumps(
            {
                "format": "rcabot-bundle",
                "version": 1,
                "window": {
                    "start": iso(T0 - HOURS_EARLIER),
                    "end": iso(T0 - HOURS_EARLIER + timedelta(minutes=60)),
                },
            }
        )
    )
    report = await _investigate(path)
    assert report.reference is not None
    unhealthy = [w for w in report.warnings if "more errors" in w and "api" in w]
    assert unhealthy, report.warnings
    assert report.candidates[0].service == "api"


async def test_logs_and_traces_whose_clocks_disagree_still_agree_on_the_cause(
    tmp_path: Path,
) -> None:
    path = small_incident(tmp_path / "b")
    skewed = tmp_path / "skewed"
    shutil.copytree(path, skewed)
    with (path / "logs.jsonl").open() as rows, (skewed / "logs.jsonl").open("w") as out:
        for line in rows:  # the log shipper's clock runs 40 s ahead of the tracer's
            row = json.loads(line)
            moment = datetime.fromisoformat(row["ts"].replace("Z", "+00:00"))
            row["ts"] = iso(moment + timedelta(seconds=40))
            out.write(json.dumps(row) + "\n")
    report = await _investigate(skewed)
    assert report.candidates[0].service == "api"
    start = datetime.fromisoformat(report.incident_start)
    assert abs(start - (T0 + timedelta(minutes=40))) <= timedelta(minutes=2)


async def test_an_alert_without_a_service_label_is_still_investigated(tmp_path: Path) -> None:
    path = small_incident(tmp_path / "b")
    sources = await bundle_sources(path, load_settings())
    assert sources.alert is not None
    bare = replace(sources.alert, labels=MappingProxyType({"alertname": "HighErrorRate"}))
    assert bare.service is None
    report = await _investigate(path, alert=bare)
    assert "(" not in report.scope  # no service named in the scope
    assert report.candidates[0].service == "api"


class _Down:
    """Every backend at once: each call fails as a real client's error would."""

    name = "down"

    def _fail(self) -> BackendError:
        return BackendError(self.name, "connection refused")

    async def search(self, query: LogQuery) -> LogPage:
        raise self._fail()

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        raise self._fail()

    async def histogram(self, query: LogQuery, interval: timedelta) -> LogHistogram:
        raise self._fail()

    async def signals(self) -> list[str]:
        raise self._fail()

    async def series(self, signal: str, window: TimeWindow, step: timedelta) -> list[MetricSeries]:
        raise self._fail()

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        raise self._fail()

    async def get_trace(self, trace_id: str) -> list[Span]:
        raise self._fail()

    async def changes(self, window: TimeWindow, services: tuple[str, ...] = ()) -> list[Change]:
        raise self._fail()

    def describe(self, *args: object, **kwargs: object) -> QueryInfo:
        return QueryInfo("*", None)

    def trace_link(self, trace_id: str) -> str | None:
        return None


async def test_every_source_failing_gives_a_report_that_says_what_could_not_be_compared(
    tmp_path: Path,
) -> None:
    path = small_incident(tmp_path / "b")
    sources = await bundle_sources(path, load_settings())
    deps = sources.deps
    down = _Down()
    deps.logs, deps.metrics, deps.traces, deps.changes = down, down, down, down
    report = await investigate(InvestigationRequest(alert=sources.alert), deps, sources.window)
    assert report.candidates == []
    telemetry = [s for s in report.sources if s.source != "postmortems"]
    assert {s.source for s in telemetry} == {"logs", "metrics", "traces", "changes"}
    assert not any(s.ok for s in telemetry)
    assert all("connection refused" in s.detail for s in telemetry)
    for source in ("logs", "metrics", "traces", "changes"):
        assert f"{source} could not be read (down: connection refused)" in report.answer
    assert report.dropped_statements == []  # the answer cites the alert
    assert report.incident_start  # still placed: shortly before the alert
