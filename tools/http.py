"""JSON over HTTP for the backends that speak it (Prometheus, Jaeger, Tempo), via httpx.

Maps every way a request can fail to a :class:`BackendError` the tools can report:
unreachable and 5xx/429 are transient (retried), 4xx is not, a body that is not JSON or is
larger than ``max_bytes`` is an error naming the URL. Only GET is offered: tools read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from tools.errors import BackendError, BackendTimeout, TransientBackendError
from tools.resilience import Resilience

DEFAULT_MAX_BYTES = 20 * 2**20


class JsonClient:
    """Read-only JSON GETs against one backend, through its :class:`Resilience`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        resilience: Resilience,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._client = client
        self.base_url = base_url.rstrip("/")
        self.resilience = resilience
        self.max_bytes = max_bytes

    @property
    def name(self) -> str:
        return self.resilience.name

    async def get(self, path: str, params: Mapping[str, str | int | float] | None = None) -> Any:
        url = f"{self.base_url}{path}"
        return await self.resilience.call(lambda: self._get_once(url, params))

    async def _get_once(self, url: str, params: Mapping[str, str | int | float] | None) -> Any:
        name = self.name
        try:
            async with self._client.stream("GET", url, params=params) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise BackendError(
                            name,
                            f"response from {url} is larger than "
                            f"{self.max_bytes // 2**20} MiB; narrow the query",
                        )
        except httpx.TransportError as exc:
            raise transport_error(name, exc, f"talking to {url}") from exc
        if (error := status_error(name, response.status_code, f"from {url}", body)) is not None:
            raise error
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BackendError(name, f"malformed JSON from {url}: {exc}") from exc


def transport_error(name: str, exc: httpx.TransportError, doing: str) -> BackendError:
    """The error for a request that got no answer: timed out, or unreachable (both retried)."""
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeout(name, f"timed out {doing}")
    return TransientBackendError(name, f"unreachable {doing}: {type(exc).__name__}: {exc}")


def status_error(
    name: str, status: int, where: str, body: bytes | bytearray
) -> BackendError | None:
    """The error for an HTTP error status (429 and 5xx are transient), ``None`` below 400."""
    if status < 400:
        return None
    snippet = _snippet(body)
    message = f"HTTP {status} {where}: {snippet}"
    if status == 429 or status >= 500:
        return TransientBackendError(name, message, status=status, body=snippet)
    return BackendError(name, message, status=status, body=snippet)


def _snippet(body: bytes | bytearray, limit: int = 200) -> str:
    return body[:limit].decode("utf-8", errors="replace").strip()
