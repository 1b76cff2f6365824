"""``rcabot config check``: for each backend, configured or not, reachable or not, and why."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, replace
from typing import Any

import httpx

from bot.config import Settings
from bot.llm.factory import model_from_settings
from tools.concurrency import gather_all
from tools.elasticsearch.logs import ElasticsearchLogs, make_client
from tools.errors import ConfigError, ModelError, RcabotError
from tools.links import Links
from tools.resilience import Resilience, RetryPolicy
from tools.service_map import read_service_map
from tools.text import TextPipeline

PROBE_TIMEOUT_S = 3.0
LLM_PROBE_S = 15.0  # a one-token generation on a cold server takes longer than a GET
DETAIL_CHARS = 1_000


@dataclass(frozen=True)
class Check:
    name: str
    configured: bool
    ok: bool
    detail: str


async def _get_json(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    response = await client.request(method, url, headers=headers)
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    return response.status_code, body


async def _probe(
    client: httpx.AsyncClient,
    name: str,
    method: str,
    url: str,
    describe: Any,
    headers: dict[str, str] | None = None,
) -> Check:
    try:
        status, body = await _get_json(client, method, url, headers)
    except httpx.TimeoutException:
        return Check(
            name, True, False, f"unreachable: no answer from {url} within {client.timeout.read:g}s"
        )
    except httpx.HTTPError as exc:
        return Check(name, True, False, f"unreachable: {type(exc).__name__}: {exc} ({url})")
    if status >= 400:
        return Check(name, True, False, f"HTTP {status} from {url}")
    return Check(name, True, True, f"reachable: {describe(body)} ({url})")


def _missing(name: str, variable: str) -> Check:
    return Check(name, False, False, f"not configured (set {variable})")


def _version(*path: str) -> Any:
    def pick(body: Any) -> str:
        for key in path:
            body = body.get(key) if isinstance(body, dict) else None
        return f"version {body}" if body else "ok"

    return pick


async def check_settings(
    settings: Settings, *, timeout_s: float = PROBE_TIMEOUT_S, quick: bool = False
) -> list[Check]:
    """Probe every configured backend concurrently (read-only GETs, short timeouts).

    ``quick`` is what ``GET /readyz`` asks every few seconds: the model's health endpoint only
    (no generation), no Slack ``auth.test`` (checked at start) and no index field check."""
    async with httpx.AsyncClient(timeout=timeout_s, verify=settings.logs.verify_tls) as c:
        probes: list[Any] = []
        s = settings
        if s.logs.url:
            headers = (
                {"Authorization": f"ApiKey {s.logs.api_key.get_secret_value()}"}
                if s.logs.api_key
                else None
            )
            probes.append(
                _probe(
                    c,
                    "logs (Elasticsearch)",
                    "GET",
                    f"{s.logs.url}/",
                    _version("version", "number"),
                    headers,
                )
            )
        else:
            probes.append(_static(_missing("logs (Elasticsearch)", "RCABOT_LOGS__URL")))
        if s.metrics.url:
            probes.append(
                _probe(
                    c,
                    "metrics (Prometheus)",
                    "GET",
                    f"{s.metrics.url}/api/v1/status/buildinfo",
                    _version("data", "version"),
                )
            )
        else:
            probes.append(_static(_missing("metrics (Prometheus)", "RCABOT_METRICS__URL")))
        if s.traces.url:
            path = "/api/services" if s.traces.kind == "jaeger" else "/api/status/buildinfo"
            probes.append(
                _probe(
                    c, f"traces ({s.traces.kind})", "GET", s.traces.url + path, _version("version")
                )
            )
        else:
            probes.append(_static(_missing("traces (Jaeger/Tempo)", "RCABOT_TRACES__URL")))
        if s.llm.url:
            probes.append(_probe_model(s, timeout_s, generate=not quick))
        else:
            probes.append(_static(_missing("llm (TGI)", "RCABOT_LLM__URL")))
        if s.slack.bot_token and not quick:  # /readyz: auth.test ran at start, not every probe
            auth = {"Authorization": f"Bearer {s.slack.bot_token.get_secret_value()}"}
            probes.append(
                _probe(
                    c,
                    "slack",
                    "POST",
                    s.slack.api_url.rstrip("/") + "/auth.test",
                    lambda b: (
                        "token accepted"
                        if isinstance(b, dict) and b.get("ok")
                        else f"token rejected: {(b or {}).get('error')}"
                    ),
                    auth,
                )
            )
        elif not quick:
            probes.append(_static(_missing("slack", "RCABOT_SLACK__BOT_TOKEN")))
        if s.retrieval.chroma_url:
            probes.append(
                _probe(
                    c,
                    "retrieval (Chroma server)",
                    "GET",
                    f"{s.retrieval.chroma_url}/api/v2/heartbeat",
                    lambda b: "ok",
                )
            )
        else:
            probes.append(_static(_chroma_path(s)))
        if not quick:  # /readyz: a map that cannot be read costs the ranking, not the answer
            probes.append(asyncio.to_thread(_service_map, s))
        checks = list(await gather_all(*probes))
    if s.logs.url and checks[0].ok and not quick:
        checks[0] = await _with_log_fields(checks[0], s)
    # details quote URLs and server errors: no password in a URL may reach the terminal
    text = TextPipeline.from_settings(s.redaction)
    return [replace(check, detail=text.line(check.detail, DETAIL_CHARS)) for check in checks]


async def _probe_model(settings: Settings, timeout_s: float, *, generate: bool) -> Check:
    """The model server's health, then (``generate``) a one-token generation: it must
    generate, not only answer."""
    name = f"llm ({settings.llm.api})"
    limit = max(timeout_s, LLM_PROBE_S) if generate else timeout_s
    llm = settings.llm.model_copy(update={"timeout_s": min(settings.llm.timeout_s, limit)})
    try:
        model = model_from_settings(llm)
    except RcabotError as exc:  # llm.api names no client
        return Check(name, True, False, f"{exc}")
    if model is None:
        return _missing(name, "RCABOT_LLM__URL")
    try:
        health = await model.health()
        if not generate:
            return Check(name, True, True, health)
        ping = await model.ping()
    except ModelError as exc:
        return Check(name, True, False, f"{exc}")
    finally:
        await model.aclose()
    tokens = ping.usage.completion_tokens
    return Check(name, True, True, f"{health}; generated {tokens} token(s) in a test call")


async def _with_log_fields(check: Check, settings: Settings) -> Check:
    """The reachable Elasticsearch's index and field names checked against the settings."""
    es = make_client(settings.logs)
    try:
        logs = ElasticsearchLogs(
            es,
            settings.logs,
            Links(settings.links),
            Resilience("elasticsearch", timeout_s=PROBE_TIMEOUT_S, retry=RetryPolicy(attempts=1)),
        )
        problems = await logs.check_fields()
    except RcabotError as exc:
        problems = [f"cannot check fields: {exc}"]
    finally:
        await es.close()
    if not problems:
        return Check(check.name, True, True, f"{check.detail}; index and fields ok")
    return Check(check.name, True, False, f"{check.detail}; " + "; ".join(problems))


async def _static(check: Check) -> Check:
    return check


def _chroma_path(settings: Settings) -> Check:
    path = settings.retrieval.chroma_path
    parent = path if path.exists() else path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    writable = os.access(parent, os.W_OK)
    detail = f"embedded store at {path} ({'writable' if writable else 'NOT writable'})"
    return Check("retrieval (Chroma embedded)", True, writable, detail)


def _service_map(settings: Settings) -> Check:
    """The service map ``investigation.service_map`` names, read as an investigation reads it:
    an investigation goes on without a map it cannot read, so this is where a bad one shows."""
    name = "service map"
    path = settings.investigation.service_map
    if path is None:
        return _missing(name, "RCABOT_INVESTIGATION__SERVICE_MAP; optional")
    try:
        service_map, report = read_service_map(path, error=ConfigError)
    except ConfigError as exc:
        return Check(name, True, False, f"{exc}")
    pairs = service_map.pairs
    services = {name for pair in pairs for name in pair}
    detail = f"{len(pairs)} calls among {len(services)} services ({path})"
    if report.skipped:
        detail += f"; {report.skipped} rows skipped, first: {report.summary()[0]}"
    return Check(name, True, True, detail)
