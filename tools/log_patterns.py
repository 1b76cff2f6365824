"""Tool: error bursts per service and the log templates that are new or growing.

"New" and "growing" are relative to a baseline: the records before the incident start, or, given
a ``reference`` window (a healthy period), that window's records from the same backend, so that
errors a service also logs when healthy stop looking like news. A service with no log line at
all in the reference keeps the records before the incident as its baseline, which the result
says; where the logs hold no line before the incident either, those services' lines are compared
with nothing, and none is new or growing (a warning says so).

Lines that say their writer could not find a dependency (service discovery or DNS:
:mod:`tools.analysis.discovery`) are neither patterns nor errors of the writer: they are left out
of the templates and subtracted from its ERROR count (those in the sample; all of them unless
the sample was cut), and a warning says how many there were.

Rates are per minute the logs cover (:mod:`tools.log_coverage`), or per other line of the
service where it wrote enough.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field

from tools.analysis.discovery import lookup_failed
from tools.analysis.log_templates import (
    MIN_LINES,
    LogPattern,
    ServiceErrorBurst,
    error_bursts,
    mine_patterns,
)
from tools.analysis.surprise import rate_rose
from tools.backends import LogPage, LogQuery, LogsBackend
from tools.concurrency import gather_all
from tools.deps import Deps, configured
from tools.evidence import EvidenceDraft, Source, TimeWindow, clip
from tools.formatting import hhmm
from tools.log_coverage import logged_minutes
from tools.records import LogLevel, LogRecord
from tools.reference import fallback_warning, no_baseline_warning, unhealthy_warning
from tools.result import ToolResult, ToolStatus
from tools.tool import tool

NAME = "log_patterns"
MIN_BURST_SCORE = 1.0
MIN_PATTERN_SCORE = 2.0
MAX_BURST_EVIDENCE = 8
MAX_PATTERN_EVIDENCE = 10
MAX_LOOKUP_WARNINGS = 3
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
    all_queries = [LogQuery(window=w, services=services) if w else None for w in periods]
    pages, counts, lines, covered_minutes = await gather_all(
        gather_all(*(logs.search(q) if q else _no_page() for q in warn_queries)),
        gather_all(*(logs.count_by_service(q) if q else _empty() for q in error_queries)),
        gather_all(*(logs.count_by_service(q) if q else _empty() for q in all_queries)),
        gather_all(*(logged_minutes(logs, w, services) for w in periods)),
    )
    # services the reference is normal for: it has their lines, and no more errors than the
    # minutes before the incident (else it caught another incident: those minutes instead)
    unhealthy = frozenset(
        s for s in lines[2] if _less_healthy(s, counts[0], lines[0], counts[2], lines[2])
    )
    covered = frozenset(lines[2]) - unhealthy
    # lines that say the writer could not find a dependency are no errors of its own code
    # (tools.analysis.discovery): not mined, and not counted in its error rate
    lookups, kept = zip(*(_split_lookups(page.records) for page in pages), strict=True)
    counts = tuple(_less_lookups(c, found) for c, found in zip(counts, lookups, strict=True))
    records = [r for r in kept[0] if r.service not in covered] + kept[1]
    normal = [r for r in kept[2] if r.service in covered]
    total_warn = sum(page.total for page in pages)
    minutes = _Minutes(covered_minutes[0], covered_minutes[1], covered_minutes[2], covered)
    load = _Load(lines[0], lines[1], lines[2], covered)
    bursts = _bursts(counts, minutes, load)
    patterns = mine_patterns(records, incident_start, deps.text.redact, normal)
    scored = sorted(
        (
            (
                p,
                p.score(
                    minutes.baseline(p.service),
                    minutes.incident,
                    load.baseline(p.service),
                    load.incident.get(p.service, 0),
                ),
            )
            for p in patterns
        ),
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
    warnings += _lookup_warnings(lookups[1])
    if not lines[0] and after is not None:
        uncompared = {s for s in lines[1] if s not in covered}
        warnings += no_baseline_warning("log lines", after.start, len(uncompared))
    if reference is not None:
        seen = {b.service for b in bursts} | {p.service for p in patterns}
        warnings += fallback_warning("log lines", reference, seen - covered - unhealthy, len(seen))
        warnings += unhealthy_warning("log lines", reference, unhealthy)
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


def _less_healthy(
    service: str,
    before_errors: dict[str, int],
    before_lines: dict[str, int],
    reference_errors: dict[str, int],
    reference_lines: dict[str, int],
) -> bool:
    """The reference has significantly more of ``service``'s ERROR lines per line it wrote than
    the minutes before the incident (which need :data:`MIN_LINES` lines to say so)."""
    lines = before_lines.get(service, 0)
    if lines < MIN_LINES:
        return False
    return rate_rose(
        reference_errors.get(service, 0),
        max(reference_lines.get(service, 0), 1),
        before_errors.get(service, 0),
        lines,
    )


@dataclass(frozen=True)
class _Load:
    """Every line each service wrote in each period: what its rates are measured against."""

    before: dict[str, int]
    incident: dict[str, int]
    reference: dict[str, int]
    covered: frozenset[str]

    def baseline(self, service: str) -> int:
        return (self.reference if service in self.covered else self.before).get(service, 0)


def _bursts(
    counts: Sequence[dict[str, int]], minutes: _Minutes, load: _Load
) -> list[ServiceErrorBurst]:
    """Error-rate change per service: against the reference where it covers the service."""
    before, incident, reference = counts
    covered = minutes.covered

    def part(by_service: dict[str, int], keep: bool) -> dict[str, int]:
        return {s: n for s, n in by_service.items() if (s in covered) == keep}

    bursts = error_bursts(
        part(before, False),
        part(incident, False),
        minutes.before,
        minutes.incident,
        load.before,
        load.incident,
    ) + error_bursts(
        part(reference, True),
        part(incident, True),
        minutes.reference,
        minutes.incident,
        load.reference,
        load.incident,
    )
    bursts.sort(key=lambda b: (-b.score, b.service))
    return bursts


def _split_lookups(records: Sequence[LogRecord]) -> tuple[list[LogRecord], list[LogRecord]]:
    """``records`` that report a failed lookup of a dependency, and the rest."""
    lookups: list[LogRecord] = []
    rest: list[LogRecord] = []
    for record in records:
        (lookups if lookup_failed(record.message) else rest).append(record)
    return lookups, rest


def _less_lookups(errors: dict[str, int], lookups: Sequence[LogRecord]) -> dict[str, int]:
    """ERROR+ lines per service without the sampled ``lookups`` at that level (lines that
    report a failed lookup, :mod:`tools.analysis.discovery`): the writer's code is not at fault
    in them."""
    found = Counter(r.service for r in lookups if r.level >= LogLevel.ERROR)
    return {s: max(0, n - found[s]) for s, n in errors.items()}


def _lookup_warnings(incident: Sequence[LogRecord]) -> list[str]:
    """Say which services' sampled lines since the start were failed lookups (``incident``),
    left out."""
    found = Counter(r.service for r in incident)
    return [
        f"{count} WARN+ lines of {service} since the incident start say it could not find a "
        "dependency (service discovery or DNS); they are not counted as its own errors"
        for service, count in sorted(found.items(), key=lambda sc: (-sc[1], sc[0]))
    ][:MAX_LOOKUP_WARNINGS]


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
