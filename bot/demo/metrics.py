"""Metric series at 15 s for every service, from the service model plus resource curves.

Latency quantiles come from the simulated request samples; throughput and error ratio are
counted (Poisson / binomial noise on the expected values); CPU, memory, DB-pool and (for
datastores) disk usage and (for JVM services) live threads follow the traffic, with noise, a
JVM heap sawtooth, and the fault's additions; a service with a volume of its own exports how
full it is; a pod's interface drops packets only on a lossy link. A service that is down
exports near-zero CPU and memory and no latency or error samples (there are no requests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.demo.clock import N_STEPS, STEP_S, iso_s
from bot.demo.faults import FloatArray
from bot.demo.model import ServiceModel
from bot.demo.scenario import Scenario
from bot.demo.topology import MB, SERVICES, THREADS_LIMIT, Service
from tools.analysis.call_edges import CALLS, CLIENT_TIME, EDGE_SIGNALS, FAILED, SERVER_TIME

METRICS: tuple[str, ...] = (
    "cpu_usage_ratio",
    "db_pool_usage_ratio",
    "disk_io_utilisation_ratio",
    "error_ratio",
    "jvm_threads_live_threads",
    "latency_p50_seconds",
    "latency_p99_seconds",
    "memory_usage_bytes",
    "network_receive_packets_dropped_per_second",
    "requests_per_second",
    "volume_usage_ratio",
)
DISK_BUSY = 0.07  # a datastore's volume busy this share of the time at the window's load
PACKETS_PER_REQUEST = 6  # a request and its answer in TCP segments, handshake and ACKs included
_FORMATS: dict[str, str] = {
    "cpu_usage_ratio": "{:.4f}",
    "db_pool_usage_ratio": "{:.4f}",
    "disk_io_utilisation_ratio": "{:.4f}",
    "error_ratio": "{:.5f}",
    "jvm_threads_live_threads": "{:.0f}",
    "latency_p50_seconds": "{:.6f}",
    "latency_p99_seconds": "{:.6f}",
    "memory_usage_bytes": "{:.0f}",
    "network_receive_packets_dropped_per_second": "{:.3f}",
    "requests_per_second": "{:.3f}",
    "volume_usage_ratio": "{:.4f}",
}
# The service graph, per client → server edge, as the OpenTelemetry Collector's servicegraph
# connector (or Tempo's metrics-generator) exports it from the spans: calls, the share that
# failed, and a call's median duration at each end (tools/analysis/call_edges.py).
_FORMATS |= {CALLS: "{:.3f}", FAILED: "{:.5f}", CLIENT_TIME: "{:.6f}", SERVER_TIME: "{:.6f}"}
HEADER = "timestamp,service,metric,value,server"


@dataclass(frozen=True, slots=True)
class MetricTable:
    """``values[service][metric]``: one value per step, NaN where nothing was exported;
    ``edges[(client, server)][metric]`` the same for the calls between two services."""

    values: dict[str, dict[str, FloatArray]]
    edges: dict[tuple[str, str], dict[str, FloatArray]]

    def series(self, name: str, metric: str) -> FloatArray:
        return self.values[name][metric]


def _smooth_noise(rng: np.random.Generator, scale: float, width: int = 6) -> FloatArray:
    raw = rng.normal(0.0, 1.0, N_STEPS + width)
    return np.asarray(
        scale * np.convolve(raw, np.ones(width) / math.sqrt(width), "valid")[:N_STEPS],
        dtype=np.float64,
    )


def _counts(rng: np.random.Generator, model: ServiceModel) -> tuple[FloatArray, FloatArray]:
    requests = rng.poisson(model.rps * STEP_S)
    errors = rng.binomial(requests, np.clip(model.error_prob, 0.0, 1.0))
    rps = requests / STEP_S
    ratio = np.where(requests > 0, errors / np.maximum(requests, 1), 0.0)
    return np.asarray(rps, dtype=np.float64), np.asarray(ratio, dtype=np.float64)


def _memory(rng: np.random.Generator, svc: Service, extra: FloatArray) -> FloatArray:
    t = np.arange(N_STEPS, dtype=np.float64) * STEP_S
    memory = svc.memory_base * (1.0 + 0.04 * t / (N_STEPS * STEP_S))
    if svc.runtime == "jvm":  # young-generation fill and collect, roughly every 4 minutes
        period = 200.0 + rng.uniform(0.0, 80.0)
        memory = (
            memory + 0.10 * svc.memory_base * ((t + rng.uniform(0.0, period)) % period) / period
        )
    memory = memory + _smooth_noise(rng, 0.004 * svc.memory_base) + extra
    return np.asarray(np.clip(memory, 24 * MB, svc.memory_limit), dtype=np.float64)


def _dropped(rng: np.random.Generator, model: ServiceModel, loss: FloatArray) -> FloatArray:
    """Packets its interface dropped per second (cAdvisor's
    ``container_network_receive_packets_dropped_total`` as a rate): a pod's virtual interface
    drops none while healthy; a lossy link drops the ``loss`` share of what reaches it."""
    packets = model.rps * PACKETS_PER_REQUEST * STEP_S
    return np.asarray(rng.poisson(np.clip(loss, 0.0, 1.0) * packets) / STEP_S, dtype=np.float64)


def _disk(rng: np.random.Generator, load: FloatArray, add: FloatArray) -> FloatArray:
    """The share of time a datastore's volume was busy (node-exporter's
    ``rate(node_disk_io_time_seconds_total)`` of its device): reads that miss the cache and
    the WAL's writes, with the traffic; a fault's I/O on top, never past all of the time."""
    busy = DISK_BUSY * load * (1.0 + _smooth_noise(rng, 0.08)) + add
    return np.asarray(np.clip(busy, 0.005, 1.0), dtype=np.float64)


def _volume(rng: np.random.Generator, svc: Service, add: FloatArray) -> FloatArray:
    """The share of a service's own volume in use (the kubelet's
    ``kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes``): what it holds
    while healthy, rotated and pruned as it grows, a fault's growth on top, never past full."""
    used = svc.volume_base + _smooth_noise(rng, 0.004) + add
    return np.asarray(np.clip(used, 0.0, 1.0), dtype=np.float64)


def _threads(
    rng: np.random.Generator, svc: Service, load: FloatArray, add: FloatArray
) -> FloatArray:
    """A JVM's live threads (Micrometer's ``jvm_threads_live_threads``): its usual ones,
    Tomcat's workers growing a little with the traffic, a fault's on top, never past the
    container's pids limit."""
    live = svc.threads_base * (1.0 + 0.1 * (load - 1.0)) + _smooth_noise(rng, 2.0) + add
    return np.asarray(np.round(np.clip(live, 20.0, THREADS_LIMIT)), dtype=np.float64)


def _pool(
    rng: np.random.Generator,
    svc: Service,
    load: FloatArray,
    add: FloatArray,
) -> FloatArray:
    usage = svc.pool_base * load * (1.0 + _smooth_noise(rng, 0.05)) + add
    usage = np.clip(usage, 1.0 / svc.pool_size, 1.0)
    return np.asarray(np.round(usage * svc.pool_size) / svc.pool_size, dtype=np.float64)


def build_table(scenario: Scenario, models: dict[str, ServiceModel]) -> MetricTable:
    rng = np.random.default_rng([scenario.seed, 4242])
    # their own generators: the other series' draws stay as they were
    drops = np.random.default_rng([scenario.seed, 4444])
    disks = np.random.default_rng([scenario.seed, 4545])
    threads = np.random.default_rng([scenario.seed, 4646])
    volumes = np.random.default_rng([scenario.seed, 4747])
    values: dict[str, dict[str, FloatArray]] = {}
    for svc in SERVICES:
        model = models[svc.name]
        fx = scenario.effects[svc.name]
        rps, error_ratio = _counts(rng, model)
        baseline = float(model.rps[:20].mean()) or 1.0
        load = np.asarray(model.rps / baseline, dtype=np.float64)
        cpu = svc.cpu_base * load**0.85 + fx.cpu_add + rng.normal(0.0, 0.012, N_STEPS)
        series: dict[str, FloatArray] = {
            "latency_p50_seconds": np.quantile(model.latency_ms, 0.5, axis=1) / 1000.0,
            "latency_p99_seconds": np.quantile(model.latency_ms, 0.99, axis=1) / 1000.0,
            "requests_per_second": rps,
            "error_ratio": error_ratio,
            "cpu_usage_ratio": np.asarray(np.clip(cpu, 0.004, 1.0), dtype=np.float64),
            "memory_usage_bytes": _memory(rng, svc, fx.memory_add),
            "network_receive_packets_dropped_per_second": _dropped(drops, model, fx.loss),
        }
        if svc.pool_size:
            series["db_pool_usage_ratio"] = _pool(rng, svc, load, fx.pool_add)
        if svc.is_datastore:
            series["disk_io_utilisation_ratio"] = _disk(disks, load, fx.disk_add)
        if svc.runtime == "jvm":
            series["jvm_threads_live_threads"] = _threads(threads, svc, load, fx.threads_add)
        if svc.volume_base:
            series["volume_usage_ratio"] = _volume(volumes, svc, fx.volume_add)
        down = model.down
        if down.any():
            series["cpu_usage_ratio"] = np.where(
                down, rng.uniform(0.001, 0.004, N_STEPS), series["cpu_usage_ratio"]
            )
            series["memory_usage_bytes"] = np.where(
                down, rng.uniform(4, 9, N_STEPS) * MB, series["memory_usage_bytes"]
            )
            for name in (
                "latency_p50_seconds",
                "latency_p99_seconds",
                "error_ratio",
                "db_pool_usage_ratio",
            ):
                if name in series:
                    series[name] = np.where(down, np.nan, series[name])
        values[svc.name] = series
    return MetricTable(values, _edges(scenario, models))


def _median_of_first(samples: FloatArray, counts: npt.NDArray[np.int64]) -> FloatArray:
    """Per step (row), the median of its first ``counts`` samples (at least 1, at most all):
    a step with few calls has a noisy median, as a real one does."""
    n = np.clip(counts, 1, samples.shape[1])
    return np.asarray(
        [np.median(row[:k]) for row, k in zip(samples, n, strict=True)], dtype=np.float64
    )


def _edges(
    scenario: Scenario, models: dict[str, ServiceModel]
) -> dict[tuple[str, str], dict[str, FloatArray]]:
    """Each edge's calls (Poisson), the share that failed as the client saw them (binomial),
    and the median duration of that step's calls (as many of the simulated requests as there
    were calls, up to all of them) at the client (network, refusals and lost calls' deadlines
    included) and at the server (none while it is down: it measures nothing)."""
    rng = np.random.default_rng([scenario.seed, 4343])
    edges: dict[tuple[str, str], dict[str, FloatArray]] = {}
    for svc in SERVICES:
        for callee, made in sorted(models[svc.name].calls.items()):
            server = models[callee]
            calls = rng.poisson(np.maximum(made, 0.0) * STEP_S)
            failed = rng.binomial(calls, np.clip(server.seen_error, 0.0, 1.0))
            some = calls > 0
            edges[(svc.name, callee)] = {
                CALLS: np.asarray(calls / STEP_S, dtype=np.float64),
                FAILED: np.where(some, failed / np.maximum(calls, 1), np.nan),
                CLIENT_TIME: np.where(
                    some, _median_of_first(server.seen_ms, calls) / 1000.0, np.nan
                ),
                SERVER_TIME: np.where(
                    some & ~server.down, _median_of_first(server.latency_ms, calls) / 1000.0, np.nan
                ),
            }
    return edges


def csv_lines(table: MetricTable) -> list[str]:
    """Rows of ``metrics.csv`` (header first), step by step, services in topology order."""
    lines = [HEADER]
    for step in range(N_STEPS):
        stamp = iso_s(step * STEP_S)
        for svc in SERVICES:
            series = table.values[svc.name]
            for metric in METRICS:
                column = series.get(metric)
                if column is None:
                    continue
                value = float(column[step])
                if math.isnan(value):
                    continue
                lines.append(f"{stamp},{svc.name},{metric},{_FORMATS[metric].format(value)},")
        for (client, server), edge in table.edges.items():
            for metric in EDGE_SIGNALS:
                value = float(edge[metric][step])
                if not math.isnan(value):
                    formatted = _FORMATS[metric].format(value)
                    lines.append(f"{stamp},{client},{metric},{formatted},{server}")
    return lines
