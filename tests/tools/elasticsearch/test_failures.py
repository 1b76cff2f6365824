"""How the backend fails: every failure is a BackendError of the right kind, retried or not.

A local stand-in server (tests/servers/canned.py) answers with errors, garbage or slowly, so
the real client stack runs; an unreachable backend is a port nothing listens on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from tests.servers import unreachable_url
from tests.servers.canned import ELASTICSEARCH_PRODUCT, running_canned_server
from tests.tools.elasticsearch.helpers import connect
from tools.backends import LogQuery
from tools.elasticsearch.logs import ElasticsearchLogs
from tools.elasticsearch.settings import LogsSettings
from tools.errors import BackendError, BackendTimeout, TransientBackendError
from tools.evidence import TimeWindow
from tools.resilience import Resilience, RetryPolicy

T = TypeVar("T")
FAST = RetryPolicy(attempts=2, base_delay_s=0.001, max_delay_s=0.001)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QUERY = LogQuery(window=TimeWindow(start=T0, end=T0 + timedelta(hours=1)))
NO_HITS = b'{"hits": {"total": {"value": 0}, "hits": []}}'

Op = Callable[[ElasticsearchLogs], Awaitable[Any]]
OPERATIONS: dict[str, Op] = {
    "search": lambda logs: logs.search(QUERY),
    "count_by_service": lambda logs: logs.count_by_service(QUERY),
    "histogram": lambda logs: logs.histogram(QUERY, timedelta(minutes=5)),
    "check_fields": lambda logs: logs.check_fields(),
}


async def run(url: str, op: Op, *, timeout_s: float = 5.0) -> tuple[Any, Resilience]:
    settings = LogsSettings(url=url, index="logs-x", timeout_s=timeout_s)
    resilience = Resilience("elasticsearch", timeout_s=timeout_s, retry=FAST)
    async with connect(settings, resilience=resilience) as logs:
        return await op(logs), resilience


def es_error(status: int, kind: str, reason: str) -> bytes:
    error = {"type": kind, "reason": reason, "root_cause": [{"type": kind, "reason": reason}]}
    return json.dumps({"error": error, "status": status}).encode()


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_5xx_and_429_are_transient_and_retried(operation: Op, status: int) -> None:
    body = es_error(status, "es_rejected_execution", "busy")
    with (
        running_canned_server(status, body, extra_headers=ELASTICSEARCH_PRODUCT) as server,
        pytest.raises(TransientBackendError, match=f"HTTP {status}") as caught,
    ):
        await run(server.url, operation)
    assert len(server.received) == FAST.attempts  # Resilience retried; the client did not
    assert "busy" in str(caught.value)


async def test_a_5xx_that_is_not_json_is_still_transient() -> None:
    with (
        running_canned_server(
            502,
            b"<html>Bad Gateway</html>",
            content_type="text/html",
            extra_headers=ELASTICSEARCH_PRODUCT,
        ) as server,
        pytest.raises(TransientBackendError, match=r"HTTP 502.*Bad Gateway"),
    ):
        await run(server.url, OPERATIONS["search"])


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, es_error(400, "parsing_exception", "unknown query [x]"), "unknown query"),
        (401, es_error(401, "security_exception", "missing credentials"), "USERNAME/PASSWORD"),
        (403, es_error(403, "security_exception", "action unauthorized"), "read access"),
        (404, es_error(404, "index_not_found_exception", "no such index"), "RCABOT_LOGS__INDEX"),
    ],
)
async def test_4xx_is_an_error_not_retried(status: int, body: bytes, message: str) -> None:
    await search_fails_once(status, body, message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "malformed JSON"),
        (b"[]", "unexpected answer to search"),
        (b'{"hits": 5}', "'hits' is missing or not a dict"),
        (b'{"hits": {"total": {"value": 1}}}', "'hits' is missing or not a list"),
        (b'{"hits": {"total": "many", "hits": []}}', "hits.total"),
        (b'{"hits": {"total": {"value": 1}, "hits": [{"_source": 3}]}}', "no _source"),
        (
            b'{"hits": {"total": {"value": 1}, "hits": [{"_source": {"@timestamp": "x"}}]}}',
            "no readable time",
        ),
    ],
)
async def test_malformed_answers_are_errors(body: bytes, message: str) -> None:
    await search_fails_once(200, body, message)


async def search_fails_once(status: int, body: bytes, message: str) -> None:
    """A search answered so fails with a BackendError matching ``message``, not retried."""
    with (
        running_canned_server(status, body, extra_headers=ELASTICSEARCH_PRODUCT) as server,
        pytest.raises(BackendError, match=message) as caught,
    ):
        await run(server.url, OPERATIONS["search"])
    assert not isinstance(caught.value, TransientBackendError)
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("count_by_service", b'{"aggregations": {"services": {"buckets": [{"key": "a"}]}}}'),
        ("histogram", b'{"aggregations": {"services": {"buckets": 3}}}'),
        ("histogram", b"{}"),
    ],
)
async def test_malformed_aggregations_are_errors(operation: str, body: bytes) -> None:
    with (
        running_canned_server(200, body, extra_headers=ELASTICSEARCH_PRODUCT) as server,
        pytest.raises(BackendError, match="unexpected"),
    ):
        await run(server.url, OPERATIONS[operation])


async def test_a_server_that_is_not_elasticsearch_is_named() -> None:
    with (
        running_canned_server(200, NO_HITS) as server,  # no X-Elastic-Product header
        pytest.raises(BackendError, match="not Elasticsearch"),
    ):
        await run(server.url, OPERATIONS["search"])


async def test_a_slow_backend_times_out() -> None:
    started = time.monotonic()
    with (
        running_canned_server(
            200, NO_HITS, delay_s=5, extra_headers=ELASTICSEARCH_PRODUCT
        ) as server,
        pytest.raises(BackendTimeout),
    ):
        await run(server.url, OPERATIONS["search"], timeout_s=0.2)
    assert len(server.received) == FAST.attempts
    assert time.monotonic() - started < 2.5  # two attempts of 0.2 s, not two of 5 s


class CountingResilience(Resilience):
    """Counts the attempts Resilience makes (a closed port leaves no trace in a server)."""

    attempts = 0

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        def counted() -> Awaitable[T]:
            self.attempts += 1
            return request()

        return await super().call(counted)


async def test_an_unreachable_backend_is_transient_after_retries() -> None:
    settings = LogsSettings(url=unreachable_url(), index="logs-x")
    resilience = CountingResilience("elasticsearch", retry=FAST)
    async with connect(settings, resilience=resilience) as logs:
        with pytest.raises(TransientBackendError, match="unreachable") as caught:
            await logs.search(QUERY)
    assert not isinstance(caught.value, BackendTimeout)
    assert resilience.attempts == FAST.attempts
    assert resilience.breaker.failures == 1


async def test_the_breaker_counts_failed_calls() -> None:
    with running_canned_server(503, b"{}", extra_headers=ELASTICSEARCH_PRODUCT) as server:
        settings = LogsSettings(url=server.url, index="logs-x")
        resilience = Resilience("elasticsearch", retry=FAST)
        async with connect(settings, resilience=resilience) as logs:
            for _ in range(2):
                with pytest.raises(TransientBackendError):
                    await logs.search(QUERY)
    assert resilience.breaker.failures == 2
    assert len(server.received) == 2 * FAST.attempts
