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

    @property
    def is_new(self) -> bool:
        return self.baseline_count == 0 and self.incident_count > 0

    def score(self, baseline_minutes: float, incident_minutes: float) -> float:
        """How much this pattern grew: log2 of the smoothed rate ratio, times its volume."""
        base_rate = (self.baseline_count + 0.5) / max(baseline_minutes, 1.0)
        inc_rate = (self.incident_count + 0.5) / max(incident_minutes, 1.0)
        growth = max(0.0, math.log2(inc_rate / base_rate))
        severity = 1.0 if self.max_level >= LogLevel.ERROR else 0.5
        return growth * math.log2(1 + self.incident_count) * severity


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

    @property
    def baseline_rate(self) -> float:
        return self.baseline_errors / max(self.baseline_minutes, 1.0)

    @property
    def incident_rate(self) -> float:
        return self.incident_errors / max(self.incident_minutes, 1.0)

    @property
    def score(self) -> float:
        """log2 of the smoothed per-minute error-rate ratio (0 when not higher)."""
        return max(0.0, math.log2((self.incident_rate + 0.5) / (self.baseline_rate + 0.5)))


def error_bursts(
    baseline: dict[str, int],
    incident: dict[str, int],
    baseline_minutes: float,
    incident_minutes: float,
) -> list[ServiceErrorBurst]:
    """Error-rate change per service, largest first."""
    services = sorted(set(baseline) | set(incident))
    bursts = [
        ServiceErrorBurst(
            s, baseline.get(s, 0), incident.get(s, 0), baseline_minutes, incident_minutes
        )
        for s in services
    ]
    bursts.sort(key=lambda b: (-b.score, b.service))
    return bursts
