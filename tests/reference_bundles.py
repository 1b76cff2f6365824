"""A bundle whose incident window is faulty from its first minute, with a healthy reference
period in ``reference/`` (tools/bundle/FORMAT.md, *Reference period*).

The minutes before the alert are no baseline here: ``api`` has been failing (pool timeouts,
slow, errors that ``web`` sees as 502s) since before the window starts. Only a comparison with
the healthy period shows it. ``cache`` is new since the reference (absent from it) and degrades
at minute 40 of the window: a change that the part of the window before the incident shows.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bundles import T0, alert_payload, iso, write_jsonl
from tools.bundle.backends import BundleChanges, BundleLogs, BundleMetrics, BundleTraces
from tools.bundle.reader import Bundle, load_bundle
from tools.deps import Deps
from tools.elasticsearch.settings import LogFields
from tools.evidence import TimeWindow
from tools.links import Links
from tools.settings import LinksSettings

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(minutes=60))
REFERENCE = TimeWindow(start=T0 - timedelta(hours=3), end=T0 - timedelta(hours=2))
ALERT_AT = T0 + timedelta(minutes=44)
CACHE_BREAKS = T0 + timedelta(minutes=40)
STEADY = ("web", "api", "db")  # in both periods; cache only in the incident


def _telemetry(start: datetime, *, faulty: bool, with_cache: bool) -> dict[str, list[Any]]:
    logs: list[dict[str, Any]] = []
    metrics = ["timestamp,service,metric,value"]
    spans: list[dict[str, Any]] = []
    for minute in range(60):
        now = start + timedelta(minutes=minute)
        wiggle = minute % 4
        for service in STEADY:
            broken = faulty and service != "db"
            latency = (0.9 if broken else 0.05) + 0.002 * wiggle
            errors = (0.2 if broken else 0.001) + 0.0005 * (minute % 3)
            metrics.append(f"{iso(now)},{service},latency_p99_seconds,{latency}")
            metrics.append(f"{iso(now)},{service},error_ratio,{errors}")
            logs.append(_log(now, service, "INFO", f"handled request {minute} in {20 + wiggle}ms"))
        if minute % 5 == 0:  # chronic: logged when healthy too
            logs.append(_log(now, "web", "WARN", f"order status wrong for order {minute}"))
        if faulty:
            for i in range(2):
                logs.append(
                    _log(
                        now + timedelta(seconds=20 * i),
                        "api",
                        "ERROR",
                        f"Timeout acquiring connection after 5000ms (waiting={i + minute})",
                    )
                )
            logs.append(_log(now, "web", "ERROR", "upstream api returned 502"))
        if with_cache:
            broken_cache = now >= CACHE_BREAKS
            latency = (0.3 if broken_cache else 0.002) + 0.0001 * wiggle
            metrics.append(f"{iso(now)},cache,latency_p99_seconds,{latency}")
            logs.append(_log(now, "cache", "INFO", f"served {100 + wiggle} keys"))
            if broken_cache:
                for shard in range(3):
                    logs.append(_log(now, "cache", "ERROR", f"eviction storm on shard {shard}"))
        for i in range(4):
            spans += _trace(now + timedelta(seconds=10 * i), f"{minute:04d}{i:04d}", faulty)
    return {"logs": logs, "metrics": metrics, "spans": spans}


def _log(moment: datetime, service: str, level: str, message: str) -> dict[str, Any]:
    return {"ts": iso(moment), "service": service, "level": level, "message": message}


def _trace(moment: datetime, prefix: str, faulty: bool) -> list[dict[str, Any]]:
    trace, start = prefix + "cd" * 12, moment.timestamp()
    status = "error" if faulty else "ok"
    api_ms = 900.0 if faulty else 45.0
    return [
        {
            "trace_id": trace,
            "span_id": "b1",
            "service": "web",
            "operation": "GET /",
            "kind": "server",
            "start": start,
            "duration_ms": api_ms + 15,
            "status": status,
        },
        {
            "trace_id": trace,
            "span_id": "b2",
            "parent_id": "b1",
            "service": "web",
            "operation": "call api",
            "kind": "client",
            "start": start + 0.001,
            "duration_ms": api_ms + 5,
            "status": status,
            "attrs": {"peer.service": "api"},
        },
        {
            "trace_id": trace,
            "span_id": "b3",
            "parent_id": "b2",
            "service": "api",
            "operation": "POST /order",
            "kind": "server",
            "start": start + 0.002,
            "duration_ms": api_ms,
            "status": status,
            "attrs": {"error.message": "pool timeout"} if faulty else {},
        },
    ]


def _ts(row: dict[str, Any]) -> str:
    return str(row["ts"])


def _write(path: Path, data: dict[str, list[Any]], window: TimeWindow, name: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    logs: list[dict[str, Any]] = sorted(data["logs"], key=_ts)
    write_jsonl(path / "logs.jsonl", logs)
    (path / "metrics.csv").write_text("\n".join(data["metrics"]) + "\n", encoding="utf-8")
    write_jsonl(path / "traces.jsonl", data["spans"])
    manifest = {
        "format": "rcabot-bundle",
        "version": 1,
        "name": name,
        "window": {"start": iso(window.start), "end": iso(window.end)},
    }
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def chronic_incident(path: Path, *, reference: bool = True) -> Path:
    """Write the bundle (with ``reference/`` unless ``reference`` is false) at ``path``."""
    _write(path, _telemetry(T0, faulty=True, with_cache=True), WINDOW, "api failing all along")
    (path / "alerts.json").write_text(
        json.dumps(alert_payload("WebHighErrorRate", "web", ALERT_AT)), encoding="utf-8"
    )
    if reference:
        healthy = _telemetry(REFERENCE.start, faulty=False, with_cache=False)
        _write(path / "reference", healthy, REFERENCE, "healthy, two hours before")
    return path


def bundle_deps(bundle: Bundle) -> Deps:
    """The bundle served through the backend protocols, as ``rcabot investigate`` serves it."""
    links = Links(LinksSettings(), bundle_dir=bundle.path)
    return Deps(
        logs=BundleLogs(bundle, links, LogFields()),
        metrics=BundleMetrics(bundle, links),
        traces=BundleTraces(bundle, links),
        changes=BundleChanges(bundle, links),
        metrics_step=timedelta(minutes=1),
    )


def load_chronic(path: Path, *, reference: bool = True) -> Bundle:
    return load_bundle(chronic_incident(path, reference=reference))
