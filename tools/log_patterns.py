"""Tool: error bursts per service and the log templates that are new or growing."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field

from tools.analysis.log_templates import LogPattern, ServiceErrorBurst, error_bursts, mine_patterns
from tools.backends import LogQuery, LogsBackend
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import hhmm
from tools.records import LogLevel
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
) -> ToolResult[LogFindings]:
    """Compare ERROR+ counts per service and WARN+ log templates before and after the
    incident start; evidence for services whose error rate jumped and for new patterns."""
    logs = configured(deps.logs)
    before, after = window.split(incident_start)
    half = deps.limits.log_sample // 2
    queries = [
        LogQuery(window=w, services=services, min_level=LogLevel.WARN, limit=half)
        for w in (before, after)
        if w is not None
    ]
    error_queries = [
        LogQuery(window=w, services=services, min_level=LogLevel.ERROR) if w else None
        for w in (before, after)
    ]
    pages, counts = await asyncio.gather(
        asyncio.gather(*(logs.search(q) for q in queries)),
        asyncio.gather(*(logs.count_by_service(q) if q else _empty() for q in error_queries)),
    )
    records = [r for page in pages for r in page.records]
    total_warn = sum(page.total for page in pages)
    bursts = error_bursts(counts[0], counts[1], _minutes(before), _minutes(after))
    patterns = mine_patterns(records, incident_start, deps.text.redact)
    scored = sorted(
        ((p, p.score(_minutes(before), _minutes(after))) for p in patterns),
        key=lambda ps: -ps[1],
    )
    evidence = [
        _burst_evidence(b, logs, after or window)
        for b in bursts[:MAX_BURST_EVIDENCE]
        if b.score >= MIN_BURST_SCORE
    ]
    evidence += [
        _pattern_evidence(p, s, logs, after or window)
        for p, s in scored[:MAX_PATTERN_EVIDENCE]
        if s >= MIN_PATTERN_SCORE
    ]
    truncated = any(page.truncated for page in pages)
    warnings = (
        [f"templates mined from a sample of {len(records)} of {total_warn} WARN+ lines"]
        if truncated
        else []
    )
    return ToolResult(
        NAME,
        "logs",
        logs.name,
        ToolStatus.OK,
        data=LogFindings(bursts, scored, len(records), total_warn),
        evidence=evidence,
        warnings=warnings,
    )


async def _empty() -> dict[str, int]:
    return {}


def _burst_evidence(
    burst: ServiceErrorBurst, logs: LogsBackend, window: TimeWindow
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
            f"{burst.baseline_minutes:.0f} min before ({burst.baseline_rate:.2f}/min)."
        ),
        query=info.text,
        link=info.link,
        window=window,
        service=burst.service,
        score=burst.score,
    )


def _pattern_evidence(
    pattern: LogPattern, score: float, logs: LogsBackend, window: TimeWindow
) -> EvidenceDraft:
    phrase = constant_phrase(pattern.template)
    level = LogLevel.ERROR if pattern.max_level >= LogLevel.ERROR else LogLevel.WARN
    info = logs.describe(
        LogQuery(window=window, services=(pattern.service,), min_level=level, text=phrase or None)
    )
    digest = hashlib.sha1(pattern.template.encode(), usedforsecurity=False).hexdigest()[:8]
    novelty = (
        "new pattern (not seen in the baseline)"
        if pattern.is_new
        else (f"pattern seen {pattern.baseline_count}× in the baseline")
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
