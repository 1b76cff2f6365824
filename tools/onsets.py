"""Tools: when ERROR log lines and trace errors or latency started to rise (change points).

The engine places the incident start from these and the metrics' onsets
(:func:`tools.analysis.onset.consistent_onset`); both tools only read and report, and every
onset found comes back, strongest first, with evidence for the strongest one that is
significant (:data:`~tools.analysis.onset.MIN_STRENGTH`), with the span the scanned data
covers (:class:`OnsetScan`): a start placed past it would leave the incident none of that data.

Two data-collection choices matter more than the statistics:

* **Logs.** A bucket with no log line at any level is *no data*, not zero errors: counting it
  as zero would make the first minute a collector (or an imported dataset) has data look like
  an outbreak of errors. Such buckets, and the partial buckets at the window's ends, are left
  out. The whole window's ERROR lines are one series; each service with at least
  :data:`MIN_SERVICE_LINES` ERROR lines is another.
* **Traces.** Backends return the *newest* traces matching a query, so one query over the
  window would sample only its end. The window is cut into up to :data:`MAX_SLICES` slices of
  whole buckets, each asked for an equal share of ``trace_sample``. Where a slice holds more
  traces than its share, only its latest part is seen and an onset is placed to within that
  slice, not a bucket: the onset's ``resolution_s`` says so. The share of traces with an error
  span is tested as a binomial proportion (sample sizes per bucket differ), of all traces and,
  for each service with at least :data:`MIN_SERVICE_LINES` failing traces, of the traces
  through it (an error span of its own: one service's fault is a small part of all traces
  where others fail all along); the median entry-span duration per bucket as a level on a log
  scale.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field

from tools.analysis.onset import (
    MIN_SEGMENT,
    MIN_STRENGTH,
    Onset,
    count_change_point,
    level_change_point,
    share_change_point,
)
from tools.backends import (
    LogHistogram,
    LogQuery,
    QueryInfo,
    TraceQuery,
    TracesBackend,
    histogram_buckets,
    unique_traces,
)
from tools.concurrency import gather_all
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import fmt_ms, hhmm
from tools.records import LogLevel, Span
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

MIN_SERVICE_LINES = 5  # fewer ERROR lines in the window are not a rate worth a series
MAX_BUCKETS = 480  # a longer window gets wider buckets: the scan stays small and fast
MAX_SLICES = 40  # trace queries per call, at most
MIN_TRACES_PER_SLICE = 10
ALL_ERRORS = "ERROR log lines (all services)"
ERROR_SHARE = "share of traces with errors"
ENTRY_LATENCY = "entry-span latency"

BucketSeconds = Annotated[
    int, Field(ge=1, le=3600, description="bucket width in seconds (widened for long windows)")
]


@dataclass(frozen=True)
class OnsetScan:
    """One tool's finding: each series' change point, strongest first, and the span from the
    first to the last bucket with data (``None``: no data)."""

    onsets: list[Onset]
    covered: TimeWindow | None


def covered(scans: Sequence[OnsetScan]) -> TimeWindow | None:
    """The span the ``scans``' data covers together (``None``: none had data)."""
    spans = [scan.covered for scan in scans if scan.covered is not None]
    if not spans:
        return None
    return TimeWindow(start=min(s.start for s in spans), end=max(s.end for s in spans))


def _span(starts: Sequence[float], width: float) -> TimeWindow | None:
    """From the first of the bucket ``starts`` to the end of the last one."""
    if not starts:
        return None
    return TimeWindow(
        start=datetime.fromtimestamp(min(starts), UTC),
        end=datetime.fromtimestamp(max(starts) + width, UTC),
    )


@tool(source="logs")
async def log_onsets(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="window to look for the rise in")],
    bucket_seconds: BucketSeconds = 15,
) -> ToolResult[OnsetScan]:
    """When ERROR log lines started to rise: the single change point of the ERROR line rate
    of all services together and of each service with enough lines, strongest first."""
    logs = configured(deps.logs)
    interval = _interval(window, bucket_seconds)
    errors, every = await gather_all(
        logs.histogram(LogQuery(window=window, min_level=LogLevel.ERROR), interval),
        logs.histogram(LogQuery(window=window), interval),
    )
    width = interval.total_seconds()
    keep = _covered(every, window)
    starts = [every.start.timestamp() + i * width for i in keep]
    rows = {service: _kept(counts, keep) for service, counts in sorted(errors.counts.items())}
    series = {ALL_ERRORS: [sum(row[j] for row in rows.values()) for j in range(len(keep))]}
    services: dict[str, str] = {}  # series → its service
    for service, row in rows.items():
        if sum(row) >= MIN_SERVICE_LINES:
            services[f"{service} ERROR log lines"] = service
            series[f"{service} ERROR log lines"] = row
    onsets: list[Onset] = []
    for what, counts in series.items():
        found = count_change_point(starts, counts, width)
        if found is not None:
            at, strength, before, after = found
            onsets.append(Onset(at, "logs", what, before, after, "/min", strength, width))
    onsets.sort(key=lambda o: (-o.strength, o.at))
    warnings = _log_warnings(series[ALL_ERRORS], len(starts), width)
    data_span = _span(starts, width)
    evidence = []
    if onsets and onsets[0].strength >= MIN_STRENGTH:
        top = onsets[0]
        named = services.get(top.what)
        query = LogQuery(
            window=window, services=(named,) if named else (), min_level=LogLevel.ERROR
        )
        evidence.append(_evidence("onset:logs", top, window, logs.describe(query), named))
    return ToolResult(
        "log_onsets",
        "logs",
        logs.name,
        ToolStatus.OK,
        data=OnsetScan(onsets, data_span),
        evidence=evidence,
        warnings=warnings,
    )


@tool(source="traces")
async def trace_onsets(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="window to sample traces from")],
    bucket_seconds: BucketSeconds = 15,
) -> ToolResult[OnsetScan]:
    """When traces started to fail or slow down: the change points of the share of sampled
    traces with an error span (of all, and of those through each service with enough failing
    ones) and of the median entry-span duration, sampled evenly over the window, strongest
    first."""
    traces = configured(deps.traces)
    interval = _interval(window, bucket_seconds)
    width = interval.total_seconds()
    first, buckets = histogram_buckets(window, interval)
    sample = await _sample(traces, _Grid(window, first, buckets, width), deps.limits.trace_sample)
    resolution = sample.resolution_s
    origin = first.timestamp()
    sampled = sample.traces
    every = _Shares.empty(buckets)  # all traces' errors and totals per bucket
    durations: list[list[float]] = [[] for _ in range(buckets)]
    through: dict[str, _Shares] = {}  # service → its traces' errors and totals per bucket
    for spans in sampled:
        root = _root(spans)
        index = int((root.start - origin) // width)
        if 0 <= index < buckets:
            every.totals[index] += 1
            every.errors[index] += any(s.error for s in spans)
            durations[index].append(root.duration_ms / 1000)
            failing = {s.service for s in spans if s.error}
            for service in {s.service for s in spans}:
                shares = through.setdefault(service, _Shares.empty(buckets))
                shares.totals[index] += 1
                shares.errors[index] += service in failing
    starts = [origin + i * width for i in range(buckets)]
    medians = [statistics.median(d) if d else None for d in durations]
    onsets: list[Onset] = []
    series = {ERROR_SHARE: every}
    services: dict[str, str] = {}  # series → its service
    for service, shares in sorted(through.items()):
        if sum(shares.errors) >= MIN_SERVICE_LINES:
            series[f"{ERROR_SHARE} in {service}"] = shares
            services[f"{ERROR_SHARE} in {service}"] = service
    for what, shares in series.items():
        share = share_change_point(starts, shares.errors, shares.totals)
        if share is not None:
            at, strength, before, after = share
            onsets.append(Onset(at, "traces", what, before, after, "share", strength, resolution))
    level = level_change_point(starts, medians, width)
    if level is not None:
        at, strength, before, after = level
        onsets.append(Onset(at, "traces", ENTRY_LATENCY, before, after, "s", strength, resolution))
    onsets.sort(key=lambda o: (-o.strength, o.at))
    data_span = _span([at for at, total in zip(starts, every.totals, strict=True) if total], width)
    warnings = [] if sampled else ["no traces in the window"]
    if resolution > width:
        warnings.append(
            f"{sample.short} of {sample.slices} time slices held more traces than were sampled "
            f"from them: trace onsets are placed to within {resolution:g} s"
        )
    evidence = []
    if onsets and onsets[0].strength >= MIN_STRENGTH:
        top = onsets[0]
        named = services.get(top.what)
        errors_only = top.what.startswith(ERROR_SHARE)
        query = TraceQuery(window=window, service=named, errors_only=errors_only)
        evidence.append(_evidence("onset:traces", top, window, traces.describe(query), named))
    return ToolResult(
        "trace_onsets",
        "traces",
        traces.name,
        ToolStatus.OK,
        data=OnsetScan(onsets, data_span),
        evidence=evidence,
        warnings=warnings,
    )


def _interval(window: TimeWindow, bucket_seconds: int) -> timedelta:
    """The bucket width: as asked, or wider so the window has at most :data:`MAX_BUCKETS`."""
    widest = math.ceil(window.duration.total_seconds() / MAX_BUCKETS)
    return timedelta(seconds=max(bucket_seconds, widest))


def _covered(every: LogHistogram, window: TimeWindow) -> list[int]:
    """Indexes of the buckets wholly inside ``window`` with at least one log line."""
    width = every.interval.total_seconds()
    origin = every.start.timestamp()
    low, high = window.start.timestamp(), window.end.timestamp()
    return [
        i
        for i, total in enumerate(every.totals())
        if origin + i * width >= low and origin + (i + 1) * width <= high and total
    ]


def _kept(counts: Sequence[int], keep: Sequence[int]) -> list[int]:
    """``counts`` at the ``keep`` indexes (0 past its end: a backend may leave off empty ones)."""
    return [counts[i] if i < len(counts) else 0 for i in keep]


def _log_warnings(total: Sequence[int], buckets: int, width: float) -> list[str]:
    if not buckets:
        return ["no log lines in the window"]
    if not sum(total):
        return ["no ERROR log lines in the window"]
    if buckets < 2 * MIN_SEGMENT:
        return [f"only {buckets} buckets of {width:g} s with log lines: too few for an onset"]
    return []


@dataclass(frozen=True)
class _Shares:
    errors: list[int]
    totals: list[int]

    @classmethod
    def empty(cls, buckets: int) -> _Shares:
        return cls([0] * buckets, [0] * buckets)


@dataclass(frozen=True)
class _Grid:
    """The buckets of a window: ``count`` of ``width`` seconds from ``first``."""

    window: TimeWindow
    first: datetime
    count: int
    width: float

    def slices(self, buckets: range, per: int) -> list[TimeWindow]:
        """Windows of ``per`` buckets over ``buckets`` (clipped to the window)."""
        out = []
        for i in buckets[::per]:
            start = max(self.first + timedelta(seconds=i * self.width), self.window.start)
            last = min(i + per, buckets.stop)
            end = min(self.first + timedelta(seconds=last * self.width), self.window.end)
            if end > start:
                out.append(TimeWindow(start=start, end=end))
        return out


@dataclass(frozen=True)
class _Sample:
    traces: list[list[Span]]
    resolution_s: float  # how closely the sample places a change
    short: int  # slices the sample saw only the latest part of
    slices: int


async def _sample(backend: TracesBackend, grid: _Grid, budget: int) -> _Sample:
    """Traces spread over the window: up to :data:`MAX_SLICES` slices of whole buckets share
    ``budget``; what the slices with fewer traces leave unspent goes, bucket by bucket, to the
    slices that held more than their share (a backend returns the newest traces of a slice, so
    of those only the latest part was seen)."""
    count = max(1, min(grid.count, MAX_SLICES, budget // MIN_TRACES_PER_SLICE))
    per = math.ceil(grid.count / count)
    slices = grid.slices(range(grid.count), per)
    limit = max(1, budget // len(slices))
    pages = await _pages(backend, slices, limit)
    short = [w for w, page in zip(slices, pages, strict=True) if len(page) >= limit]
    finer = [b for w in short for b in _buckets_of(grid, w)] if per > 1 else []
    left = budget - sum(len(page) for page in pages)
    refined = bool(finer) and left >= len(finer)
    if refined:
        pages += await _pages(backend, finer, left // len(finer))
    placed = not short or per == 1 or refined
    resolution = grid.width if placed else max(w.duration.total_seconds() for w in short)
    return _Sample(
        list(unique_traces(t for page in pages for t in page).values()),
        resolution,
        len(short),
        len(slices),
    )


async def _pages(
    backend: TracesBackend, windows: Sequence[TimeWindow], limit: int
) -> list[list[list[Span]]]:
    return list(
        await gather_all(*(backend.find_traces(TraceQuery(window=w, limit=limit)) for w in windows))
    )


def _buckets_of(grid: _Grid, window: TimeWindow) -> list[TimeWindow]:
    origin = grid.first.timestamp()
    low = int((window.start.timestamp() - origin) // grid.width)
    high = math.ceil((window.end.timestamp() - origin) / grid.width)
    return grid.slices(range(low, high), 1)


def _root(spans: Sequence[Span]) -> Span:
    """The entry span: without a parent in the trace; the earliest (then longest) of several."""
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if s.parent_id is None or s.parent_id not in ids] or list(spans)
    return min(roots, key=lambda s: (s.start, -s.duration_ms))


def _figure(value: float, unit: str) -> str:
    if unit == "s":
        return fmt_ms(value * 1000)
    if unit == "share":
        return f"{value:.1%}" if 0 < value < 0.1 else f"{value:.0%}"
    if value == 0:
        return "0/min"
    digits = 2 if value < 0.1 else 1 if value < 10 else 0
    return f"{value:.{digits}f}/min"


def _evidence(
    key: str, onset: Onset, window: TimeWindow, info: QueryInfo, service: str | None
) -> EvidenceDraft:
    before, after = _figure(onset.before, onset.unit), _figure(onset.after, onset.unit)
    at = hhmm(onset.at)
    level = "median per bucket, typically" if onset.unit == "s" else "on average"
    return EvidenceDraft(
        key=key,
        source=Source(onset.source),
        title=f"{onset.what} rose from {before} to {after} at {at}",
        summary=(
            f"{onset.what} ({level}): {before} before {at}, {after} from then on, in buckets "
            f"of {onset.resolution_s:g} s between {hhmm(window.start)} and {hhmm(window.end)}. "
            f"That is the single change that fits best, with a log-likelihood ratio of "
            f"{onset.strength:.1f} against no change."
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=service,
        score=onset.strength,
    )
