"""Send a bundle's spans to a traces backend over OTLP/HTTP with JSON bodies.

OTLP/HTTP (``POST {base}/v1/traces``, ``Content-Type: application/json``) is the one write
protocol that both Jaeger (its collector's OTLP receiver, port 4318) and Tempo (its
distributor's OTLP receiver) accept, so the loader needs no per-backend code. Bodies are
``ExportTraceServiceRequest``\\ s built by :func:`tools.otlp.encode_spans`, ``batch_size``
spans each, grouped by service into ``resourceSpans`` with ``service.name``.

Ids become fixed-width OTLP ids (see :mod:`tools.otlp`). Batches are sent one after the other
and not retried: a retried batch that had in fact arrived would duplicate its spans. Every
failure is a :class:`BackendError` naming the URL; a response reporting rejected spans
(OTLP's ``partialSuccess``) is one too, since the loaded data would silently differ.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx

from tools.errors import BackendError
from tools.http import status_error, transport_error
from tools.otlp import encode_spans
from tools.records import Span

NAME = "otlp"
PATH = "/v1/traces"


def traces_url(otlp_url: str) -> str:
    """``{base}/v1/traces``; a URL that already ends with the path is used as is."""
    base = otlp_url.rstrip("/")
    return base if base.endswith(PATH) else base + PATH


async def export_spans(
    http: httpx.AsyncClient, otlp_url: str, spans: Sequence[Span], *, batch_size: int = 2000
) -> int:
    """POST ``spans`` as OTLP/JSON to ``{otlp_url}/v1/traces``; the number of spans sent."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    url = traces_url(otlp_url)
    for first in range(0, len(spans), batch_size):
        batch = spans[first : first + batch_size]
        body = json.dumps(encode_spans(batch), separators=(",", ":")).encode("utf-8")
        await _post(http, url, body, len(batch), first)
    return len(spans)


async def _post(http: httpx.AsyncClient, url: str, body: bytes, count: int, first: int) -> None:
    where = f"spans {first}-{first + count - 1} to {url}"
    try:
        response = await http.post(url, content=body, headers={"Content-Type": "application/json"})
    except httpx.TransportError as exc:
        raise transport_error(NAME, exc, f"sending {where}") from exc
    if error := status_error(NAME, response.status_code, f"for {where}", response.content):
        raise error
    rejected, message = _rejected(response)
    if rejected:
        raise BackendError(NAME, f"{rejected} of {count} {where} were rejected: {message}")


def _rejected(response: httpx.Response) -> tuple[int, str]:
    """Spans the receiver refused (``partialSuccess.rejectedSpans``) and why; an empty or
    non-JSON success body (some receivers answer ``{}`` or nothing) rejected none."""
    try:
        answer = response.json()
    except ValueError:
        return 0, ""
    partial = answer.get("partialSuccess") if isinstance(answer, dict) else None
    if not isinstance(partial, dict):
        return 0, ""
    try:
        rejected = int(partial.get("rejectedSpans") or 0)
    except (TypeError, ValueError):
        rejected = 0
    return rejected, str(partial.get("errorMessage") or "no reason given")
