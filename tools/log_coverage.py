"""How many minutes of a period the logs cover: the time a log rate is per.

A rate over a whole window is wrong where logs cover only part of it (a bundle with a
35-minute metric window and 3 minutes of logs; a collector that stopped): 8 errors in 2 logged
minutes would read as 8 in 35. One histogram of every line finds the stretches without any
line longer than :data:`GAP` (a quiet service writes a line a minute; nothing for minutes is
missing data) and leaves them out, before the first line and after the last too, to the
bucket.

Buckets are aligned to the epoch, not to the period, so the first and the last may reach past
its ends; only the part inside counts. The period before an incident start 1 s into a bucket
had counted that bucket whole, 14 s of the incident as normal: where the logs begin just
before the start that was most of normal (Nezha's case of 2023-01-29 10:50 without its
fault-free phase: 30 s for 16, against which ts-order-service's "Left ticket info is empty"
read as new).

A period without a single line is no logged minute at all (the logs were not there): a
recording that begins at the incident gave the minutes before it no errors, and every
pattern since read as new.
"""

from __future__ import annotations

from datetime import timedelta

from tools.backends import LogQuery, LogsBackend
from tools.evidence import TimeWindow

COVERAGE_BUCKETS = 240  # at most; 15 s buckets for an hour
GAP = timedelta(minutes=2)  # no line for longer than this: the logs were not there


async def logged_minutes(
    logs: LogsBackend,
    window: TimeWindow | None,
    services: tuple[str, ...],
) -> float:
    """The minutes of ``window`` that the logs of ``services`` (all: empty) cover; at least a
    second where there is a line, 0 where there is none."""
    if window is None:
        return 0.0
    seconds = window.duration.total_seconds()
    width = max(15.0, seconds / COVERAGE_BUCKETS)
    histogram = await logs.histogram(
        LogQuery(window=window, services=services), timedelta(seconds=width)
    )
    lines = [total > 0 for total in histogram.totals()]
    if True not in lines:
        return 0.0  # no line at all: the logs were not there, not minutes without errors
    longest_quiet = max(1, int(GAP.total_seconds() // width))
    covered, quiet, seen = 0, 0, False
    for has_lines in lines:
        if has_lines:
            covered += 1 + (quiet if seen and quiet <= longest_quiet else 0)
            quiet, seen = 0, True
        else:
            quiet += 1
    first, last = lines.index(True), len(lines) - 1 - lines[::-1].index(True)
    start = histogram.start + first * histogram.interval
    end = histogram.start + (last + 1) * histogram.interval
    outside = max((window.start - start).total_seconds(), 0.0)
    outside += max((end - window.end).total_seconds(), 0.0)
    return max(min(covered * width - outside, seconds), 1.0) / 60
