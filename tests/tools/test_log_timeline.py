"""log_timeline over the bundle backend (same protocol as Elasticsearch's date_histogram)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.bundles import T0
from tools.backends import LogHistogram, LogQuery, histogram_buckets
from tools.bundle.backends import BundleLogs
from tools.bundle.reader import load_bundle
from tools.deps import Deps
from tools.elasticsearch.settings import LogFields
from tools.evidence import TimeWindow
from tools.gateway import ToolGateway
from tools.links import Links
from tools.log_timeline import bucket_interval, log_timeline
from tools.records import LogLevel
from tools.result import ToolStatus
from tools.settings import LinksSettings

HOUR = TimeWindow(start=T0, end=T0 + timedelta(hours=1))


@pytest.mark.parametrize(
    ("minutes", "buckets", "expected_s"),
    [(60, 30, 120), (60, 60, 60), (60, 7, 600), (5, 30, 10), (60 * 24 * 30, 10, 86400)],
)
def test_bucket_interval_is_readable_and_bounded(
    minutes: int, buckets: int, expected_s: int
) -> None:
    window = TimeWindow(start=T0, end=T0 + timedelta(minutes=minutes))
    assert bucket_interval(window, buckets) == timedelta(seconds=expected_s)


def test_buckets_are_floored_to_the_interval() -> None:
    window = TimeWindow(start=T0 + timedelta(seconds=70), end=T0 + timedelta(seconds=250))
    start, count = histogram_buckets(window, timedelta(minutes=1))
    assert start == T0 + timedelta(minutes=1)
    assert count == 4  # 09:01, 09:02, 09:03, 09:04 (holds 09:04:10)


async def test_bundle_histogram_counts_each_record_once(small_bundle: Path) -> None:
    logs = BundleLogs(load_bundle(small_bundle), Links(LinksSettings()), LogFields())
    query = LogQuery(window=HOUR, min_level=LogLevel.ERROR)
    histogram = await logs.histogram(query, timedelta(minutes=5))
    assert histogram.buckets == 12
    totals = {service: sum(c) for service, c in histogram.counts.items()}
    assert totals == await logs.count_by_service(query)
    assert histogram.counts["api"][:8] == [0] * 8  # errors start at minute 40
    assert all(c > 0 for c in histogram.counts["api"][8:])


async def test_timeline_finds_when_errors_started(small_bundle: Path) -> None:
    links = Links(LinksSettings(kibana_url="http://kibana:5601"))
    deps = Deps(logs=BundleLogs(load_bundle(small_bundle), links, LogFields()))
    result = await ToolGateway(deps).call(log_timeline, window=HOUR, buckets=12)
    assert result.status is ToolStatus.OK
    assert result.data is not None
    assert result.data.interval == timedelta(minutes=5)
    first = {t.service: t.first_at for t in result.data.services}
    assert first == {"api": T0 + timedelta(minutes=40), "web": T0 + timedelta(minutes=40)}
    api = next(e for e in result.evidence if e.service == "api")
    assert "first at 09:40:00" in api.title
    assert api.query == 'service.name:("api") and log.level:(error or fatal or critical)'
    assert api.link is not None and api.link.startswith("http://kibana:5601/app/discover")


async def test_timeline_of_a_quiet_window_says_so(small_bundle: Path) -> None:
    deps = Deps(logs=BundleLogs(load_bundle(small_bundle), Links(LinksSettings()), LogFields()))
    early = TimeWindow(start=T0, end=T0 + timedelta(minutes=30))
    result = await ToolGateway(deps).call(log_timeline, window=early)
    assert result.status is ToolStatus.OK
    assert result.evidence == []
    assert result.warnings == ["no ERROR+ log lines in the window"]


def test_a_histogram_totals_every_service_per_bucket_even_from_short_rows() -> None:
    histogram = LogHistogram(T0, timedelta(seconds=15), {"api": [1, 0, 2], "web": [3]})
    assert histogram.totals() == [4, 0, 2]
    assert LogHistogram(T0, timedelta(seconds=15), {}).totals() == []
