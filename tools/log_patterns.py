"""Tool: error bursts per service and the log templates that are new or growing.

"New" and "growing" are relative to a baseline: the records before the incident start, or, given
a ``reference`` window (a healthy period), that window's records from the same backend, so that
errors a service also logs when healthy stop looking like news. A service with no log line at
all in the reference keeps the records before the incident as its baseline, which the result
says.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field

from tools.analysis.log_templates import LogPattern, ServiceErrorBurst, error_bursts, mine_patterns
from tools.backends import LogPage, LogQuery, LogsBackend
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import hhmm
from tools.records import LogLevel
from tools.reference import fallback_warning
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "log_patterns"
MIN_BURST_SCORE = 1.0
MIN_PATTERN_SCORE = 2.0
MAX_BURST_EVIDENCE = 6
MAX_PATTERN_EVIDENCE = 8
_MASK = re.compile(r"<[A-Z*]+>")


@dataclass(frozen=True)
class LogFindings:
    bursts: list[ServiceErrorBurst]
    patterns: list[tuple[LogPattern, float]]  # (pattern, score), highest first
    sampled: int
    total_warn: int


def constant_phrase(template: str) -> str:
    """The longest run of literal words in a template: what to search for."""
    runs = [part.strip(" :=,()[]") for part in _MASK.split(template)]
    best = max(runs, key=len, default="")
    return " ".join(best.split()[:8])


def _minutes(window: TimeWindow | None) -> float:
    return window.duration.total_seconds() / 60 if window else 0.0


@tool(source="logs")
async def log_patterns(
    deps: Deps,
    window: Annotated[TimeWindow, Field(description="whole window to read")],
    incident_start: Annotated[datetime, Field(description="records before this are the baseline")],
    services: Annotated[tuple[str, ...], Field(description="limit to these; empty = all")] = (),
    reference: Annotated[
        TimeWindow | None,
        Field(description="a healthy period whose records are the baseline instead"),
    ] = None,
) -> ToolResult[LogFindings]:
    """Compare ERROR+ counts per service and WARN+ log templates before and after the
    incident start (or against the ``reference`` period); evidence for services whose error
    rate jumped and for new patterns."""
    logs = configured(deps.logs)
    before, after = window.split(incident_start)
    half = deps.limits.log_sample // 2
    periods = (before, after, reference)
    warn_queries = [
        LogQuery(window=w, services=services, min_level=LogLevel.WARN, limit=half) if w else None
        for w in periods
    ]
    error_queries = [
        LogQuery(window=w, services=services, min_level=LogLevel.ERROR) if w else None
        for w in periods
    ]
    present = LogQuery(window=reference, services=services) if reference else None
    pages, counts, in_reference = await asyncio.gather(
        asyncio.gather(*(logs.search(q) if q else _no_page() for q in warn_queries)),
        asyncio.gather(*(logs.count_by_service(q) if q else _empty() for q in error_queries)),
        logs.count_by_service(present) if present else _empty(),
    )
    covered = frozenset(in_reference)  # services with any log line in the reference
    records = [r for r in pages[0].records if r.service not in covered] + pages[1].records
    normal = [r for r in pages[2].records if r.service in covered]
    total_warn = sum(page.total for page in pages)
    minutes = _Minutes(_minutes(before), _minutes(after), _minutes(reference), covered)
    bursts = _bursts(counts, minutes)
    patterns = mine_patterns(records, incident_start, deps.text.redact, normal)
    scored = sorted(
        ((p, p.score(minutes.baseline(p.service), minutes.incident)) for p in patterns),
        key=lambda ps: -ps[1],
    )
    evidence = [
        _burst_evidence(b, logs, after or window, b.service in covered)
        for b in bursts[:MAX_BURST_EVIDENCE]
        if b.score >= MIN_BURST_SCORE
    ]
    evidence += [
        _pattern_evidence(p, s, logs, after or window, p.service in covered)
        for p, s in scored[:MAX_PATTERN_EVIDENCE]
        if s >= MIN_PATTERN_SCORE
    ]
    sampled = len(records) + len(normal)
    warnings = (
        [f"templates mined from a sample of {sampled} of {total_warn} WARN+ lines"]
        if any(page.truncated for page in pages)
        else []
    )
    if reference is not None:
        seen = {b.service for b in bursts} | {p.service for p in patterns}
        warnings += fallback_warning("log lines", reference, seen - covered, len(seen))
    return ToolResult(
        NAME,
        "logs",
        logs.name,
        ToolStatus.OK,
        data=LogFindings(bursts, scored, sampled, total_warn),
        evidence=evidence,
        warnings=warnings,
    )


@dataclass(frozen=True)
class _Minutes:
    """The length of each period, and which services the reference is the baseline of."""

    before: float
    incident: float
    reference: float
    covered: frozenset[str]

    def baseline(self, service: str) -> float:
        return self.reference if service in self.covered else self.before


def _bursts(counts: list[dict[str, int]], minutes: _Minutes) -> list[ServiceErrorBurst]:
    """Error-rate change per service: against the reference where it covers the service."""
    before, incident, reference = counts
    covered = minutes.covered

    def part(by_service: dict[str, int], keep: bool) -> dict[str, int]:
        return {s: n for s, n in by_service.items() if (s in covered) == keep}

    bursts = error_bursts(
        part(before, False), part(incident, False), minutes.before, minutes.incident
    ) + error_bursts(
        part(reference, True), part(incident, True), minutes.reference, minutes.incident
    )
    bursts.sort(key=lambda b: (-b.score, b.service))
    return bursts


async def _no_page() -> LogPage:
    return LogPage(records=[], total=0)


async def _empty() -> dict[str, int]:
    return {}


def _burst_evidence(
    burst: ServiceErrorBurst, logs: LogsBackend, window: TimeWindow, against_reference: bool
) -> EvidenceDraft:
    info = logs.describe(
        LogQuery(window=window, services=(burst.service,), min_level=LogLevel.ERROR)
    )
    return EvidenceDraft(
        key=f"logs:burst:{burst.service}",
        source=Source.LOGS,
        title=f"{burst.service}: ERROR logs {burst.incident_rate:.1f}/min "
        f"(baseline {burst.baseline_rate:.2f}/min)",
        summary=(
            f"{burst.service} logged {burst.incident_errors} ERROR+ lines in "
            f"{burst.incident_minutes:.0f} min from {hhmm(window.start)} "
            f"({burst.incident_rate:.1f}/min) against {burst.baseline_errors} in the "
            f"{burst.baseline_minutes:.0f} min "
            f"{'of the reference period' if against_reference else 'before'} "
            f"({burst.baseline_rate:.2f}/min)."
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=burst.service,
        score=burst.score,
    )


def _pattern_evidence(
    pattern: LogPattern,
    score: float,
    logs: LogsBackend,
    window: TimeWindow,
    against_reference: bool,
) -> EvidenceDraft:
    normal = "the reference period" if against_reference else "the baseline"
    phrase = constant_phrase(pattern.template)
    level = LogLevel.ERROR if pattern.max_level >= LogLevel.ERROR else LogLevel.WARN
    info = logs.describe(
        LogQuery(window=window, services=(pattern.service,), min_level=level, text=phrase or None)
    )
    digest = hashlib.sha1(pattern.template.encode(), usedforsecurity=False).hexdigest()[:8]
    novelty = (
        f"new pattern (not seen in {normal})"
        if pattern.is_new
        else (f"pattern seen {pattern.baseline_count}× in {normal}")
    )
    seen = (
        f", first at {hhmm(pattern.first_seen)}, last at {hhmm(pattern.last_seen)}"
        if pattern.first_seen and pattern.last_seen
        else ""
    )
    return EvidenceDraft(
        key=f"logs:pattern:{pattern.service}:{digest}",
        source=Source.LOGS,
        title=f"{pattern.service}: {pattern.max_level.label.upper()} "
        f"“{clip(pattern.template, 90)}” ×{pattern.incident_count}",
        summary=(
            f"{pattern.service} logged {pattern.incident_count}× "
            f"{pattern.max_level.label.upper()} “{clip(pattern.template, 160)}”{seen}; "
            f"{novelty}."
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=pattern.service,
        score=score,
        excerpt=clip(pattern.example, 300),
    )
