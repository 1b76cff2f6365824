"""Log-template mining and error-burst scoring per service.

Messages are masked (ids, times, addresses, numbers) and clustered into templates by Drain
(``tools.analysis.template_miner``, which says how it was tuned and measured); each template is
counted per service in the baseline and in the incident period, so "new since baseline" and
"10× more frequent" fall out directly. Counts are over a bounded sample of WARN+ lines, which
the evidence says. The baseline may also be a reference period (healthy telemetry from another
time): its records are counted as baseline wherever in time they lie.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tools.analysis.surprise import rate_rose
from tools.analysis.template_miner import TemplateMiner
from tools.records import LogLevel, LogRecord


@dataclass
class LogPattern:
    template: str
    service: str
    max_level: LogLevel
    baseline_count: int = 0
    incident_count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    example: str = ""
    trace_ids: list[str] = field(default_factory=list)
    growth: float = 0.0  # significant doublings of its rate (times severity); set by ``score``

    @property
    def is_new(self) -> bool:
        return self.baseline_count == 0 and self.incident_count > 0

    def score(
        self,
        baseline_minutes: float,
        incident_minutes: float,
        baseline_lines: int = 0,
        incident_lines: int = 0,
    ) -> float:
        """How much this pattern grew: log2 of the smoothed rate ratio, times its volume; 0
        unless the growth is significant (:func:`tools.analysis.surprise.rate_rose`). The
        growth alone (halved for WARN) is kept in :attr:`growth`, the size of the change in
        the same unit as the other modalities' (doublings).

        The rate is per line the service wrote otherwise (``*_lines``: all its lines in the
        period), when it wrote enough of them in both periods, else per minute: twice the
        traffic writes twice every line, and a line that only kept pace with the load did not
        change."""
        self.growth = 0.0
        base, incident = exposure(
            (self.baseline_count, baseline_minutes, baseline_lines),
            (self.incident_count, incident_minutes, incident_lines),
        )
        if not rate_rose(self.incident_count, incident, self.baseline_count, base):
            return 0.0
        ratio = ((self.incident_count + 0.5) / incident) / ((self.baseline_count + 0.5) / base)
        severity = 1.0 if self.max_level >= LogLevel.ERROR else 0.5
        self.growth = max(0.0, math.log2(ratio)) * severity
        return self.growth * math.log2(1 + self.incident_count)


MIN_LINES = 20  # other lines of the service, in each period, to measure a rate against its load


def exposure(
    baseline: tuple[int, float, int], incident: tuple[int, float, int]
) -> tuple[float, float]:
    """What a count is a rate *of*, in each period, from ``(count, minutes, all lines)``: the
    service's other lines (its load) where both periods have :data:`MIN_LINES` of them, else
    the minutes (at least a second's worth, so a rate stays finite). A baseline of no logged
    minute stays 0: no logs were there, nothing rose against them
    (:func:`~tools.analysis.surprise.rate_rose`)."""
    other_base, other_incident = baseline[2] - baseline[0], incident[2] - incident[0]
    if other_base >= MIN_LINES and other_incident >= MIN_LINES:
        return float(other_base), float(other_incident)
    base = max(baseline[1], 1 / 60) if baseline[1] > 0 else 0.0
    return base, max(incident[1], 1 / 60)


def _unchanged(text: str) -> str:
    return text


def mine_patterns(
    records: Iterable[LogRecord],
    split: datetime,
    redact: Callable[[str], str] = _unchanged,
    reference: Iterable[LogRecord] = (),
) -> list[LogPattern]:
    """Cluster ``records`` into templates and count them before / from ``split``; every record
    of ``reference`` (a healthy period) counts as baseline, and is mined first.

    Each message goes through ``redact`` first (``TextPipeline.redact``), before masking: a mask
    would otherwise hide part of a secret and leave its tail (``xoxb-<NUM><NUM>-…``) in the
    template, and the example keeps the redacted text.
    """
    miner = TemplateMiner()
    by_key: dict[tuple[int, str], LogPattern] = {}
    normal = [(record, True) for record in reference]
    for record, is_reference in itertools.chain(normal, ((r, False) for r in records)):
        message = redact(record.message)
        key = (miner.add(message), record.service)
        pattern = by_key.get(key)
        if pattern is None:
            pattern = by_key[key] = LogPattern(
                template="", service=record.service, max_level=record.level, example=message
            )
        pattern.max_level = max(pattern.max_level, record.level)
        if is_reference or record.ts < split:
            pattern.baseline_count += 1
            continue
        pattern.incident_count += 1
        if pattern.first_seen is None or record.ts < pattern.first_seen:
            pattern.first_seen = record.ts
            pattern.example = message
        if pattern.last_seen is None or record.ts > pattern.last_seen:
            pattern.last_seen = record.ts
        if record.trace_id and len(pattern.trace_ids) < 3:
            pattern.trace_ids.append(record.trace_id)
    for (cluster_id, _), pattern in by_key.items():
        pattern.template = miner.template(cluster_id)
    return list(by_key.values())


@dataclass(frozen=True, slots=True)
class ServiceErrorBurst:
    service: str
    baseline_errors: int
    incident_errors: int
    baseline_minutes: float
    incident_minutes: float
    baseline_lines: int = 0  # every line of the service in the period: its load
    incident_lines: int = 0

    @property
    def baseline_rate(self) -> float:
        return self.baseline_errors / max(self.baseline_minutes, 1.0)

    @property
    def incident_rate(self) -> float:
        return self.incident_errors / max(self.incident_minutes, 1.0)

    @property
    def score(self) -> float:
        """log2 of the smoothed error-rate ratio (0 unless significantly higher); the rate is
        per other line of the service where it wrote enough (see :meth:`LogPattern.score`),
        else per minute."""
        base, incident = exposure(
            (self.baseline_errors, self.baseline_minutes, self.baseline_lines),
            (self.incident_errors, self.incident_minutes, self.incident_lines),
        )
        if not rate_rose(self.incident_errors, incident, self.baseline_errors, base):
            return 0.0
        ratio = ((self.incident_errors + 0.5) / incident) / ((self.baseline_errors + 0.5) / base)
        return max(0.0, math.log2(ratio))


def error_bursts(
    baseline: dict[str, int],
    incident: dict[str, int],
    baseline_minutes: float,
    incident_minutes: float,
    baseline_lines: dict[str, int] | None = None,
    incident_lines: dict[str, int] | None = None,
) -> list[ServiceErrorBurst]:
    """Error-rate change per service, largest first; ``*_lines`` are each service's lines of
    every level in the period (its load), when known."""
    services = sorted(set(baseline) | set(incident))
    bursts = [
        ServiceErrorBurst(
            s,
            baseline.get(s, 0),
            incident.get(s, 0),
            baseline_minutes,
            incident_minutes,
            (baseline_lines or {}).get(s, 0),
            (incident_lines or {}).get(s, 0),
        )
        for s in services
    ]
    bursts.sort(key=lambda b: (-b.score, b.service))
    return bursts
