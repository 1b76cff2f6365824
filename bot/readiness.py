"""``GET /readyz``: are the configured telemetry backends and the model reachable from here?

The probes are ``rcabot config check``'s (:func:`bot.config_check.check_settings`), in its
quick form: all at once, each bounded by :data:`PROBE_S`, the model's health endpoint rather
than a generation, no Slack ``auth.test`` (the bot checked its token at start). A backend
that is not configured is said so and does not make the bot unready.

An answer is reused for :data:`REUSE_S` and concurrent callers share one probe, so a burst of
``/readyz`` (every replica's probe, a curious port scan) never becomes a burst of requests to
Elasticsearch, Prometheus and the model server. ``/healthz`` stays the cheap liveness check:
it asks nothing of anyone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import Settings
from bot.config_check import Check, check_settings

PROBE_S = 2.0  # each probe's own limit (one HTTP phase)
REUSE_S = 5.0


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]
    error: str | None = None  # the probes as a whole did not finish

    @property
    def ready(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks if c.configured)

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.checks if c.configured and not c.ok]

    def body(self) -> dict[str, Any]:
        """What ``/readyz`` answers: ready or not, which check failed, and why."""
        checks = {
            c.name: {
                "status": ("ok" if c.ok else "failed") if c.configured else "not configured",
                "detail": c.detail,
            }
            for c in self.checks
        }
        body: dict[str, Any] = {"ready": self.ready, "failing": self.failing, "checks": checks}
        if self.error is not None:
            body["error"] = self.error
        return body


async def probe(settings: Settings, *, probe_s: float = PROBE_S) -> Readiness:
    """Probe the configured backends and model once (never raises for an unreachable one)."""
    overall = 2 * probe_s + 0.5  # the model's health is two requests; a trickle ends here
    try:
        async with asyncio.timeout(overall):
            checks = await check_settings(settings, timeout_s=probe_s, quick=True)
    except TimeoutError:
        return Readiness((), error=f"the probes did not finish within {overall:g} s")
    return Readiness(tuple(checks))


class ReadinessProbe:
    """:func:`probe`, its answer reused for ``reuse_s`` and shared by concurrent callers."""

    def __init__(
        self, settings: Settings, *, probe_s: float = PROBE_S, reuse_s: float = REUSE_S
    ) -> None:
        self._settings = settings
        self._probe_s = probe_s
        self._reuse_s = reuse_s
        self._lock = asyncio.Lock()
        self._last: tuple[float, Readiness] | None = None

    async def __call__(self) -> Readiness:
        async with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < self._reuse_s:
                return self._last[1]
            found = await probe(self._settings, probe_s=self._probe_s)
            self._last = (time.monotonic(), found)
            return found


def readiness_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """``GET /readyz``: 200 when every configured backend and the model answer, else 503
    naming which did not and why."""
    readiness = ReadinessProbe(settings)

    async def endpoint(request: Request) -> Response:
        found = await readiness()
        return JSONResponse(found.body(), status_code=200 if found.ready else 503)

    return endpoint
