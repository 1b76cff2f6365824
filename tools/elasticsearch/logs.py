"""``ElasticsearchLogs``: the :class:`tools.backends.LogsBackend` over an Elasticsearch index.

It answers every query exactly as :class:`tools.bundle.backends.BundleLogs` answers it for the
same records (tests load a bundle into an Elasticsearch-API stand-in and compare), so an
investigation reads the same whether its logs come from a bundle or from production:

- ``search``: oldest first, at most ``limit`` (≤ 10,000, Elasticsearch's max result window),
  ``total`` exact (``track_total_hits``); only the fields a :class:`LogRecord` needs are fetched.
- ``count_by_service``: a ``terms`` aggregation (at most 1,000 services; a warning is logged
  when more matched).
- ``histogram``: ``date_histogram`` per service, buckets as ``histogram_buckets`` defines them.

Reading documents back: a field such as ``service.name`` may be stored as a nested object
(``{"service": {"name": ...}}``) or as a dotted key; both are read. A missing or unrecognised
level reads as INFO (the level filter only matches known spellings, so such a record never
passes ``min_level`` WARN or above, just as an INFO record would not). A missing service reads
as ``"unknown"``, a missing message as ``""``. The instance comes from ECS ``service.node.name``
(written by ``rcabot load``) or ``host.name``; the span id from ``span.id``.

Every request goes through :class:`Resilience` (time limit, retries, circuit breaker), and every
vendor error is mapped to :class:`tools.errors.BackendError` (see ``client.backend_error``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from tools.backends import LogHistogram, LogPage, LogQuery, QueryInfo
from tools.bundle.timestamps import parse_timestamp
from tools.elasticsearch.client import NAME, backend_error, make_client
from tools.elasticsearch.query import (
    INSTANCE_FIELDS,
    MAX_SERVICES,
    SPAN_ID_FIELD,
    Json,
    count_body,
    histogram_body,
    search_body,
)
from tools.elasticsearch.settings import LogsSettings
from tools.errors import BackendError
from tools.kql import kql
from tools.links import Links
from tools.records import LogLevel, LogRecord, log_source
from tools.resilience import Resilience

__all__ = ["ElasticsearchLogs", "make_client"]

log = logging.getLogger(__name__)

UNKNOWN_SERVICE = "unknown"
# Field types that work with the filters and aggregations of tools.elasticsearch.query.
_EXACT_TYPES = {"keyword", "constant_keyword", "wildcard"}
_TEXT_TYPES = {"text", "match_only_text", "keyword", "wildcard"}
_TIME_TYPES = {"date", "date_nanos"}


class ElasticsearchLogs:
    """Logs from the index (or pattern) ``settings.index``, read-only."""

    name = NAME

    def __init__(
        self,
        es: AsyncElasticsearch,
        settings: LogsSettings,
        links: Links,
        resilience: Resilience,
    ) -> None:
        self._es = es
        self._index = settings.index
        self._fields = settings.fields
        self._links = links
        self._resilience = resilience

    # -- the protocol ---------------------------------------------------------------------

    async def search(self, query: LogQuery) -> LogPage:
        body = search_body(query, self._fields)
        answer = await self._search(body, "search")
        hits = _get(answer, "hits", dict, "search")
        total = _total(hits.get("total"))
        docs = _get(hits, "hits", list, "search")
        records = [self._record(hit) for hit in docs]
        if total < len(records):
            raise BackendError(
                NAME, f"unexpected answer to search: {len(records)} hits, total {total}"
            )
        return LogPage(records=records[: query.limit], total=total)

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        answer = await self._search(count_body(query, self._fields), "count by service")
        agg = _get(_get(answer, "aggregations", dict, "count"), "services", dict, "count")
        self._warn_if_cut(agg)
        counts: dict[str, int] = {}
        for bucket in _get(agg, "buckets", list, "count"):
            key, count = _bucket(bucket)
            counts[key] = count
        return counts

    async def histogram(self, query: LogQuery, interval: timedelta) -> LogHistogram:
        body, start, buckets = histogram_body(query, self._fields, interval)
        answer = await self._search(body, "histogram")
        agg = _get(_get(answer, "aggregations", dict, "histogram"), "services", dict, "histogram")
        self._warn_if_cut(agg)
        origin_ms = round(start.timestamp() * 1000)
        width_ms = round(interval.total_seconds() * 1000)
        counts: dict[str, list[int]] = {}
        for service_bucket in _get(agg, "buckets", list, "histogram"):
            service, _ = _bucket(service_bucket)
            row = counts.setdefault(service, [0] * buckets)
            inner = _get(service_bucket, "buckets", dict, "histogram")
            for time_bucket in _get(inner, "buckets", list, "histogram"):
                key, count = _time_bucket(time_bucket)
                slot = (key - origin_ms) // width_ms
                if 0 <= slot < buckets:
                    row[slot] += count
                elif count:
                    raise BackendError(NAME, f"histogram bucket {key} outside the window")
        return LogHistogram(start=start, interval=interval, counts=counts)

    def describe(self, query: LogQuery) -> QueryInfo:
        """KQL (what an engineer types into Kibana, and what the Discover link opens).

        The exact request body is :meth:`dsl`; KQL is the human-readable form of the same
        conditions (the DSL also accepts the other spellings of a level: ``ERROR``, ``err``).
        """
        text = kql(query, self._fields)
        return QueryInfo(text=text, link=self._links.kibana_discover(text, query.window))

    # -- extras ---------------------------------------------------------------------------

    def dsl(self, query: LogQuery) -> Json:
        """The exact ``_search`` body :meth:`search` sends for ``query`` (for tests, debugging)."""
        return search_body(query, self._fields)

    async def check_fields(self) -> list[str]:
        """Problems with the configured index and field names, one sentence each; [] if fine.

        Uses ``_field_caps``: a missing field, or one of a type the queries cannot use (a
        ``text`` service field cannot be filtered exactly), is named with the setting to change.
        """
        fields = self._fields
        wanted = {
            "timestamp": (fields.timestamp, _TIME_TYPES),
            "service": (fields.service, _EXACT_TYPES),
            "level": (fields.level, _EXACT_TYPES),
            "message": (fields.message, _TEXT_TYPES),
            "trace_id": (fields.trace_id, _EXACT_TYPES),
        }
        names = [name for name, _ in wanted.values()]
        answer = await self._call(
            "field caps",
            lambda: self._es.field_caps(
                index=self._index, fields=names, allow_no_indices=True, ignore_unavailable=True
            ),
        )
        if answer.get("indices") == []:
            return [f"index pattern {self._index!r} matches no index; set RCABOT_LOGS__INDEX"]
        caps = _get(answer, "fields", dict, "field caps")
        problems: list[str] = []
        for key, (name, allowed) in wanted.items():
            setting = f"RCABOT_LOGS__FIELDS__{key.upper()}"
            types = caps.get(name)
            if not isinstance(types, dict) or not types:
                problems.append(f"field {name} not found in {self._index}; set {setting}")
                continue
            found = sorted(str(t) for t in types)
            if not set(found) & allowed:
                problems.append(
                    f"field {name} in {self._index} is {'/'.join(found)}, not "
                    f"{' or '.join(sorted(allowed))}; point {setting} at a field of that type "
                    f"(e.g. {name}.keyword)"
                    if key != "timestamp"
                    else f"field {name} in {self._index} is {'/'.join(found)}, not a date; "
                    f"set {setting} to the date field"
                )
        return problems

    # -- plumbing -------------------------------------------------------------------------

    async def _search(self, body: Json, action: str) -> Json:
        # allow_no_indices=False: a pattern that matches no index is a configuration error to
        # report, not "no logs" (which would read as evidence that nothing happened).
        return await self._call(
            action,
            lambda: self._es.search(index=self._index, body=body, allow_no_indices=False),
        )

    async def _call(self, action: str, request: Callable[[], Awaitable[Any]]) -> Json:
        async def once() -> Json:
            try:
                response = await request()
            except (ApiError, TransportError) as exc:
                raise backend_error(exc, index=self._index, action=action) from exc
            body = getattr(response, "body", response)
            if not isinstance(body, dict):
                raise BackendError(
                    NAME, f"unexpected answer to {action}: a JSON {type(body).__name__}"
                )
            return body

        return await self._resilience.call(once)

    def _record(self, hit: Any) -> LogRecord:
        if not isinstance(hit, dict):
            raise BackendError(NAME, "unexpected answer to search: a hit is not an object")
        source = hit.get("_source")
        if not isinstance(source, dict):
            raise BackendError(NAME, "unexpected answer to search: a hit has no _source")
        f = self._fields
        ts = _timestamp(lookup(source, f.timestamp), hit.get("sort"))
        level_text = _text(lookup(source, f.level))
        try:
            level = LogLevel.parse(level_text) if level_text else LogLevel.INFO
        except ValueError:
            level = LogLevel.INFO
        instance = None
        for name in INSTANCE_FIELDS:
            instance = _text(lookup(source, name))
            if instance:
                break
        return LogRecord(
            ts=ts,
            service=_text(lookup(source, f.service)) or UNKNOWN_SERVICE,
            level=level,
            message=_text(lookup(source, f.message)) or "",
            trace_id=_text(lookup(source, f.trace_id)),
            span_id=_text(lookup(source, SPAN_ID_FIELD)),
            instance=instance,
            source=log_source(lambda name: _text(lookup(source, name))),
        )

    def _warn_if_cut(self, agg: Mapping[str, Any]) -> None:
        other = agg.get("sum_other_doc_count")
        if isinstance(other, int) and other > 0:
            log.warning(
                "%s: more than %d services matched in %s; %d records of the rest are not counted",
                NAME,
                MAX_SERVICES,
                self._index,
                other,
            )


def lookup(source: Mapping[str, Any], path: str) -> Any:
    """``source[path]`` for a dotted ``path``, whether stored nested, dotted or mixed.

    ``service.name`` is found in ``{"service": {"name": x}}``, ``{"service.name": x}`` and
    ``{"service": {"name.x": ...}}``-style mixes, longest key first. ``None`` when absent.
    """
    if path in source:
        return source[path]
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        inner = source.get(".".join(parts[:cut]))
        if isinstance(inner, Mapping):
            found = lookup(inner, ".".join(parts[cut:]))
            if found is not None:
                return found
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, list):  # a multi-valued field: take the first value
        value = value[0] if value else None
    if value is None or isinstance(value, dict | list) or value == "":
        return None
    return str(value)


def _timestamp(value: Any, sort: Any) -> datetime:
    """The document's time: its ``_source`` value at full precision, else the sort value (ms)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        try:
            return parse_timestamp(value)[0]
        except ValueError:
            try:  # Elasticsearch reads an ISO time without an offset as UTC
                return datetime.fromisoformat(value).replace(tzinfo=UTC)
            except ValueError:
                pass
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)  # a date field's numbers are ms
    if isinstance(sort, list) and sort and isinstance(sort[0], int | float):
        return datetime.fromtimestamp(sort[0] / 1000, tz=UTC)
    raise BackendError(NAME, f"unexpected answer to search: a hit has no readable time {value!r}")


def _total(total: Any) -> int:
    if isinstance(total, dict):
        total = total.get("value")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    raise BackendError(NAME, f"unexpected answer to search: hits.total is {total!r}")


def _get(obj: Mapping[str, Any], key: str, kind: type, action: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind):
        raise BackendError(
            NAME, f"unexpected answer to {action}: {key!r} is missing or not a {kind.__name__}"
        )
    return value


def _bucket(bucket: Any) -> tuple[str, int]:
    if isinstance(bucket, dict):
        key, count = bucket.get("key"), bucket.get("doc_count")
        if key is not None and isinstance(count, int):
            return str(key), count
    raise BackendError(NAME, f"unexpected aggregation bucket {bucket!r:.200}")


def _time_bucket(bucket: Any) -> tuple[int, int]:
    if isinstance(bucket, dict):
        key, count = bucket.get("key"), bucket.get("doc_count")
        if isinstance(key, int | float) and isinstance(count, int):
            return int(key), count
    raise BackendError(NAME, f"unexpected histogram bucket {bucket!r:.200}")
