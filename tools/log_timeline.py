"""Tool: error log counts over time per service (Elasticsearch ``date_histogram``).

Answers "when did the errors start, and where?" with one aggregation instead of fetching lines:
the backend counts matching records per service per bucket, this tool picks a readable bucket
size (about ``buckets`` of them across the window), finds each service's first and peak bucket,
and writes one evidence item per service with the counts as a compact sparkline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from tools.backends import LogHistogram, LogQuery, LogsBackend
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import hhmm
from tools.records import LogLevel
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "log_timeline"
MAX_EVIDENCE = 6
# Bucket sizes people read easily; the smallest one giving at most ``buckets`` buckets wins.
NICE_INTERVALS_S = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


@dataclass(frozen=True, slots=True)
class ServiceTimeline:
    service: str
    counts: list[int]
    first_at: datetime  # start of the first bucket with a matching line
    peak: int
    peak_at: datetime

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class LogTimeline:
    start: datetime
    interval: timedelta
    services: list[ServiceTimeline]  # most matching lines first


def bucket_interval(window: TimeWindow, buckets: int) -> timedelta:
    """The smallest readable bucket size that splits ``window`` into at most ``buckets``."""
    seconds = window.duration.total_seconds() / buckets
    for nice in NICE_INTERVALS_S:
        if nice >= seconds:
            return timedelta(seconds=nice)
    return timedelta(seconds=NICE_INTERVALS_S[-1])


def summarize(histogram: LogHistogram) -> LogTimeline:
    """Per service: first and peak bucket; services ordered by total, then name."""
    timelines = []
    for service, counts in histogram.counts.items():
        if not any(counts):
            continue
        first = next(i for i, c in enumerate(counts) if c)
        peak = max(range(len(counts)), key=lambda i: (counts[i], -i))
        timelines.append(
            ServiceTimeline(
                service=service,
                counts=list(counts),
                first_at=histogram.start + histogram.interval * first,
                peak=counts[peak],
                peak_at=histogram.start + histogram.interval * peak,
            )
        )
    timelines.sort(key=lambda t: (-t.total, t.service))
    return LogTimeline(histogram.start, histogram.interval, timelines)


def _span(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _evidence(
    line: ServiceTimeline,
    timeline: LogTimeline,
    logs: LogsBackend,
    window: TimeWindow,
    min_level: LogLevel,
) -> EvidenceDraft:
    info = logs.describe(LogQuery(window=window, services=(line.service,), min_level=min_level))
    level = min_level.label.upper()
    per = _span(timeline.interval)
    return EvidenceDraft(
        key=f"logs:timeline:{line.service}:{min_level.label}",
        source=Source.LOGS,
        title=f"{line.service}: {line.total} {level}+ log lines, first at {hhmm(line.first_at)}",
        summary=(
            f"{line.service} logged {line.total} {level}+ lines in the window; the first "
            f"{per} bucket with any starts at {hhmm(line.first_at)}, the busiest "
            f"({line.peak} lines) at {hhmm(line.peak_at)}."
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=line.service,
        score=float(line.peak),
        excerpt=clip(
            f"{level}+ per {per} from {hhmm(timeline.start)}: "
            + " ".join(str(c) for c in line.counts)
        ),
    )


@tool(source="logs")
async def log_timeline(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="whole window to count in")],
    services: Annotated[tuple[str, ...], Field(description="limit to these; empty = all")] = (),
    min_level: Annotated[LogLevel, Field(description="count lines at or above")] = LogLevel.ERROR,
    buckets: Annotated[int, Field(ge=2, le=200, description="about this many time buckets")] = 30,
) -> ToolResult[LogTimeline]:
    """Count log lines at or above a level per service over time (a date histogram): when
    errors started and peaked in each service, without fetching the lines themselves."""
    logs = configured(deps.logs)
    interval = bucket_interval(window, buckets)
    query = LogQuery(window=window, services=services, min_level=min_level)
    timeline = summarize(await logs.histogram(query, interval))
    evidence = [
        _evidence(t, timeline, logs, window, min_level) for t in timeline.services[:MAX_EVIDENCE]
    ]
    warnings = (
        [] if timeline.services else [f"no {min_level.label.upper()}+ log lines in the window"]
    )
    return ToolResult(
        NAME,
        "logs",
        logs.name,
        ToolStatus.OK,
        data=timeline,
        evidence=evidence,
        warnings=warnings,
    )
