"""The read-only client: its allow-list, its configuration, and its error mapping.

Refusals are checked against a local stand-in server that records what reaches it: a refused
request must never be sent.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from tests.servers.canned import ELASTICSEARCH_PRODUCT, running_canned_server
from tools.elasticsearch.client import (
    ReadOnlyElasticsearch,
    ReadOnlyViolation,
    error_reason,
    is_read_request,
    make_client,
)
from tools.elasticsearch.settings import LogsSettings
from tools.errors import ConfigError, RcabotError

Call = Callable[[ReadOnlyElasticsearch], Awaitable[Any]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("HEAD", "/"),
        ("POST", "/_search"),
        ("GET", "/logs-%2A/_search"),
        ("POST", "/logs-a%2Clogs-b/_search"),
        ("POST", "/logs-*/_count"),
        ("GET", "/logs-*/_field_caps"),
        ("POST", "/_field_caps"),
        ("GET", "/logs-1/_mapping"),
        ("GET", "/logs-1/_mapping/field/service.name"),
        ("POST", "/logs-1/_pit"),
        ("DELETE", "/_pit"),
        ("POST", "/_search/scroll"),
        ("DELETE", "/_search/scroll"),
    ],
)
def test_reads_are_allowed(method: str, path: str) -> None:
    assert is_read_request(method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/logs-1"),  # create index
        ("DELETE", "/logs-1"),
        ("POST", "/logs-1/_doc"),
        ("PUT", "/logs-1/_doc/1"),
        ("POST", "/logs-1/_update/1"),
        ("POST", "/_bulk"),
        ("POST", "/logs-1/_bulk"),
        ("POST", "/logs-1/_delete_by_query"),
        ("POST", "/logs-1/_update_by_query"),
        ("PUT", "/logs-1/_mapping"),  # read path, writing method
        ("POST", "/logs-1/_mapping"),
        ("DELETE", "/logs-1/_search"),
        ("POST", "/_security/_search"),  # "_" names are APIs, not indices
        ("POST", "/logs-1/_search/template"),
        ("POST", "/_search?x=1"),  # the client never puts a query string in the path
        ("POST", "/logs-1/_refresh"),
    ],
)
def test_writes_and_other_endpoints_are_refused(method: str, path: str) -> None:
    assert not is_read_request(method, path)


WRITES: list[tuple[str, Call]] = [
    ("index", lambda es: es.index(index="logs-1", document={"message": "x"})),
    ("create", lambda es: es.create(index="logs-1", id="1", document={"message": "x"})),
    ("update", lambda es: es.update(index="logs-1", id="1", doc={"message": "y"})),
    ("delete", lambda es: es.delete(index="logs-1", id="1")),
    ("delete_by_query", lambda es: es.delete_by_query(index="logs-1", query={"match_all": {}})),
    (
        "update_by_query",
        lambda es: es.update_by_query(index="logs-1", query={"match_all": {}}),
    ),
    ("bulk", lambda es: es.bulk(operations=[{"index": {"_index": "l"}}, {"m": 1}])),
    ("indices.create", lambda es: es.indices.create(index="logs-2")),
    ("indices.delete", lambda es: es.indices.delete(index="logs-1")),
    (
        "indices.put_mapping",
        lambda es: es.indices.put_mapping(index="logs-1", properties={"x": {"type": "text"}}),
    ),
    ("raw perform_request", lambda es: es.perform_request("PUT", "/logs-3")),
    (
        "via options()",
        lambda es: es.options(request_timeout=1).index(index="logs-1", document={}),
    ),
]


@pytest.mark.parametrize("write", [w for _, w in WRITES], ids=[name for name, _ in WRITES])
async def test_writes_are_refused_before_anything_is_sent(write: Call) -> None:
    no_hits = b'{"hits": {"total": {"value": 0}, "hits": []}}'
    with running_canned_server(200, no_hits, extra_headers=ELASTICSEARCH_PRODUCT) as server:
        es = make_client(LogsSettings(url=server.url))
        try:
            with pytest.raises(ReadOnlyViolation, match="read-only"):
                await write(es)
            assert server.received == []
            await es.search(index="logs-1", size=0)  # the server was there all along
        finally:
            await es.close()
    assert [(r.method, r.path) for r in server.received] == [("POST", "/logs-1/_search")]


async def test_options_keeps_the_read_only_subclass() -> None:
    es = make_client(LogsSettings(url="http://127.0.0.1:9"))
    try:
        derived = es.options(request_timeout=1, headers={"x-opaque-id": "rcabot"})
        assert type(derived) is ReadOnlyElasticsearch
    finally:
        await es.close()


def test_violation_is_a_programming_error_not_a_backend_error() -> None:
    # tools report RcabotError/BackendError as a failed source; this must surface instead
    assert issubclass(ReadOnlyViolation, PermissionError)
    assert not issubclass(ReadOnlyViolation, RcabotError)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"username": "rcabot", "password": SecretStr("s3cret")},
            "Basic " + base64.b64encode(b"rcabot:s3cret").decode(),
        ),
        ({"api_key": SecretStr("a2V5OnNlY3JldA==")}, "ApiKey a2V5OnNlY3JldA=="),
        ({}, None),
    ],
)
async def test_credentials_are_sent(settings: dict[str, Any], expected: str | None) -> None:
    version = b'{"version": {"number": "8.15.0"}}'
    with running_canned_server(200, version, extra_headers=ELASTICSEARCH_PRODUCT) as server:
        es = make_client(LogsSettings(url=server.url, **settings))
        try:
            await es.info()
        finally:
            await es.close()
    assert server.received[0].headers.get("authorization") == expected


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "RCABOT_LOGS__URL"),
        (
            {"url": "http://es:9200", "username": "u", "api_key": SecretStr("k")},
            "not both",
        ),
        ({"url": "http://es:9200", "username": "u"}, "RCABOT_LOGS__PASSWORD"),
    ],
)
def test_bad_settings_are_config_errors(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_client(LogsSettings(**settings))


def test_error_reason_prefers_the_root_cause() -> None:
    body = {
        "error": {
            "type": "search_phase_execution_exception",
            "reason": "all shards failed",
            "root_cause": [{"type": "query_shard_exception", "reason": "No mapping for [x]"}],
        },
        "status": 400,
    }
    assert error_reason(body, "fallback") == "query_shard_exception: No mapping for [x]"
    assert error_reason("<html>bad\ngateway</html>", "fallback") == "<html>bad gateway</html>"
    assert error_reason(None, "fallback") == "fallback"
