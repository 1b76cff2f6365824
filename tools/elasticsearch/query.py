"""The Elasticsearch query DSL for a :class:`LogQuery`, with the semantics of ``BundleLogs``.

- window: ``range`` with ``gte``/``lt`` (closed-open, like ``TimeWindow``). Bounds are rounded
  *up* to the millisecond, because a ``date`` field holds milliseconds: for a document at ``t``
  (ms), ``start <= t < end`` holds exactly when ``ceil_ms(start) <= t < ceil_ms(end)``.
- services: ``terms`` on the service field.
- min_level: ``terms`` on the level field listing every spelling at or above the level
  (those of :func:`tools.kql.levels_at_least` and every alias ``LogLevel.parse`` knows) in
  lower, upper and title case, since shippers differ (``error``, ``ERROR``, ``Error``) and
  ``keyword`` fields match case-sensitively.
- text: ``match`` with ``operator: and`` on the message field: the words are analysed like the
  message and all must occur; nothing in the text is syntax (unlike ``query_string``, which
  fails on ``a:(b`` and turns ``OR`` into an operator). Text without a word character is no
  condition, as in ``BundleLogs``. One difference remains: Elasticsearch matches whole
  analysed tokens (``time`` does not match ``Timeout``), the bundle matches substrings.
- trace_id: ``term`` on the trace id field.

Everything goes in ``bool.filter``: results are sorted by time, so scores are not needed, and
filters are cacheable. Only aggregations every Elasticsearch 8 has are used (``terms``,
``date_histogram`` without ``time_zone``: buckets are aligned to the epoch in UTC).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.backends import LogQuery, histogram_buckets
from tools.elasticsearch.settings import LogFields
from tools.kql import levels_at_least
from tools.records import SOURCE_FIELDS, LogLevel

# index.max_result_window's default: a search cannot return more hits in one page.
MAX_RESULT_WINDOW = 10_000
# Distinct services one aggregation reports. More would mean the query is far too broad for an
# investigation; the backend logs a warning when services beyond this are left out.
MAX_SERVICES = 1_000
# Fields outside LogFields that a LogRecord carries: ECS names, which `rcabot load` writes.
SPAN_ID_FIELD = "span.id"
INSTANCE_FIELDS = ("service.node.name", "host.name")

Json = dict[str, Any]


def es_time(moment: datetime) -> str:
    """``moment`` rounded up to the millisecond, as ISO 8601 UTC (``2026-03-02T09:00:00.000Z``)."""
    micros = moment.astimezone(UTC).microsecond
    rounded = moment.astimezone(UTC) + timedelta(microseconds=(1000 - micros % 1000) % 1000)
    return rounded.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rounded.microsecond // 1000:03d}Z"


def level_spellings(level: LogLevel) -> list[str]:
    """Level values at or above ``level``, in the cases log shippers write them.

    Every spelling :meth:`LogLevel.parse` reads as ``level`` or above (``err``, ``CRIT``, ``E``
    as well as the KQL list of :func:`tools.kql.levels_at_least`), so a document passes the
    filter exactly when the backend reads its level as high enough.
    """
    names = levels_at_least(level) + [
        alias.lower() for alias, value in LogLevel.spellings().items() if value >= level
    ]
    out: list[str] = []
    for name in names:
        for spelling in (name, name.upper(), name.capitalize()):
            if spelling not in out:
                out.append(spelling)
    return out


def has_words(text: str) -> bool:
    """Whether ``text`` holds a word character, i.e. is a condition at all."""
    return re.search(r"\w", text) is not None


def filters(query: LogQuery, fields: LogFields) -> list[Json]:
    """The conditions of ``query``, as ``bool.filter`` clauses."""
    out: list[Json] = [
        {
            "range": {
                fields.timestamp: {
                    "gte": es_time(query.window.start),
                    "lt": es_time(query.window.end),
                    "format": "strict_date_optional_time",
                }
            }
        }
    ]
    if query.services:
        out.append({"terms": {fields.service: list(query.services)}})
    if query.min_level is not None and query.min_level > LogLevel.TRACE:
        out.append({"terms": {fields.level: level_spellings(query.min_level)}})
    if query.trace_id:
        out.append({"term": {fields.trace_id: query.trace_id}})
    if query.text and has_words(query.text):
        out.append({"match": {fields.message: {"query": query.text, "operator": "and"}}})
    return out


def source_fields(fields: LogFields) -> list[str]:
    """The only ``_source`` fields a search fetches: log documents often carry dozens more."""
    return [
        fields.timestamp,
        fields.service,
        fields.level,
        fields.message,
        fields.trace_id,
        SPAN_ID_FIELD,
        *INSTANCE_FIELDS,
        *SOURCE_FIELDS,
    ]


def search_body(query: LogQuery, fields: LogFields) -> Json:
    """Oldest ``limit`` matching documents, and the exact number of matches."""
    return {
        "query": {"bool": {"filter": filters(query, fields)}},
        "size": min(query.limit, MAX_RESULT_WINDOW),
        "track_total_hits": True,
        # _doc breaks ties between equal timestamps in index order (the order they were shipped)
        "sort": [{fields.timestamp: {"order": "asc"}}, "_doc"],
        "_source": source_fields(fields),
    }


def count_body(query: LogQuery, fields: LogFields) -> Json:
    """Matching documents per service: a ``terms`` aggregation, no hits."""
    return {
        "query": {"bool": {"filter": filters(query, fields)}},
        "size": 0,
        "track_total_hits": False,
        "aggs": {"services": {"terms": {"field": fields.service, "size": MAX_SERVICES}}},
    }


def interval_text(interval: timedelta) -> str:
    """``interval`` as a ``fixed_interval`` (``60s``, ``1500ms``)."""
    ms = interval.total_seconds() * 1000
    if ms <= 0 or ms != math.floor(ms):
        raise ValueError(f"histogram interval must be a positive whole number of ms: {interval}")
    whole = int(ms)
    return f"{whole // 1000}s" if whole % 1000 == 0 else f"{whole}ms"


def histogram_body(
    query: LogQuery, fields: LogFields, interval: timedelta
) -> tuple[Json, datetime, int]:
    """Per service (``terms``), matching documents per bucket (``date_histogram``).

    Returns the body, the first bucket's start and the number of buckets, as
    :func:`tools.backends.histogram_buckets` defines them. Elasticsearch aligns fixed-interval
    buckets to multiples of the interval since the epoch (UTC) too; ``extended_bounds`` with
    ``min_doc_count: 0`` asks for the empty buckets as well.
    """
    start, count = histogram_buckets(query.window, interval)
    first_ms = round(start.timestamp() * 1000)
    width_ms = round(interval.total_seconds() * 1000)
    buckets = {
        "date_histogram": {
            "field": fields.timestamp,
            "fixed_interval": interval_text(interval),
            "min_doc_count": 0,
            "extended_bounds": {"min": first_ms, "max": first_ms + (count - 1) * width_ms},
        }
    }
    body: Json = {
        "query": {"bool": {"filter": filters(query, fields)}},
        "size": 0,
        "track_total_hits": False,
        "aggs": {
            "services": {
                "terms": {"field": fields.service, "size": MAX_SERVICES},
                "aggs": {"buckets": buckets},
            }
        },
    }
    return body, start, count
