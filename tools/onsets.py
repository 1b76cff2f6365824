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
  window would sample only its end: the sample is spread over the window
  (:mod:`tools.trace_spread`), and where a slice of it held more traces than its share an
  onset is placed to within that slice, not a bucket: the onset's ``resolution_s`` says so.
  The share of traces with an error span is tested as a binomial proportion (sample sizes per
  bucket differ), of all traces and, for each service with at least
  :data:`MIN_SERVICE_LINES` failing traces, of the traces through it (an error span of its
  own: one service's fault is a small part of all traces where others fail all along); the
  median entry-span duration per bucket as a level on a log scale, and so the median duration
  of the calls into each service, as its callers saw them (the client span where there is
  one: a delay on the callee's network or in its queue shows there, and not in the callee's
  own spans nor, when the callee serves a small part of the requests, in the entry spans).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field

from tools.analysis.client_spans import service_calls
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
    histogram_buckets,
)
from tools.concurrency import gather_all
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import fmt_ms, hhmm
from tools.records import LogLevel, Span
from tools.result import ToolResult, ToolStatus
from tools.tool import tool
from tools.trace_spread import Grid, spread_sample

# Spans carry their own start times, so traces place a change finer than a log histogram's
# buckets: 5 s buckets need MIN_SEGMENT · 5 = 15 s of traces on each side of a change, where
# 15 s buckets needed 45 s; a trace store's retention or a recording often begins only a minute
# before the fault (Nezha's cases), and then 45 s left the change unplaceable.
TRACE_BUCKET_SECONDS = 5
MIN_SERVICE_LINES = 5  # fewer ERROR lines in the window are not a rate worth a series
MAX_BUCKETS = 480  # a longer window gets wider buckets: the scan stays small and fast
ALL_ERRORS = "ERROR log lines (all services)"
ERROR_SHARE = "share of traces with errors"
ENTRY_LATENCY = "entry-span latency"
CALL_LATENCY = "latency of calls into"

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
            # one service's lines are separate evidence for another's; all lines hold both
            records = what if what in services else ""
            onsets.append(Onset(at, "logs", what, before, after, "/min", strength, width, records))
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
    bucket_seconds: BucketSeconds = TRACE_BUCKET_SECONDS,
) -> ToolResult[OnsetScan]:
    """When traces started to fail or slow down: the change points of the share of sampled
    traces with an error span (of all, and of those through each service with enough failing
    ones), of the median entry-span duration and of the median duration of the calls into
    each service, sampled evenly over the window, strongest first."""
    traces = configured(deps.traces)
    interval = _interval(window, bucket_seconds)
    width = interval.total_seconds()
    first, buckets = histogram_buckets(window, interval)
    sample = await spread_sample(
        traces, Grid(window, first, buckets, width), deps.limits.trace_sample
    )
    resolution = sample.resolution_s
    origin = first.timestamp()
    sampled = sample.traces
    every = _Shares.empty(buckets)  # all traces' errors and totals per bucket
    durations: list[list[float]] = [[] for _ in range(buckets)]
    through: dict[str, _Shares] = {}  # service → its traces' errors and totals per bucket
    calls: dict[str, list[list[float]]] = {}  # service → durations of the calls into it
    for spans in sampled:
        for callee, moment, seconds in service_calls(spans):
            slot = int((moment - origin) // width)
            if 0 <= slot < buckets:
                calls.setdefault(callee, [[] for _ in range(buckets)])[slot].append(seconds)
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
    levels = {ENTRY_LATENCY: medians}
    for service, durations_ in sorted(calls.items()):
        what = f"{CALL_LATENCY} {service}"
        levels[what] = [statistics.median(d) if d else None for d in durations_]
        services[what] = service
    # the strongest of many services' call series is strong by chance more often: each is
    # discounted by the log of their number (a Bonferroni correction on the likelihood scale)
    family = math.log(max(1, len(calls)))
    for what, values in levels.items():
        level = level_change_point(starts, values, width)
        if level is not None:
            at, strength, before, after = level
            strength -= family if what != ENTRY_LATENCY else 0.0
            # each level series is made of its own spans: the entry spans, the calls into one
            # service; a change in one is separate evidence for a change in another
            records = "entry spans" if what == ENTRY_LATENCY else what
            onsets.append(
                Onset(at, "traces", what, before, after, "s", strength, resolution, records)
            )
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
