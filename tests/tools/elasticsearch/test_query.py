"""The query DSL built for a LogQuery (no server needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tools.backends import LogQuery, histogram_buckets
from tools.elasticsearch.query import (
    MAX_RESULT_WINDOW,
    count_body,
    es_time,
    filters,
    histogram_body,
    interval_text,
    level_spellings,
    search_body,
)
from tools.elasticsearch.settings import LogFields
from tools.evidence import TimeWindow
from tools.records import LogLevel

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
FIELDS = LogFields()


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (T0, "2026-03-02T09:00:00.000Z"),
        (T0 + timedelta(microseconds=1), "2026-03-02T09:00:00.001Z"),  # rounded up
        (T0 + timedelta(milliseconds=999), "2026-03-02T09:00:00.999Z"),
        (T0 + timedelta(microseconds=999_001), "2026-03-02T09:00:01.000Z"),
    ],
)
def test_es_time_rounds_up_to_the_millisecond(moment: datetime, text: str) -> None:
    assert es_time(moment) == text


def test_level_spellings_are_what_the_parser_reads_as_high_enough() -> None:
    warn = level_spellings(LogLevel.WARN)
    assert {"warn", "WARN", "Warn", "warning", "WARNING", "error", "ERROR", "fatal"} <= set(warn)
    assert {"critical", "CRITICAL", "err", "CRIT", "E", "w"} <= set(warn)
    assert not {"info", "INFO", "debug", "notice", "I"} & set(warn)
    for level in LogLevel:
        assert all(LogLevel.parse(s) >= level for s in level_spellings(level))
    assert {s.lower() for s in level_spellings(LogLevel.FATAL)} == {
        "fatal", "critical", "crit", "emerg", "alert", "f",
    }  # fmt: skip


def test_filters_for_a_full_query() -> None:
    query = LogQuery(
        window=WINDOW,
        services=("api", "web"),
        min_level=LogLevel.ERROR,
        text='pool "timeout" a:(b',
        trace_id="abc123",
    )
    clauses = filters(query, FIELDS)
    assert clauses[0] == {
        "range": {
            "@timestamp": {
                "gte": "2026-03-02T09:00:00.000Z",
                "lt": "2026-03-02T10:00:00.000Z",
                "format": "strict_date_optional_time",
            }
        }
    }
    assert {"terms": {"service.name": ["api", "web"]}} in clauses
    assert {"term": {"trace.id": "abc123"}} in clauses
    assert {"match": {"message": {"query": 'pool "timeout" a:(b', "operator": "and"}}} in clauses
    levels = next(c["terms"]["log.level"] for c in clauses if "log.level" in c.get("terms", {}))
    assert "ERROR" in levels and "warn" not in levels


@pytest.mark.parametrize("text", ["*", " :( ", '"', ""])
def test_text_without_words_is_no_condition(text: str) -> None:
    clauses = filters(LogQuery(window=WINDOW, text=text), FIELDS)
    assert len(clauses) == 1  # only the time range, as BundleLogs ignores it


def test_min_level_trace_is_no_condition() -> None:
    assert len(filters(LogQuery(window=WINDOW, min_level=LogLevel.TRACE), FIELDS)) == 1


def test_free_text_is_never_query_string_syntax() -> None:
    query = LogQuery(window=WINDOW, text="a OR b AND c:* (d")
    for body in (search_body(query, FIELDS), count_body(query, FIELDS)):
        dumped = json.dumps(body)
        assert "query_string" not in dumped
        assert "simple_query_string" not in dumped


def test_search_body_sorts_oldest_first_caps_size_and_counts_exactly() -> None:
    body = search_body(LogQuery(window=WINDOW, limit=MAX_RESULT_WINDOW), FIELDS)
    assert body["size"] == MAX_RESULT_WINDOW
    assert body["track_total_hits"] is True
    assert body["sort"][0] == {"@timestamp": {"order": "asc"}}
    assert "span.id" in body["_source"] and "message" in body["_source"]


def test_custom_field_names_are_used() -> None:
    fields = LogFields(timestamp="ts", service="svc", level="lvl", message="msg", trace_id="tid")
    query = LogQuery(
        window=WINDOW, services=("a",), min_level=LogLevel.WARN, text="x", trace_id="t"
    )
    dumped = json.dumps(search_body(query, fields))
    for name in ('"ts"', '"svc"', '"lvl"', '"msg"', '"tid"'):
        assert name in dumped
    for default in ("@timestamp", "service.name", "log.level", "trace.id"):
        assert default not in dumped


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (timedelta(minutes=1), "60s"),
        (timedelta(seconds=90), "90s"),
        (timedelta(milliseconds=1500), "1500ms"),
        (timedelta(hours=1), "3600s"),
    ],
)
def test_interval_text(interval: timedelta, text: str) -> None:
    assert interval_text(interval) == text


@pytest.mark.parametrize("interval", [timedelta(0), timedelta(microseconds=1500)])
def test_bad_intervals_are_refused(interval: timedelta) -> None:
    with pytest.raises(ValueError, match="interval"):
        histogram_body(LogQuery(window=WINDOW), FIELDS, interval)


def test_histogram_bounds_match_histogram_buckets() -> None:
    window = TimeWindow(start=T0 + timedelta(seconds=50), end=T0 + timedelta(minutes=10, seconds=1))
    interval = timedelta(minutes=3)
    body, start, count = histogram_body(LogQuery(window=window), FIELDS, interval)
    assert (start, count) == histogram_buckets(window, interval)
    hist = body["aggs"]["services"]["aggs"]["buckets"]["date_histogram"]
    assert hist["min_doc_count"] == 0
    assert hist["extended_bounds"] == {
        "min": int(start.timestamp() * 1000),
        "max": int((start + (count - 1) * interval).timestamp() * 1000),
    }
    assert "time_zone" not in hist  # the stand-in ignores it; UTC epoch alignment is assumed
