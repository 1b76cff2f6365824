"""Generate every demo fault once per test session and parse the files for the tests."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.demo import FAULTS, DemoCase, generate_case

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def to_us(stamp: str) -> int:
    """Microseconds since the demo window start, exact (no float rounding)."""
    delta = datetime.fromisoformat(stamp) - BASE
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class Loaded:
    case: DemoCase
    label: dict[str, Any]
    logs: list[dict[str, Any]]
    spans: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    alerts: dict[str, Any]
    manifest: dict[str, Any]
    metrics: dict[tuple[str, str], list[tuple[int, float]]] = field(default_factory=dict)
    # the service graph: (client, server, metric) → samples
    edges: dict[tuple[str, str, str], list[tuple[int, float]]] = field(default_factory=dict)

    @property
    def inject_us(self) -> int:
        return to_us(self.label["inject_time"])

    def series(self, service: str, metric: str) -> list[tuple[int, float]]:
        return self.metrics[(service, metric)]

    def mean(self, service: str, metric: str, *, after: bool, skip_s: int = 0) -> float:
        """Mean before the injection, or from ``skip_s`` seconds after it."""
        return self._mean(self.series(service, metric), after, skip_s, f"{metric} of {service}")

    def edge_mean(
        self, client: str, server: str, metric: str, *, after: bool, skip_s: int = 0
    ) -> float:
        """:meth:`mean` of an edge's series."""
        samples = self.edges[(client, server, metric)]
        return self._mean(samples, after, skip_s, f"{metric} of {client} → {server}")

    def _mean(self, samples: list[tuple[int, float]], after: bool, skip_s: int, what: str) -> float:
        cut = self.inject_us
        if after:
            values = [v for t, v in samples if t >= cut + skip_s * 10**6]
        else:
            values = [v for t, v in samples if t < cut]
        assert values, f"no samples of {what}"
        return sum(values) / len(values)

    def traces(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for span in self.spans:
            grouped[span["trace_id"]].append(span)
        return grouped


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def load(case: DemoCase) -> Loaded:
    bundle = case.bundle_dir
    loaded = Loaded(
        case=case,
        label=json.loads(case.label_path.read_text(encoding="utf-8")),
        logs=_jsonl(bundle / "logs.jsonl"),
        spans=_jsonl(bundle / "traces.jsonl"),
        changes=_jsonl(bundle / "changes.jsonl"),
        alerts=json.loads((bundle / "alerts.json").read_text(encoding="utf-8")),
        manifest=json.loads((bundle / "manifest.json").read_text(encoding="utf-8")),
    )
    with (bundle / "metrics.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            sample = (to_us(row["timestamp"]), float(row["value"]))
            if row["server"]:
                edge = (row["service"], row["server"], row["metric"])
                loaded.edges.setdefault(edge, []).append(sample)
            else:
                loaded.metrics.setdefault((row["service"], row["metric"]), []).append(sample)
    return loaded


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-cases")


@pytest.fixture(scope="session")
def cases(demo_root: Path) -> dict[str, Loaded]:
    out: dict[str, Loaded] = {}
    for fault in FAULTS:
        out[fault] = load(generate_case(demo_root, fault, 7))
    return out
