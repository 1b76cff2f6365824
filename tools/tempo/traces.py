"""Grafana Tempo as the traces backend, through its HTTP API (``/api/search``, ``/api/traces``).

A search is one TraceQL query (``/api/search?q=...&start=&end=`` in epoch seconds) answering
trace ids and *matching* spans only, so each trace is then fetched whole from
``/api/traces/{id}`` (OTLP/JSON, decoded by :mod:`tools.otlp`), at most :data:`CONCURRENCY` at a
time.

Semantics are those of :func:`tools.backends.select_traces` (as for the bundle):

- the TraceQL is one spanset filter, so all conditions hold for the same span, as in the bundle;
  ``duration >= X`` because the bundle keeps spans of exactly the minimum duration;
- Tempo keeps traces that *overlap* ``[start, end]`` (whole seconds), not traces with a matching
  span starting in the window, so the search asks for a few more than ``limit`` (the slack
  below), the fetched traces are filtered with the bundle's rule, and fetching stops once
  ``limit`` traces passed; they are returned newest first by their earliest span.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from tools.backends import QueryInfo, TraceQuery, matching_traces, select_traces
from tools.concurrency import gather_bounded
from tools.errors import BackendError
from tools.evidence import TimeWindow
from tools.http import JsonClient
from tools.links import Links
from tools.otlp import WireFormatError, decode_spans, integer, items, obj, otlp_trace_id, text
from tools.records import Span
from tools.traceql import traceql

NAME = "tempo"
CONCURRENCY = 8
MAX_REMEMBERED = 10_000  # trace start times kept to give trace links a time range
LINK_MARGIN = timedelta(hours=1)
UNKNOWN_RANGE = timedelta(days=30)


def search_limit(limit: int) -> int:
    """Traces to ask the search for: ``limit`` plus slack for those the window filter drops."""
    return limit + max(10, limit // 5)


def search_params(query: TraceQuery) -> dict[str, str | int | float]:
    return {
        "q": traceql(query),
        "start": math.floor(query.window.start.timestamp()),
        "end": math.ceil(query.window.end.timestamp()),
        "limit": search_limit(query.limit),
        "spss": 1,  # matched spans per trace in the answer: we fetch whole traces anyway
    }


def parse_search(body: object) -> list[tuple[str, int]]:
    """``(trace id, start ns)`` of each search hit, newest first."""
    hits = []
    for raw in items(obj(body, "answer").get("traces"), "traces"):
        hit = obj(raw, "trace")
        trace_id = text(hit.get("traceID"), "traceID").lower()
        if not trace_id or any(c not in "0123456789abcdef" for c in trace_id):
            raise WireFormatError(f"traceID {trace_id[:40]!r} is not a hex id")
        hits.append((trace_id, integer(hit.get("startTimeUnixNano", 0), "startTimeUnixNano")))
    return sorted(hits, key=lambda h: h[1], reverse=True)


class TempoTraces:
    name = NAME

    def __init__(self, client: JsonClient, links: Links) -> None:
        self._client = client
        self._links = links
        self._starts: dict[str, float] = {}  # trace id → earliest span start, for trace_link

    async def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        path = "/api/search"
        body = await self._client.get(path, search_params(query))
        try:
            pending = [trace_id for trace_id, _ in parse_search(body)]
        except WireFormatError as exc:
            raise self._malformed(path, exc) from exc
        found: list[list[Span]] = []
        while pending and len(found) < query.limit:
            batch, pending = (
                pending[: query.limit - len(found)],
                pending[query.limit - len(found) :],
            )
            traces = await gather_bounded([partial(self._fetch, t) for t in batch], CONCURRENCY)
            found += matching_traces(traces, query)
        return select_traces(found, query)

    async def get_trace(self, trace_id: str) -> list[Span]:
        return await self._fetch(trace_id)

    async def _fetch(self, trace_id: str) -> list[Span]:
        # Ids are looked up as loaded: zero-padded hex, or the hash of a non-hex bundle id.
        path = f"/api/traces/{quote(otlp_trace_id(trace_id), safe='')}"
        try:
            body: Any = await self._client.get(path)
        except BackendError as exc:
            if exc.status == 404:
                return []
            raise
        try:
            spans = decode_spans(body)
        except WireFormatError as exc:
            raise self._malformed(path, exc) from exc
        if spans:
            self._remember(spans[0].trace_id, min(s.start for s in spans))
        return spans

    def _remember(self, trace_id: str, start: float) -> None:
        self._starts.pop(trace_id, None)
        self._starts[trace_id] = start
        while len(self._starts) > MAX_REMEMBERED:
            del self._starts[next(iter(self._starts))]

    def _malformed(self, path: str, exc: WireFormatError) -> BackendError:
        return BackendError(self.name, f"unexpected answer to {path}: {exc}")

    def describe(self, query: TraceQuery) -> QueryInfo:
        spanset = traceql(query)
        link = self._links.grafana_explore_traceql(spanset, query.window)
        return QueryInfo(text=spanset, link=link)

    def trace_link(self, trace_id: str) -> str | None:
        """Grafana Explore on the trace id (its Tempo query editor takes a trace id as the
        query). Grafana wants a time range: around the trace when we have fetched it, else the
        last 30 days (Tempo's trace-by-id lookup ignores the range unless configured not to)."""
        start = self._starts.get(otlp_trace_id(trace_id))
        if start is not None:
            moment = datetime.fromtimestamp(start, tz=UTC)
            window = TimeWindow(start=moment - LINK_MARGIN, end=moment + LINK_MARGIN)
        else:
            now = datetime.now(UTC)
            window = TimeWindow(start=now - UNKNOWN_RANGE, end=now + LINK_MARGIN)
        return self._links.grafana_explore_traceql(trace_id, window)
