"""Per-tool query latency against local servers holding the demo bundle, vs the bundle backend.

    python bench/tool_latency.py [--repeats N] [--fault F] [--seed S]

Generates the demo incident, loads it with the ``rcabot load --to-backends`` code path into the
local servers (noida-db, an Elasticsearch-API **stand-in**; a real Prometheus; the Jaeger/Tempo
**stand-in** from tests/servers), then times every telemetry tool and the backend calls under
it, through each production backend and through the embedded bundle backend. Prints medians and
maxima in milliseconds. The stand-ins are not Elasticsearch/Jaeger/Tempo: their figures show
our client-side cost (requests, parsing, analysis) plus a local server's, not a cluster's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.demo import DEFAULT_FAULT, DEFAULT_SEED, generate_case  # noqa: E402
from bot.investigation.sources import bundle_sources, configured_sources  # noqa: E402
from bot.loader.bundle import investigation_config, load_to_backends  # noqa: E402
from tests.servers.elasticsearch import running_noida  # noqa: E402
from tests.servers.prometheus import running_prometheus  # noqa: E402
from tests.servers.traces import running_traces_standin  # noqa: E402
from tools.backends import LogQuery, TraceQuery  # noqa: E402
from tools.deps import Deps  # noqa: E402
from tools.gateway import ToolGateway  # noqa: E402
from tools.log_patterns import log_patterns  # noqa: E402
from tools.log_timeline import log_timeline  # noqa: E402
from tools.metric_changes import metric_changes  # noqa: E402
from tools.records import LogLevel  # noqa: E402
from tools.search_logs import search_logs  # noqa: E402
from tools.trace_attribution import trace_attribution  # noqa: E402

Call = Callable[[], Awaitable[Any]]


def _calls(deps: Deps, window: Any, start: Any) -> dict[str, Call]:
    """Every timed operation: backend calls (raw) and tools (through the gateway, as the
    engine calls them: backend calls + analysis + text pipeline)."""
    assert deps.logs and deps.metrics and deps.traces
    gateway = ToolGateway(deps)
    logs, metrics, traces = deps.logs, deps.metrics, deps.traces
    errors = LogQuery(window=window, min_level=LogLevel.ERROR, limit=2500)
    return {
        "logs.search (2500 WARN+)": lambda: logs.search(
            LogQuery(window=window, min_level=LogLevel.WARN, limit=2500)
        ),
        "logs.count_by_service": lambda: logs.count_by_service(errors),
        "logs.histogram (1 min)": lambda: logs.histogram(errors, timedelta(minutes=1)),
        "metrics.series (1 signal)": lambda: metrics.series(
            "error_ratio", window, deps.metrics_step
        ),
        "traces.find_traces (200)": lambda: traces.find_traces(
            TraceQuery(window=window, limit=200)
        ),
        "tool metric_changes": lambda: gateway.call(
            metric_changes, window=window, baseline_end=start
        ),
        "tool log_patterns": lambda: gateway.call(
            log_patterns, window=window, incident_start=start
        ),
        "tool log_timeline": lambda: gateway.call(log_timeline, window=window),
        "tool search_logs": lambda: gateway.call(
            search_logs, window=window, text="timeout", limit=20
        ),
        "tool trace_attribution": lambda: gateway.call(
            trace_attribution, window=window, incident_start=start
        ),
    }


async def _time(calls: dict[str, Call], repeats: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, call in calls.items():
        await call()  # warm-up: connections, caches
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            result = await call()
            samples.append((time.perf_counter() - started) * 1000)
            status = getattr(result, "status", None)
            if status is not None and not result.ok:
                raise SystemExit(f"{name} failed: {result.error}")
        out[name] = samples
    return out


async def main(repeats: int, fault: str, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="rcabot-bench-") as tmp:
        work = Path(tmp)
        case = generate_case(work / "demo", fault, seed)
        with running_noida(work / "noida") as es_url, running_traces_standin() as standin:
            writer = load_settings(
                load={
                    "elasticsearch_url": es_url,
                    "prometheus_data_dir": str(work / "prometheus"),
                    "otlp_url": standin.url,
                }
            )
            started = time.perf_counter()
            loaded = await load_to_backends(writer, case.bundle_dir)
            load_s = time.perf_counter() - started
            if not loaded.ok:
                raise SystemExit(f"load failed: {loaded.failed}")
            config = yaml.safe_load(investigation_config(writer, loaded))
            sources = await bundle_sources(case.bundle_dir, writer)
            window = sources.window
            alert = sources.alert
            start = (alert.starts_at if alert else window.end) - timedelta(minutes=10)
            results: dict[str, dict[str, list[float]]] = {}
            results["bundle"] = await _time(_calls(sources.deps, window, start), repeats)
            with running_prometheus(work / "prometheus") as prometheus_url:
                for kind, url in (("jaeger", standin.jaeger_url), ("tempo", standin.tempo_url)):
                    settings = load_settings(
                        logs=config["logs"],
                        metrics={**config["metrics"], "url": prometheus_url},
                        traces={"kind": kind, "url": url},
                    )
                    async with configured_sources(settings) as deps:
                        results[f"live/{kind}"] = await _time(_calls(deps, window, start), repeats)
    print(f"rcabot tool latency — python bench/tool_latency.py --repeats {repeats}")
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} cores; demo {fault} seed {seed}: "
        f"{len(sources.bundle.logs or [])} logs, {len(sources.bundle.metrics or [])} series, "
        f"{len(sources.bundle.spans or [])} spans over {window.duration}"
    )
    print(f"load into the servers (ES bulk + promtool + OTLP, in parallel): {load_s:.1f} s")
    print("live = noida-db (ES stand-in) + real Prometheus 2.42 + Jaeger/Tempo stand-in")
    print(f"median / max of {repeats} runs, ms\n")
    columns = list(results)
    print(f"{'operation':<28}" + "".join(f"{c:>22}" for c in columns))
    for name in results["bundle"]:
        cells = []
        for column in columns:
            samples = results[column][name]
            cells.append(f"{statistics.median(samples):>12.0f} / {max(samples):>6.0f}")
        print(f"{name:<28}" + "".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fault", default=DEFAULT_FAULT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    asyncio.run(main(args.repeats, args.fault, args.seed))
