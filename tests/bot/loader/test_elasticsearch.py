"""The bundle → Elasticsearch loader (documents, mapping, failures), mostly against noida-db.

The round trip through ``ElasticsearchLogs`` is covered in tests/tools/elasticsearch; here: what
is written, and how writing fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import AsyncElasticsearch

from bot.loader.elasticsearch import document, index_mapping, load_logs
from tests.servers import unreachable_url
from tests.tools.elasticsearch.helpers import connect
from tools.backends import LogQuery
from tools.elasticsearch.client import ReadOnlyViolation
from tools.elasticsearch.logs import make_client
from tools.elasticsearch.settings import LogFields, LogsSettings
from tools.errors import BackendError, ConfigError, TransientBackendError
from tools.evidence import TimeWindow
from tools.records import LogLevel, LogRecord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RECORDS = [
    LogRecord(T0, "api", LogLevel.ERROR, "pool timeout", "t1", "s1", "api-7d9c"),
    LogRecord(T0 + timedelta(microseconds=1500), "web", LogLevel.WARN, "slow"),
    LogRecord(T0 + timedelta(seconds=1), "db", LogLevel.INFO, "checkpoint"),
]
CUSTOM = LogFields(timestamp="ts", service="svc", level="severity", message="msg", trace_id="tid")


def test_documents_are_nested_ecs_objects() -> None:
    assert document(RECORDS[0], LogFields()) == {
        "@timestamp": "2026-03-02T09:00:00.000000Z",
        "service": {"name": "api", "node": {"name": "api-7d9c"}},
        "log": {"level": "error"},
        "message": "pool timeout",
        "trace": {"id": "t1"},
        "span": {"id": "s1"},
    }
    assert document(RECORDS[1], CUSTOM) == {
        "ts": "2026-03-02T09:00:00.001500Z",
        "svc": "web",
        "severity": "warn",
        "msg": "slow",
    }


def test_the_mapping_is_explicit_and_nested() -> None:
    props = index_mapping(LogFields())["properties"]
    assert props["@timestamp"] == {"type": "date"}
    assert props["service"]["properties"]["name"] == {"type": "keyword"}
    assert props["service"]["properties"]["node"]["properties"]["name"] == {"type": "keyword"}
    assert props["log"]["properties"]["level"] == {"type": "keyword"}
    assert props["message"] == {"type": "text"}
    assert props["trace"]["properties"]["id"] == {"type": "keyword"}


@pytest.mark.parametrize(
    "fields",
    [
        LogFields(service="service", level="service.level"),  # a field inside a leaf
        LogFields(level="message"),  # the same field twice
        LogFields(message="span"),  # span.id is written too
    ],
)
async def test_conflicting_field_names_fail_before_anything_is_sent(fields: LogFields) -> None:
    es = AsyncElasticsearch(unreachable_url(), max_retries=0)  # nobody there
    try:
        with pytest.raises(ConfigError, match="RCABOT_LOGS__FIELDS"):
            await load_logs(es, RECORDS, "rcabot-never", fields)
    finally:
        await es.close()


@pytest.fixture
async def es(elasticsearch_url: str) -> AsyncIterator[AsyncElasticsearch]:
    client = AsyncElasticsearch(elasticsearch_url, max_retries=0)
    try:
        yield client
    finally:
        await client.close()


@pytest.mark.elasticsearch
async def test_load_creates_the_mapped_index_and_indexes_everything(
    es: AsyncElasticsearch, es_index: str
) -> None:
    assert await load_logs(es, RECORDS, es_index, LogFields(), chunk_size=2) == 3
    mapping = (await es.indices.get_mapping(index=es_index))[es_index]["mappings"]
    assert mapping == index_mapping(LogFields())
    hits = (await es.search(index=es_index, sort=["@timestamp"]))["hits"]["hits"]
    assert [h["_source"] for h in hits] == [document(r, LogFields()) for r in RECORDS]
    # refreshed: searchable at once, and loading again appends to the existing index
    assert await load_logs(es, RECORDS[:1], es_index, LogFields()) == 1
    assert (await es.count(index=es_index))["count"] == 4


@pytest.mark.elasticsearch
async def test_megabytes_of_logs_load_in_bodies_small_enough_for_the_event_loop(
    es: AsyncElasticsearch, es_index: str
) -> None:
    # 3 MB of records in one chunk_size: without a byte cap aiohttp warns (an error here)
    big = [
        LogRecord(T0 + timedelta(seconds=i), "api", LogLevel.ERROR, f"{i} " + "x" * 1000)
        for i in range(3000)
    ]
    assert await load_logs(es, big, es_index, LogFields(), chunk_size=5000) == 3000
    assert (await es.count(index=es_index))["count"] == 3000


@pytest.mark.elasticsearch
async def test_custom_field_names_round_trip(
    es: AsyncElasticsearch, es_index: str, elasticsearch_url: str
) -> None:
    await load_logs(es, RECORDS, es_index, CUSTOM)
    settings = LogsSettings(url=elasticsearch_url, index=es_index, fields=CUSTOM)
    async with connect(settings) as logs:
        window = TimeWindow(start=T0, end=T0 + timedelta(minutes=1))
        page = await logs.search(LogQuery(window=window))
        assert page.records == RECORDS  # microseconds kept: the time is read from _source
        assert await logs.check_fields() == []
        warn = await logs.count_by_service(LogQuery(window=window, min_level=LogLevel.WARN))
        assert warn == {"api": 1, "web": 1}


@pytest.mark.elasticsearch
async def test_no_records_still_creates_the_index(es: AsyncElasticsearch, es_index: str) -> None:
    assert await load_logs(es, [], es_index, LogFields()) == 0
    assert await es.indices.exists(index=es_index)


@pytest.mark.elasticsearch
async def test_rejected_documents_are_a_backend_error(
    es: AsyncElasticsearch, es_index: str
) -> None:
    await es.indices.create(index=es_index, mappings={"properties": {"message": {"type": "long"}}})
    with pytest.raises(
        BackendError, match=rf"3 of 3 log records were rejected by index .{es_index}"
    ):
        await load_logs(es, RECORDS, es_index, LogFields())


@pytest.mark.elasticsearch
async def test_the_read_only_client_cannot_load(
    es: AsyncElasticsearch, es_index: str, elasticsearch_url: str
) -> None:
    reader = make_client(LogsSettings(url=elasticsearch_url))
    try:
        with pytest.raises(ReadOnlyViolation):
            await load_logs(reader, RECORDS, es_index, LogFields())
    finally:
        await reader.close()
    assert not await es.indices.exists(index=es_index)


async def test_an_unreachable_cluster_is_a_transient_backend_error() -> None:
    es = AsyncElasticsearch(unreachable_url(), max_retries=0)
    try:
        with pytest.raises(TransientBackendError, match="unreachable"):
            await load_logs(es, RECORDS, "rcabot-x", LogFields())
    finally:
        await es.close()


async def test_chunk_size_must_be_positive() -> None:
    es = AsyncElasticsearch("http://127.0.0.1:9", max_retries=0)
    try:
        with pytest.raises(ValueError, match="chunk_size"):
            await load_logs(es, RECORDS, "rcabot-x", LogFields(), chunk_size=0)
    finally:
        await es.close()
