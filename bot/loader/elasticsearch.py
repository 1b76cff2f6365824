"""Bulk-index a bundle's log records into Elasticsearch, the way the logs backend reads them.

Documents are ECS-shaped nested objects built from the configured field names
(``service.name`` → ``{"service": {"name": ...}}``), plus ``span.id``, ``service.node.name``
(the instance) and ``log.logger`` (the statement that wrote the line), which
:class:`tools.elasticsearch.logs.ElasticsearchLogs` reads back. Levels are written normalised
(``error``, ``warn``), timestamps as ISO 8601 UTC with microseconds.

The index is created, when absent, with an explicit mapping (``date`` timestamp, ``keyword``
service, level and ids, ``text`` message) rather than left to dynamic mapping, which would make
``service.name`` a ``text`` field that ``terms`` filters cannot match exactly. An existing index
is used as it is. Documents are sent with the ``create`` op type, which also works when the name
belongs to a data stream (an index template that creates data streams only, e.g. ``logs-*-*``
in a default Elasticsearch 8, makes creating a plain index fail; the loader then lets the first
bulk request create the data stream from that template).

This module takes a plain, writable client: it is the only code in rcabot that writes to
Elasticsearch (the investigation's client refuses writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, TransportError
from elasticsearch.helpers import async_bulk

from tools.elasticsearch.client import backend_error, error_reason, error_types
from tools.elasticsearch.query import INSTANCE_FIELDS, SPAN_ID_FIELD
from tools.elasticsearch.settings import LogFields
from tools.errors import BackendError, ConfigError
from tools.records import LogRecord

NAME = "elasticsearch"
INSTANCE_FIELD = INSTANCE_FIELDS[0]  # ECS service.node.name
SOURCE_FIELD = "log.logger"  # ECS; read back (with log.origin.*) by tools.records.log_source


def field_types(fields: LogFields) -> dict[str, str]:
    """Dotted field name → mapping type, for every field a loaded document has.

    Raises :class:`ConfigError` when two record attributes would share one field.
    """
    pairs = [
        (fields.timestamp, "date"),
        (fields.service, "keyword"),
        (fields.level, "keyword"),
        (fields.message, "text"),
        (fields.trace_id, "keyword"),
        (SPAN_ID_FIELD, "keyword"),
        (INSTANCE_FIELD, "keyword"),
        (SOURCE_FIELD, "keyword"),
    ]
    names = [name for name, _ in pairs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigError(
            f"log field {', '.join(twice)} is used for two things; change RCABOT_LOGS__FIELDS__*"
        )
    return dict(pairs)


def _place(tree: dict[str, Any], dotted: str, value: Any, *, mapping: bool) -> None:
    """Put ``value`` at ``dotted`` in nested dicts (``properties`` levels for a mapping)."""
    parts = dotted.split(".")
    node = tree
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {"properties": {}} if mapping else {})
        inner = child.get("properties") if mapping and isinstance(child, dict) else child
        if not isinstance(inner, dict) or (mapping and "type" in child):
            raise ConfigError(
                f"log field {dotted!r} conflicts with field {'.'.join(parts[: i + 1])!r}: one "
                "is inside the other; change RCABOT_LOGS__FIELDS__*"
            )
        node = inner
    if parts[-1] in node:
        raise ConfigError(
            f"log field {dotted!r} is used twice or contains another field; "
            "change RCABOT_LOGS__FIELDS__*"
        )
    node[parts[-1]] = value


def index_mapping(fields: LogFields) -> dict[str, Any]:
    """The explicit mapping of a loaded index (``properties`` nested like the documents)."""
    properties: dict[str, Any] = {}
    for name, kind in field_types(fields).items():
        _place(properties, name, {"type": kind}, mapping=True)
    return {"properties": properties}


def document(record: LogRecord, fields: LogFields) -> dict[str, Any]:
    """``record`` as an ECS-style document with nested objects."""
    stamp = record.ts.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    values = {
        fields.timestamp: stamp,
        fields.service: record.service,
        fields.level: record.level.label,
        fields.message: record.message,
        fields.trace_id: record.trace_id,
        SPAN_ID_FIELD: record.span_id,
        INSTANCE_FIELD: record.instance,
        SOURCE_FIELD: record.source,
    }
    doc: dict[str, Any] = {}
    for name, value in values.items():
        if value is not None:
            _place(doc, name, value, mapping=False)
    return doc


# Bulk bodies stay under 1 MiB: aiohttp (the async client's transport) sends a larger raw body in
# one blocking write, stalling the event loop (and warns about it).
MAX_CHUNK_BYTES = 900 * 1024


async def load_logs(
    es: AsyncElasticsearch,
    records: list[LogRecord],
    index: str,
    fields: LogFields,
    *,
    chunk_size: int = 2000,
) -> int:
    """Index ``records`` into ``index`` (created if absent), refresh it, return the count.

    Raises :class:`BackendError` naming the index when Elasticsearch refuses; records of
    chunks sent before a failure stay indexed (re-loading adds them again: use a new index).
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    mapping = index_mapping(fields)  # also checks the field names before anything is sent
    try:
        if not await es.indices.exists(index=index):
            await _create(es, index, mapping)
        loaded = 0
        if records:
            loaded, errors = await async_bulk(
                es,
                _actions(records, index, fields),
                chunk_size=chunk_size,
                max_chunk_bytes=MAX_CHUNK_BYTES,
                raise_on_error=False,
            )
            if isinstance(errors, list) and errors:
                raise BackendError(
                    NAME,
                    f"{len(errors)} of {len(records)} log records were rejected by index "
                    f"{index!r}; first: {_bulk_reason(errors[0])}",
                )
        await es.indices.refresh(index=index)
    except (ApiError, TransportError) as exc:
        raise backend_error(exc, index=index, action="loading logs") from exc
    return loaded


async def _create(es: AsyncElasticsearch, index: str, mapping: dict[str, Any]) -> None:
    try:
        await es.indices.create(index=index, mappings=mapping)
    except ApiError as exc:
        kinds = error_types(exc.body)
        if "resource_already_exists_exception" in kinds:
            return  # created meanwhile by another loader: use it
        if "data stream" in error_reason(exc.body, exc.message).lower():
            return  # a data-stream template owns the name; the bulk `create` makes the stream
        raise


def _actions(records: list[LogRecord], index: str, fields: LogFields) -> Iterator[dict[str, Any]]:
    for record in records:
        yield {"_op_type": "create", "_index": index, "_source": document(record, fields)}


def _bulk_reason(item: Any) -> str:
    """The reason of one failed bulk item (``{"create": {"status": 400, "error": {...}}}``)."""
    if isinstance(item, dict) and item:
        result = next(iter(item.values()))
        if isinstance(result, dict):
            status = result.get("status")
            reason = error_reason({"error": result.get("error")}, str(result.get("error")))
            return f"HTTP {status}: {reason}"
    return repr(item)[:300]
