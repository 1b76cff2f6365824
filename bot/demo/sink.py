"""A log line, and a base class for writing lines that are not tied to a request."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.demo.clock import STEP_S, US, WINDOW_S
from bot.demo.metrics import MetricTable
from bot.demo.scenario import Scenario


@dataclass(frozen=True, slots=True)
class LogLine:
    at_us: int
    service: str
    instance: str
    level: str
    message: str
    trace_id: str | None = None
    span_id: str | None = None
    attrs: dict[str, str] | None = None

    def record(self, ts: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ts": ts,
            "service": self.service,
            "level": self.level,
            "message": self.message,
            "instance": self.instance,
        }
        if self.trace_id:
            out["trace_id"], out["span_id"] = self.trace_id, self.span_id
        if self.attrs:
            out["attrs"] = self.attrs
        return out


class LogSink:
    """Collects lines for one scenario; ``every`` yields jittered periodic times."""

    def __init__(self, scenario: Scenario, table: MetricTable, stream: str) -> None:
        self.scenario = scenario
        self.table = table
        self.rng = random.Random(f"rcabot-demo/{scenario.seed}/{scenario.fault}/{stream}")
        self.lines: list[LogLine] = []

    def add(
        self,
        at_s: float,
        name: str,
        level: str,
        message: str,
        instance: str | None = None,
        attrs: dict[str, str] | None = None,
    ) -> None:
        if not 0 <= at_s < WINDOW_S:
            return
        pod = instance or self.rng.choice(self.scenario.pods_at(name, at_s))
        self.lines.append(LogLine(int(at_s * US), name, pod, level, message, attrs=attrs))

    def down(self, name: str, at_s: float) -> bool:
        return bool(self.scenario.effects[name].down[min(int(at_s // STEP_S), 479)])

    def restarting(self, pod: str, at_s: float) -> bool:
        oom = self.scenario.oom_s
        return oom is not None and pod == self.scenario.root_instance and oom <= at_s < oom + 45

    def every(
        self,
        mean_s: float,
        jitter: float = 0.3,
        start: float | None = None,
    ) -> Iterator[float]:
        t = self.rng.uniform(0, mean_s) if start is None else start
        while t < WINDOW_S:
            yield t
            t += mean_s * self.rng.uniform(1 - jitter, 1 + jitter)

    def value(self, name: str, metric: str, at_s: float) -> float:
        return float(self.table.series(name, metric)[min(int(at_s // STEP_S), 479)])
