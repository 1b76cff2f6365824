"""ElasticsearchLogs against the noida-db Elasticsearch-API stand-in.

The key property: for the same records and queries, the Elasticsearch backend answers exactly
what ``BundleLogs`` answers (records loaded with ``rcabot load``'s loader).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from bot.loader.elasticsearch import load_logs
from tests.bundles import T0, small_incident
from tests.tools.elasticsearch.helpers import connect
from tools.backends import LogQuery
from tools.bundle.backends import BundleLogs
from tools.bundle.reader import Bundle, load_bundle
from tools.elasticsearch.logs import ElasticsearchLogs, make_client
from tools.elasticsearch.settings import LogFields, LogsSettings
from tools.errors import BackendError, TransientBackendError
from tools.evidence import TimeWindow
from tools.links import Links
from tools.records import LogLevel, LogRecord
from tools.settings import LinksSettings

pytestmark = pytest.mark.elasticsearch

HOUR = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
LATE = TimeWindow(start=T0 + timedelta(minutes=40), end=T0 + timedelta(hours=1))
AT = T0 + timedelta(minutes=30, milliseconds=250)
TRACE = "0041" + "0002" + "ab" * 12  # a trace of the failing part of small_incident
LINKS = Links(LinksSettings())

# Records beyond small_incident: every level, ids and instance, ms-precision times, and messages
# full of query-language syntax, which must be matched as words.
EXTRA = [
    LogRecord(AT, "db", LogLevel.TRACE, "vacuum tick", instance="db-0", source="db.Vacuum#12"),
    LogRecord(AT, "db", LogLevel.DEBUG, "cache lookup a OR b missed", span_id="s1"),
    LogRecord(AT, "web", LogLevel.FATAL, 'user said "hello world"', trace_id="t-1"),
    LogRecord(AT + timedelta(milliseconds=1), "web", LogLevel.WARN, "glob * pattern key:value"),
    LogRecord(AT + timedelta(milliseconds=2), "api", LogLevel.INFO, "call f(x) failed: [1 TO 2]"),
]


def records_of(bundle: Bundle) -> list[LogRecord]:
    return sorted([*(bundle.logs or []), *EXTRA], key=lambda r: r.ts)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[LogRecord]:
    return records_of(load_bundle(small_incident(tmp_path_factory.mktemp("es") / "bundle")))


@dataclass
class Pair:
    es: ElasticsearchLogs
    bundle: BundleLogs
    index: str


def writer(url: str) -> AsyncElasticsearch:
    """A plain client that may write (the loader's kind), not retrying."""
    return AsyncElasticsearch(url, max_retries=0)


@pytest.fixture
async def pair(
    elasticsearch_url: str, es_index: str, records: list[LogRecord], tmp_path: Path
) -> AsyncIterator[Pair]:
    """The same records behind both backends."""
    es_writer = writer(elasticsearch_url)
    try:
        assert await load_logs(es_writer, records, es_index, LogFields(), chunk_size=100) == len(
            records
        )
    finally:
        await es_writer.close()
    settings = LogsSettings(url=elasticsearch_url, index=es_index + "*")
    bundle = Bundle(tmp_path, {}, records, None, None, None, None, [])
    async with connect(settings) as logs:
        yield Pair(logs, BundleLogs(bundle, LINKS, settings.fields), es_index)


QUERIES = {
    "everything": LogQuery(window=HOUR),
    "oldest 5": LogQuery(window=HOUR, limit=5),
    "limit 0": LogQuery(window=HOUR, limit=0),
    **{f"min {lvl.label}": LogQuery(window=HOUR, min_level=lvl) for lvl in LogLevel},
    "one service": LogQuery(window=HOUR, services=("api",)),
    "two services": LogQuery(window=HOUR, services=("web", "db")),
    "words any case": LogQuery(window=HOUR, text="acquiring CONNECTION"),
    "words": LogQuery(window=HOUR, text="upstream api 502"),
    "trace": LogQuery(window=HOUR, trace_id=TRACE),
    "late": LogQuery(window=LATE),
    "closed-open": LogQuery(
        window=TimeWindow(start=T0 + timedelta(minutes=40), end=T0 + timedelta(minutes=45))
    ),
    "from a ms": LogQuery(window=TimeWindow(start=AT, end=AT + timedelta(milliseconds=2))),
    "after a ms": LogQuery(
        window=TimeWindow(start=AT + timedelta(microseconds=500), end=AT + timedelta(seconds=1))
    ),
    "combined": LogQuery(
        window=LATE,
        services=("api",),
        min_level=LogLevel.ERROR,
        text="timeout",
        limit=7,
    ),
    "unknown service": LogQuery(window=HOUR, services=("no-such-service",)),
    "empty window": LogQuery(
        window=TimeWindow(start=T0 - timedelta(days=1), end=T0 - timedelta(hours=1))
    ),
}


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
async def test_answers_equal_the_bundle_backend(pair: Pair, query: LogQuery) -> None:
    page, expected = await pair.es.search(query), await pair.bundle.search(query)
    assert page.total == expected.total
    assert page.records == expected.records
    assert await pair.es.count_by_service(query) == await pair.bundle.count_by_service(query)
    for interval in (timedelta(minutes=1), timedelta(seconds=90), timedelta(minutes=7)):
        got = await pair.es.histogram(query, interval)
        assert got == await pair.bundle.histogram(query, interval), interval


async def test_the_comparison_is_not_vacuous(pair: Pair) -> None:
    everything = await pair.es.search(QUERIES["everything"])
    assert everything.total > 300 and not everything.truncated
    assert [r.ts for r in everything.records] == sorted(r.ts for r in everything.records)
    oldest = await pair.es.search(QUERIES["oldest 5"])
    assert oldest.truncated and oldest.records == everything.records[:5]
    assert (await pair.es.search(QUERIES["trace"])).total == 2
    assert (
        await pair.es.search(QUERIES["closed-open"])
    ).total == 5 * 3 + 1 + 5 * 4 * 2  # info, one warn, errors
    assert await pair.es.count_by_service(QUERIES["min fatal"]) == {"web": 1}
    extra = (await pair.es.search(QUERIES["from a ms"])).records
    assert extra == [r for r in EXTRA if r.ts < AT + timedelta(milliseconds=2)]
    hist = await pair.es.histogram(QUERIES["late"], timedelta(minutes=7))
    assert hist.start == T0 + timedelta(minutes=35) and hist.buckets == 4
    assert hist.counts["db"] == [2, 7, 7, 4] and hist.counts["api"][0] == 2 + 8


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        ("a OR b", ["cache lookup a OR b missed"]),
        ('"hello', ['user said "hello world"']),
        ("key:value", ["glob * pattern key:value"]),
        ("f(x", ["call f(x) failed: [1 TO 2]"]),
        ("[1 TO 2]", ["call f(x) failed: [1 TO 2]"]),
        ("glob *", ["glob * pattern key:value"]),
        ("lookup:(missed", ["cache lookup a OR b missed"]),
        ("missed NOT", []),
        ("*", None),  # no words: no condition, like the bundle backend
        ("(", None),
        ("\\", None),
    ],
)
async def test_text_is_matched_as_words_not_syntax(
    pair: Pair, text: str, messages: list[str] | None
) -> None:
    window = TimeWindow(start=AT, end=AT + timedelta(seconds=1))
    query = LogQuery(window=window, text=text)
    page = await pair.es.search(query)
    expected = [r.message for r in EXTRA] if messages is None else messages
    assert [r.message for r in page.records] == expected
    assert page.records == (await pair.bundle.search(query)).records


async def test_unknown_service_and_empty_window_are_empty_not_errors(pair: Pair) -> None:
    for name in ("unknown service", "empty window"):
        query = QUERIES[name]
        page = await pair.es.search(query)
        assert (page.total, page.records) == (0, [])
        assert await pair.es.count_by_service(query) == {}
        assert (await pair.es.histogram(query, timedelta(minutes=5))).counts == {}


@pytest.mark.parametrize("index", ["no-such-index", "no-such-pattern-*"])
async def test_unknown_index_is_a_clear_error(elasticsearch_url: str, index: str) -> None:
    settings = LogsSettings(url=elasticsearch_url, index=index)
    async with connect(settings) as logs:
        query = QUERIES["everything"]
        for call in (
            lambda: logs.search(query),
            lambda: logs.count_by_service(query),
            lambda: logs.histogram(query, timedelta(minutes=5)),
        ):
            with pytest.raises(BackendError, match=f"{index}.*RCABOT_LOGS__INDEX") as caught:
                await call()
            assert not isinstance(caught.value, TransientBackendError)
        assert await logs.check_fields() == [
            f"index pattern {index!r} matches no index; set RCABOT_LOGS__INDEX"
        ]


async def test_a_huge_result_set_is_capped_with_an_exact_total(
    elasticsearch_url: str, es_index: str, tmp_path: Path
) -> None:
    count = 10_050  # more than Elasticsearch's max result window and default total tracking
    records = [
        LogRecord(T0 + timedelta(milliseconds=100 * i), f"svc-{i % 3}", LogLevel.INFO, f"m {i}")
        for i in range(count)
    ]
    es_writer = writer(elasticsearch_url)
    try:
        await load_logs(es_writer, records, es_index, LogFields(), chunk_size=5000)
    finally:
        await es_writer.close()
    settings = LogsSettings(url=elasticsearch_url, index=es_index)
    async with connect(settings) as logs:
        page = await logs.search(LogQuery(window=HOUR, limit=10_000))
        assert (len(page.records), page.total) == (10_000, count)
        assert page.records[0] == records[0] and page.records[-1] == records[9_999]
        small = await logs.search(LogQuery(window=HOUR, limit=3, services=("svc-1",)))
        assert (small.records, small.total) == (records[1:10:3], 3350)
        assert await logs.count_by_service(LogQuery(window=HOUR)) == {
            "svc-0": 3350,
            "svc-1": 3350,
            "svc-2": 3350,
        }


async def test_documents_from_other_shippers_are_read(
    elasticsearch_url: str, es_index: str
) -> None:
    """Dotted keys, upper-case and unknown levels, arrays, host.name, epoch-ms times, ECS's
    log.origin."""
    docs: list[dict[str, Any]] = [
        {"@timestamp": "2026-03-02T09:00:01Z", "service.name": "api", "log.level": "ERROR",
         "message": "dotted", "trace.id": "t1", "host": {"name": "node-1"}},
        {"@timestamp": 1772442002000, "service": {"name": "api"}, "log": {"level": "Warning",
         "origin": {"file": {"name": "pay.py", "line": 88}, "function": "charge"}},
         "message": ["first", "second"]},
        {"@timestamp": "2026-03-02T09:00:03.5Z", "service": {"name": "web"},
         "log.level": "verbose", "message": "unknown level"},
        {"@timestamp": "2026-03-02T09:00:04Z", "message": "no service, no level"},
        {"@timestamp": "2026-03-02T09:00:05", "service": {"name": "web"}, "log": {"level": "CRIT"},
         "message": "naive time is UTC", "span": {"id": "s9"}},
    ]  # fmt: skip
    es_writer = writer(elasticsearch_url)
    try:
        await load_logs(es_writer, [], es_index, LogFields())  # creates the mapped index
        for doc in docs:
            await es_writer.index(index=es_index, document=doc)
        await es_writer.indices.refresh(index=es_index)
    finally:
        await es_writer.close()
    settings = LogsSettings(url=elasticsearch_url, index=es_index)
    async with connect(settings) as logs:
        page = await logs.search(LogQuery(window=HOUR))
        assert page.records == [
            LogRecord(T0 + timedelta(seconds=1), "api", LogLevel.ERROR, "dotted", "t1",
                      instance="node-1"),
            LogRecord(T0 + timedelta(seconds=2), "api", LogLevel.WARN, "first",
                      source="pay.py:88 charge"),
            LogRecord(T0 + timedelta(seconds=3.5), "web", LogLevel.INFO, "unknown level"),
            LogRecord(T0 + timedelta(seconds=4), "unknown", LogLevel.INFO, "no service, no level"),
            LogRecord(T0 + timedelta(seconds=5), "web", LogLevel.FATAL, "naive time is UTC",
                      span_id="s9"),
        ]  # fmt: skip
        warn = await logs.search(LogQuery(window=HOUR, min_level=LogLevel.WARN))
        # "ERROR", "Warning" and "CRIT" pass; "verbose" read as INFO does not
        assert [r.message for r in warn.records] == ["dotted", "first", "naive time is UTC"]


async def test_check_fields(pair: Pair, elasticsearch_url: str) -> None:
    assert await pair.es.check_fields() == []
    wrong = LogsSettings(
        url=elasticsearch_url,
        index=pair.index,
        fields=LogFields(service="svc", timestamp="message", message="log.level"),
    )
    async with connect(wrong) as logs:
        problems = await logs.check_fields()
    assert problems == [
        f"field message in {pair.index} is text, not a date; set RCABOT_LOGS__FIELDS__TIMESTAMP "
        "to the date field",
        f"field svc not found in {pair.index}; set RCABOT_LOGS__FIELDS__SERVICE",
    ]


async def test_check_fields_flags_a_text_service_field(
    elasticsearch_url: str, es_index: str
) -> None:
    es_writer = writer(elasticsearch_url)
    try:
        mappings = {"properties": {"@timestamp": {"type": "date"}, "service": {"type": "text"}}}
        await es_writer.indices.create(index=es_index, mappings=mappings)
    finally:
        await es_writer.close()
    settings = LogsSettings(
        url=elasticsearch_url, index=es_index, fields=LogFields(service="service")
    )
    async with connect(settings) as logs:
        problems = await logs.check_fields()
    assert f"field service in {es_index} is text, not " in problems[0]
    assert "RCABOT_LOGS__FIELDS__SERVICE" in problems[0] and "service.keyword" in problems[0]
    assert [p.split(" ")[1] for p in problems] == ["service", "log.level", "message", "trace.id"]


async def test_describe_is_kql_with_a_kibana_link() -> None:
    settings = LogsSettings(url="http://es:9200")
    query = LogQuery(window=HOUR, services=("api",), min_level=LogLevel.ERROR, text="pool")
    kibana = Links(LinksSettings(kibana_url="http://kibana:5601"))
    for links, has_link in ((LINKS, False), (kibana, True)):
        async with connect(settings, links=links) as logs:
            info = logs.describe(query)
        assert info.text == 'service.name:("api") and log.level:(error or fatal or critical) and ' \
            'message:"pool"'  # fmt: skip
        assert (info.link is not None) == has_link
        if info.link:
            assert info.link.startswith("http://kibana:5601/app/discover#/")
        assert logs.dsl(query)["query"]["bool"]["filter"][-1] == {
            "match": {"message": {"query": "pool", "operator": "and"}}
        }


async def test_the_allow_list_admits_every_read_api(pair: Pair, elasticsearch_url: str) -> None:
    es = make_client(LogsSettings(url=elasticsearch_url))
    try:
        assert (await es.info())["version"]["number"].startswith("8.")
        assert (await es.count(index=pair.index))["count"] > 300
        assert "service.name" in (await es.field_caps(index=pair.index, fields="*"))["fields"]
        assert pair.index in await es.indices.get_mapping(index=pair.index)
        pit = await es.open_point_in_time(index=pair.index, keep_alive="1m")
        await es.close_point_in_time(id=pit["id"])
        first = await es.search(index=pair.index, scroll="1m", size=10)
        more = await es.scroll(scroll_id=first["_scroll_id"], scroll="1m")
        assert len(more["hits"]["hits"]) == 10
        await es.clear_scroll(scroll_id=more["_scroll_id"])
    finally:
        await es.close()
