"""Small synthetic bundles written in the documented format (tools/bundle/FORMAT.md), and the
shared datasets and fixtures next to the repository (../shared)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
NEZHA_ARCHIVE = SHARED_DATASETS / "nezha-tt-2023-01-29.tar.xz"
JAEGER_FIXTURES = REPO.parent / "shared" / "fixtures" / "jaeger"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def jaeger_fixture(name: str) -> Any:
    """Jaeger's own test fixture ``name`` (JSON) from ../shared/fixtures/jaeger; the test is
    skipped where it is missing."""
    path = JAEGER_FIXTURES / name
    if not path.is_file():
        pytest.skip(f"needs Jaeger's fixtures in ../shared/fixtures/jaeger ({path} missing)")
    return json.loads(path.read_text())


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")


def alert_payload(name: str, service: str, starts: datetime) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "rcabot",
        "commonLabels": {"alertname": name, "service": service},
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "service": service},
                "annotations": {"summary": f"{service} is unhappy"},
                "startsAt": iso(starts),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=error_ratio%3E0.05&g0.tab=1",
            }
        ],
    }


def small_incident(path: Path, *, traces: bool = True) -> Path:
    """A 60-minute, 3-service incident: db errors in ``api`` start at minute 40.

    ``web`` calls ``api``; after minute 40 ``api`` fails with a pool timeout, which web sees as
    502s. Metrics at 1-minute resolution, a handful of logs and traces per minute.
    """
    path.mkdir(parents=True, exist_ok=True)
    fault = T0 + timedelta(minutes=40)
    logs, metrics, spans = [], ["timestamp,service,metric,value"], []
    for minute in range(60):
        now = T0 + timedelta(minutes=minute)
        broken = now >= fault
        for service in ("web", "api", "db"):
            err = 0.2 if broken and service in ("web", "api") else 0.001 + 0.0005 * (minute % 3)
            lat = (0.9 if broken and service != "db" else 0.05) + 0.002 * (minute % 4)
            metrics.append(f"{iso(now)},{service},error_ratio,{err}")
            metrics.append(f"{iso(now)},{service},latency_p99_seconds,{lat}")
            logs.append(
                {
                    "ts": iso(now),
                    "service": service,
                    "level": "INFO",
                    "message": f"handled request {minute} in {20 + minute % 7}ms",
                }
            )
        if minute % 10 == 3:
            logs.append(
                {
                    "ts": iso(now + timedelta(seconds=5)),
                    "service": "web",
                    "level": "WARN",
                    "message": f"slow client 10.0.0.{minute} took 3s",
                }
            )
        for i in range(4):
            trace = f"{minute:04d}{i:04d}" + "ab" * 12
            start = (now + timedelta(seconds=10 * i)).timestamp()
            spans += [
                {
                    "trace_id": trace,
                    "span_id": "a1",
                    "service": "web",
                    "operation": "GET /",
                    "kind": "server",
                    "start": start,
                    "duration_ms": 60,
                    "status": "error" if broken else "ok",
                },
                {
                    "trace_id": trace,
                    "span_id": "a2",
                    "parent_id": "a1",
                    "service": "web",
                    "operation": "call api",
                    "kind": "client",
                    "start": start + 0.001,
                    "duration_ms": 50,
                    "status": "error" if broken else "ok",
                    "attrs": {"peer.service": "api"},
                },
                {
                    "trace_id": trace,
                    "span_id": "a3",
                    "parent_id": "a2",
                    "service": "api",
                    "operation": "POST /order",
                    "kind": "server",
                    "start": start + 0.002,
                    "duration_ms": 45,
                    "status": "error" if broken else "ok",
                    "attrs": {"error.message": "pool timeout"} if broken else {},
                },
            ]
            if broken:
                logs.append(
                    {
                        "ts": iso(now + timedelta(seconds=10 * i)),
                        "service": "api",
                        "level": "ERROR",
                        "trace_id": trace,
                        "message": f"Timeout acquiring connection after 5000ms "
                        f"(active=50 idle=0 waiting={i + minute})",
                    }
                )
                logs.append(
                    {
                        "ts": iso(now + timedelta(seconds=10 * i + 1)),
                        "service": "web",
                        "level": "ERROR",
                        "trace_id": trace,
                        "message": "upstream api returned 502",
                    }
                )
    write_jsonl(path / "logs.jsonl", logs)
    (path / "metrics.csv").write_text("\n".join(metrics) + "\n", encoding="utf-8")
    if traces:
        write_jsonl(path / "traces.jsonl", spans)
    (path / "alerts.json").write_text(
        json.dumps(alert_payload("WebHighErrorRate", "web", fault + timedelta(minutes=4))),
        encoding="utf-8",
    )
    write_jsonl(
        path / "changes.jsonl",
        [
            {
                "ts": iso(fault - timedelta(minutes=2)),
                "service": "api",
                "kind": "deploy",
                "description": "release 1.4.2",
                "version": "1.4.2",
            },
            {
                "ts": iso(T0 + timedelta(minutes=5)),
                "service": "web",
                "kind": "config",
                "description": "raise log level",
            },
        ],
    )
    (path / "manifest.json").write_text(
        json.dumps(
            {
                "format": "rcabot-bundle",
                "version": 1,
                "name": "small incident",
                "window": {"start": iso(T0), "end": iso(T0 + timedelta(minutes=60))},
                "services": ["web", "api", "db"],
            }
        ),
        encoding="utf-8",
    )
    return path
