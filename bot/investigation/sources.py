"""Build the :class:`Deps` an investigation uses from a telemetry bundle."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.evidence import TimeWindow
from tools.bundle.backends import BundleChanges, BundleLogs, BundleMetrics, BundleTraces
from tools.bundle.reader import Bundle, load_bundle
from tools.deps import Deps
from tools.links import Links
from tools.records import Alert


@dataclass(frozen=True)
class BundleSources:
    bundle: Bundle
    deps: Deps
    load_ms: float

    @property
    def window(self) -> TimeWindow:
        return self.bundle.window

    @property
    def alert(self) -> Alert | None:
        return self.bundle.alerts[0] if self.bundle.alerts else None


async def bundle_sources(path: Path, settings: Settings) -> BundleSources:
    """Read the bundle at ``path`` (off the event loop) and serve it through the protocols."""
    started = time.perf_counter()
    bundle = await asyncio.to_thread(load_bundle, path)
    load_ms = (time.perf_counter() - started) * 1000
    links = Links(settings.links, bundle_dir=path)
    missing = {
        "logs": "bundle has no logs.jsonl" if bundle.logs is None else "",
        "metrics": "bundle has no metrics.csv or metrics.om" if bundle.metrics is None else "",
        "traces": "bundle has no traces.jsonl" if bundle.traces_missing else "",
        "changes": "bundle has no changes.jsonl" if bundle.changes is None else "",
    }
    deps = Deps(
        logs=BundleLogs(bundle, links, settings.logs.fields) if bundle.logs is not None else None,
        metrics=BundleMetrics(bundle, links) if bundle.metrics is not None else None,
        traces=BundleTraces(bundle, links) if not bundle.traces_missing else None,
        changes=BundleChanges(bundle, links) if bundle.changes is not None else None,
        limits=settings.investigation,
        unavailable={k: v for k, v in missing.items() if v},
    )
    return BundleSources(bundle, deps, load_ms)
