"""``GET /readyz`` (bot/readiness.py): ready when every configured backend and the model answer,
503 naming which did not and why; each probe bounded, answers reused for a few seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from bot.config import Settings
from bot.readiness import ReadinessProbe, probe, readiness_endpoint
from tests.servers import unreachable_url
from tests.servers.tgi import Reply, TgiStandin


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A server that accepts connections and never answers: a hung backend."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_ready_when_the_model_answers_and_nothing_else_is_configured(
    tgi_standin: TgiStandin,
) -> None:
    found = await probe(Settings(llm={"url": tgi_standin.url, "api": "tgi"}))
    body = found.body()
    assert found.ready and body["ready"] and body["failing"] == []
    checks = body["checks"]
    assert checks["llm (tgi)"]["status"] == "ok"
    assert "standin/tiny-chat" in checks["llm (tgi)"]["detail"]
    assert checks["logs (Elasticsearch)"]["status"] == "not configured"
    assert "RCABOT_LOGS__URL" in checks["logs (Elasticsearch)"]["detail"]
    assert "slack" not in checks  # checked at start, not on every probe
    assert "/health" in tgi_standin.paths()
    assert not {"/", "/generate", "/v1/chat/completions"} & set(tgi_standin.paths())


async def test_an_unreachable_backend_or_an_unhealthy_model_makes_it_unready(
    tgi_standin: TgiStandin,
) -> None:
    tgi_standin.fail["/health"] = Reply.failure(503, "loading", "overloaded")
    settings = Settings(metrics={"url": unreachable_url()}, llm={"url": tgi_standin.url})
    body = (await probe(settings)).body()
    assert not body["ready"]
    assert sorted(body["failing"]) == ["llm (tgi)", "metrics (Prometheus)"]
    assert "unreachable" in body["checks"]["metrics (Prometheus)"]["detail"]
    assert "503" in body["checks"]["llm (tgi)"]["detail"]


async def test_a_hung_backend_is_given_up_on_after_the_probe_limit() -> None:
    async with silent_server() as url:
        started = time.monotonic()
        found = await probe(Settings(logs={"url": url}, traces={"url": url}), probe_s=0.3)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5  # concurrently, each within its limit
    assert not found.ready
    assert sorted(found.failing) == ["logs (Elasticsearch)", "traces (jaeger)"]
    assert all("within 0.3s" in c.detail for c in found.checks if c.configured and not c.ok)


async def test_answers_are_reused_briefly_and_shared_by_concurrent_callers(
    tgi_standin: TgiStandin,
) -> None:
    settings = Settings(llm={"url": tgi_standin.url, "api": "tgi"})
    reused = ReadinessProbe(settings, reuse_s=60)
    answers = await asyncio.gather(*(reused() for _ in range(5)))
    assert all(a is answers[0] for a in answers)
    assert tgi_standin.paths().count("/health") == 1
    fresh = ReadinessProbe(settings, reuse_s=0)
    await fresh()
    await fresh()
    assert tgi_standin.paths().count("/health") == 3


async def test_the_endpoint_answers_503_with_what_failed() -> None:
    settings = Settings(metrics={"url": unreachable_url()})
    app = Starlette(routes=[Route("/readyz", readiness_endpoint(settings))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["metrics (Prometheus)"]
