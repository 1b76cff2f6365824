"""JsonClient against a local fake HTTP server (a stand-in for any JSON backend)."""

from __future__ import annotations

import httpx
import pytest

from tools.errors import BackendError, BackendTimeout, TransientBackendError
from tools.http import JsonClient
from tools.resilience import Resilience, RetryPolicy

FAST = RetryPolicy(attempts=2, base_delay_s=0.001, max_delay_s=0.001)


def _client(handler: httpx.MockTransport, max_bytes: int = 1000) -> JsonClient:
    http = httpx.AsyncClient(transport=handler)
    return JsonClient(
        http, "http://backend", Resilience("backend", retry=FAST), max_bytes=max_bytes
    )


@pytest.fixture
def calls() -> list[httpx.Request]:
    return []


async def test_json_and_params(calls: list[httpx.Request]) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"ok": True})

    client = _client(httpx.MockTransport(handle))
    assert await client.get("/api/x", {"q": "up"}) == {"ok": True}
    assert str(calls[0].url) == "http://backend/api/x?q=up"
    assert calls[0].method == "GET"


@pytest.mark.parametrize(
    ("response", "error", "message", "attempts"),
    [
        (httpx.Response(503, text="overloaded"), TransientBackendError, "HTTP 503", 2),
        (httpx.Response(429), TransientBackendError, "HTTP 429", 2),
        (httpx.Response(400, text="bad_data: parse error"), BackendError, "parse error", 1),
        (httpx.Response(200, text="{not json"), BackendError, "malformed JSON", 1),
        (httpx.Response(200, text="[" + "1," * 2000 + "1]"), BackendError, "larger than", 1),
    ],
)
async def test_failures_map_to_backend_errors(
    calls: list[httpx.Request],
    response: httpx.Response,
    error: type[BackendError],
    message: str,
    attempts: int,
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return response

    with pytest.raises(error, match=message) as raised:
        await _client(httpx.MockTransport(handle)).get("/x")
    assert len(calls) == attempts
    # the HTTP status travels with the error (e.g. a 404 for an unknown trace id is no failure)
    assert raised.value.status == (response.status_code if response.status_code >= 400 else None)
    if response.status_code >= 400:  # and the start of the answer, for the backend's reason
        assert raised.value.body == response.text[:200].strip()


async def test_unreachable_and_timeout() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    unreachable = "unreachable talking to http://backend/x: ConnectError"
    with pytest.raises(TransientBackendError, match=unreachable):
        await _client(httpx.MockTransport(refuse)).get("/x")

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(BackendTimeout, match="timed out talking to http://backend/x"):
        await _client(httpx.MockTransport(slow)).get("/x")
