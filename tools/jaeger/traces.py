"""Jaeger as the traces backend, through the query service's HTTP JSON API (``/api/...``).

That is the API the Jaeger UI itself uses (jaeger-query, port 16686), the same in Jaeger 1.x
and v2: ``/api/services``, ``/api/traces?service=...`` (a search; whole traces come back) and
``/api/traces/{id}``. Answers are ``{"data": [...], "errors": [...]}``; a trace is its spans
plus a ``processes`` table that names each span's service.

Semantics are those of :func:`tools.backends.select_traces` (as for the bundle), so an
investigation reads the same traces from a bundle and from Jaeger after ``rcabot load``:

- Jaeger's ``end`` is inclusive and in microseconds, so we send ``end - 1 µs`` for ``[start,
  end)``; ``tags={"error":"true"}`` matches spans with ``error=true`` (which Jaeger also adds to
  OTLP spans with status ERROR); ``minDuration`` is inclusive like the bundle's rule.
- Jaeger needs a service. Without one we search every service in ``/api/services`` (at most
  :data:`CONCURRENCY` at a time) and merge: every trace of the overall newest ``limit`` is among
  its own service's newest ``limit``, so the merge is the bundle's answer.
- Storage backends differ in how they match (Cassandra intersects one index per condition, so a
  trace can match with the conditions met by different spans) and which traces they keep when
  more than ``limit`` match (Elasticsearch: the latest *matching span*). We therefore filter the
  returned traces with the bundle's rule and order them newest first by their earliest span.
  What cannot be repaired is the choice of traces when more than ``limit`` match.
- ``errors`` in an answer: with no data they are the answer (a ``BackendError`` quoting them,
  or empty for "trace not found"); next to data they are per-trace failures, logged and skipped.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from tools.backends import QueryInfo, TraceQuery, select_traces
from tools.concurrency import gather_bounded
from tools.errors import BackendError
from tools.http import JsonClient
from tools.links import Links
from tools.otlp import WireFormatError, integer, items, obj, otlp_trace_id, text
from tools.records import Span
from tools.traceql import go_duration

NAME = "jaeger"
CONCURRENCY = 8
ERROR_TAGS = json.dumps({"error": "true"}, separators=(",", ":"))
KINDS = frozenset({"server", "client", "internal", "producer", "consumer"})
# Tags that carry what Span has fields for, or only say how the span was converted.
_TRANSPORT_TAGS = frozenset(
    {
        "error",
        "span.kind",
        "otel.status_code",
        "otel.scope.name",
        "otel.scope.version",
        "otel.library.name",
        "otel.library.version",
        "internal.span.format",
    }
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_log = logging.getLogger(__name__)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (Jaeger's ``start``/``end`` unit)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def search_params(service: str, query: TraceQuery) -> dict[str, str | int | float]:
    """``/api/traces`` parameters for ``query`` restricted to ``service``."""
    params: dict[str, str | int | float] = {
        "service": service,
        "start": micros(query.window.start),
        "end": micros(query.window.end) - 1,  # Jaeger's end is inclusive
        "limit": query.limit,
    }
    if query.operation:
        params["operation"] = query.operation
    if query.errors_only:
        params["tags"] = ERROR_TAGS
    if query.min_duration:
        params["minDuration"] = go_duration(query.min_duration)
    return params


def _hex(value: object, what: str) -> str:
    raw = text(value, what).lower()
    if not raw or any(c not in "0123456789abcdef" for c in raw):
        raise WireFormatError(f"{what} {raw[:40]!r} is not a hex id")
    return raw


def _tag_value(tag: dict[str, Any], key: str) -> Any:
    """A tag's value as Python, by its declared type (Jaeger writes int64s that do not fit in a
    JavaScript number as strings, and older versions write every value as a string)."""
    kind, value = tag.get("type", "string"), tag.get("value")
    if kind == "bool":
        return value is True or value == "true"
    if kind == "int64":
        return integer(value, f"tag {key}")
    if kind == "float64":
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(value)
            return float(value)
        except ValueError as exc:
            raise WireFormatError(f"tag {key}: {value!r} is not a float64") from exc
    return value  # string, binary (base64 text)


def _tags(value: object, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for raw in items(value, what):
        tag = obj(raw, what)
        key = text(tag.get("key"), f"{what} key")
        out[key] = _tag_value(tag, key)
    return out


def _parent(span: dict[str, Any], trace_id: str) -> str | None:
    """The first CHILD_OF reference within the trace, else the first FOLLOWS_FROM (Jaeger's own
    rule); references into other traces are links, not parents."""
    refs = [obj(r, "reference") for r in items(span.get("references"), "references")]
    for ref_type in ("CHILD_OF", "FOLLOWS_FROM"):
        for ref in refs:
            if ref.get("refType") != ref_type:
                continue
            if int(_hex(ref.get("traceID"), "reference traceID"), 16) == int(trace_id, 16):
                return _hex(ref.get("spanID"), "reference spanID")
    legacy = span.get("parentSpanID")  # pre-1.0 JSON
    if legacy and int(_hex(legacy, "parentSpanID"), 16) != 0:
        return _hex(legacy, "parentSpanID")
    return None


def _service(span: dict[str, Any], services: dict[str, str]) -> str:
    if isinstance(span.get("process"), dict):  # a span as stored, with its process inline
        return text(span["process"].get("serviceName"), "process serviceName")
    pid = text(span.get("processID"), "processID")
    if pid not in services:
        raise WireFormatError(f"span names process {pid!r}, which the trace does not list")
    return services[pid]


def parse_span(raw: object, services: dict[str, str]) -> Span:
    span = obj(raw, "span")
    trace_id = _hex(span.get("traceID"), "traceID")
    tags = _tags(span.get("tags"), "tags")
    kind = str(tags.get("span.kind", "internal")).lower()
    return Span(
        trace_id=trace_id,
        span_id=_hex(span.get("spanID"), "spanID"),
        parent_id=_parent(span, trace_id),
        service=_service(span, services),
        operation=text(span.get("operationName"), "operationName", default=""),
        start=integer(span.get("startTime"), "startTime") / 1e6,
        duration_ms=integer(span.get("duration", 0), "duration") / 1000,
        error=tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR",
        kind=kind if kind in KINDS else "internal",
        attrs=MappingProxyType({k: v for k, v in tags.items() if k not in _TRANSPORT_TAGS}),
    )


def parse_trace(raw: object) -> list[Span]:
    """One trace of ``data[]`` (the shape of Jaeger's ``ui_01.json`` fixture) as spans."""
    trace = obj(raw, "trace")
    processes = obj(trace.get("processes") or {}, "processes")
    services = {
        pid: text(obj(p, f"process {pid}").get("serviceName"), f"process {pid} serviceName")
        for pid, p in processes.items()
    }
    return [parse_span(s, services) for s in items(trace.get("spans"), "spans")]


class JaegerTraces:
    name = NAME

    def __init__(self, client: JsonClient, links: Links) -> None:
        self._client = client
        self._links = links

    async def services(self) -> list[str]:
        body = await self._get("/api/services")
        try:
            return [text(s, "service") for s in self._data(body, "/api/services")]
        except WireFormatError as exc:
            raise self._malformed("/api/services", exc) from exc

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        services = [query.service] if query.service else await self.services()
        pages = await gather_bounded(
            [partial(self._search, service, query) for service in services], CONCURRENCY
        )
        return select_traces((trace for page in pages for trace in page), query)

    async def _search(self, service: str, query: TraceQuery) -> list[list[Span]]:
        body = await self._get("/api/traces", search_params(service, query))
        return self._traces(body, f"/api/traces?service={service}")

    async def get_trace(self, trace_id: str) -> list[Span]:
        # Ids are looked up as loaded: zero-padded hex, or the hash of a non-hex bundle id.
        path = f"/api/traces/{quote(otlp_trace_id(trace_id), safe='')}"
        try:
            body = await self._get(path)
        except BackendError as exc:
            if exc.status == 404:
                return []
            raise
        return [span for trace in self._traces(body, path) for span in trace]

    async def _get(self, path: str, params: dict[str, str | int | float] | None = None) -> Any:
        return await self._client.get(path, params)

    def _data(self, body: Any, path: str) -> list[Any]:
        """``data[]`` of an answer; ``errors[]`` handled as the module docstring says."""
        envelope = obj(body, "answer")
        data = items(envelope.get("data"), "data")
        errors = [obj(e, "error") for e in items(envelope.get("errors"), "errors")]
        if errors and not data:
            if all(e.get("code") == 404 for e in errors):
                return []
            messages = "; ".join(str(e.get("msg", e)) for e in errors)
            raise BackendError(self.name, f"{path} answered errors: {messages[:300]}")
        if errors:
            _log.warning("jaeger %s: %d partial errors, e.g. %s", path, len(errors), errors[0])
        return data

    def _traces(self, body: Any, path: str) -> list[list[Span]]:
        try:
            return [parse_trace(t) for t in self._data(body, path)]
        except WireFormatError as exc:
            raise self._malformed(path, exc) from exc

    def _malformed(self, path: str, exc: WireFormatError) -> BackendError:
        return BackendError(self.name, f"unexpected answer to {path}: {exc}")

    def describe(self, query: TraceQuery) -> QueryInfo:
        parts = [
            f"service={json.dumps(query.service)}" if query.service else "service=<each service>"
        ]
        if query.operation:
            parts.append(f"operation={json.dumps(query.operation)}")
        if query.errors_only:
            parts.append(f"tags={ERROR_TAGS}")
        if query.min_duration:
            parts.append(f"minDuration={go_duration(query.min_duration)}")
        parts.append(f"limit={query.limit}")
        link = None
        if query.service:
            link = self._links.jaeger_search(
                query.service, query.window, errors_only=query.errors_only
            )
        return QueryInfo(text="GET /api/traces " + " ".join(parts), link=link)

    def trace_link(self, trace_id: str) -> str | None:
        return self._links.jaeger_trace(trace_id)
