"""How PrometheusMetrics fails: unreachable, 5xx, malformed or odd answers, slow answers.

Against a closed port and against the canned-answer stand-in of tests/servers/canned.py (not
Prometheus: a stdlib HTTP server), so the real httpx → JsonClient → Resilience stack runs.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.servers import unreachable_url
from tests.servers.canned import running_canned_server
from tests.tools.prometheus.helpers import connect
from tools.errors import BackendError, BackendTimeout, TransientBackendError
from tools.evidence import TimeWindow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = TimeWindow(start=T0, end=T0 + timedelta(minutes=10))
MINUTE = timedelta(minutes=1)


async def test_unreachable_is_transient_after_fast_retries() -> None:
    started = time.monotonic()
    async with connect(unreachable_url()) as prometheus:
        with pytest.raises(TransientBackendError, match="unreachable"):
            await prometheus.series("error_ratio", WINDOW, MINUTE)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("status", "body", "error", "message", "attempts"),
    [
        (503, b"overloaded", TransientBackendError, "HTTP 503", 2),
        (500, b'{"status":"error","errorType":"internal"}', TransientBackendError, "HTTP 500", 2),
        (200, b"{not json", BackendError, "malformed JSON", 1),
        (
            200,
            b'{"status":"success","data":{"resultType":"matrix"}}',
            BackendError,
            "unexpected",
            1,
        ),
        (404, b"404 page not found", BackendError, "HTTP 404", 1),
    ],
)
async def test_http_failures(
    status: int, body: bytes, error: type[BackendError], message: str, attempts: int
) -> None:
    with running_canned_server(status, body) as server:
        async with connect(server.url) as prometheus:
            with pytest.raises(error, match=message) as caught:
                await prometheus.series("error_ratio", WINDOW, MINUTE)
    assert len(server.paths) == attempts
    assert server.paths[0].startswith("/api/v1/query_range?")
    if error is BackendError:
        assert not isinstance(caught.value, TransientBackendError)


async def test_slow_answer_times_out() -> None:
    with running_canned_server(delay_s=5) as server:
        async with connect(server.url, timeout_s=0.2) as prometheus:
            with pytest.raises(BackendTimeout):
                await prometheus.series("error_ratio", WINDOW, MINUTE)
    assert len(server.paths) == 2


async def test_error_body_with_status_200_names_the_setting() -> None:
    body = b'{"status":"error","errorType":"bad_data","error":"no good"}'
    with running_canned_server(200, body) as server:
        async with connect(server.url) as prometheus:
            with pytest.raises(BackendError, match="RCABOT_METRICS__QUERIES__ERROR_RATIO"):
                await prometheus.series("error_ratio", WINDOW, MINUTE)


async def test_long_400_body_cut_by_the_client_still_explained() -> None:
    detail = "parse error: " + "x" * 400
    body = json.dumps({"status": "error", "errorType": "bad_data", "error": detail})
    with running_canned_server(400, body) as server:
        async with connect(server.url) as prometheus:
            with pytest.raises(BackendError, match=r"bad_data: parse error: x+\.\.\.") as caught:
                await prometheus.series("error_ratio", WINDOW, MINUTE)
    assert "RCABOT_METRICS__QUERIES__ERROR_RATIO" in str(caught.value)


async def test_warnings_and_odd_points_in_a_success_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = T0.timestamp()
    body = {
        "status": "success",
        "warnings": ["results truncated"],
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"__name__": "x", "service": "a", "pod": "a-1"},
                    # t + 600 is the window end: outside [start, end), dropped
                    "values": [[t, "1"], [t + 60, "NaN"], [t + 120, "-Inf"], [t + 600, "9"]],
                },
                {"metric": {"service": "b"}, "values": [[t, "NaN"]]},
                {"metric": {"job": "x"}, "values": [[t, "1"]]},
            ],
        },
    }
    with (
        running_canned_server(200, json.dumps(body)) as server,
        caplog.at_level(logging.INFO, logger="tools.prometheus.metrics"),
    ):
        async with connect(server.url) as prometheus:
            got = await prometheus.series("error_ratio", WINDOW, MINUTE)
    assert [(s.service, s.timestamps, s.values, dict(s.labels)) for s in got] == [
        ("a", (t,), (1.0,), {"pod": "a-1"})
    ]
    assert "results truncated" in caplog.text
    assert "skipped 1 series without a 'service' label" in caplog.text


async def test_string_result_is_an_error() -> None:
    body = b'{"status":"success","data":{"resultType":"string","result":[1,"s"]}}'
    with running_canned_server(200, body) as server:
        async with connect(server.url) as prometheus:
            with pytest.raises(BackendError, match="string"):
                await prometheus.instant('"s"', T0)
