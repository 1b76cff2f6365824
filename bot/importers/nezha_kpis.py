"""Every KPI column of Nezha's ``metric/*.csv`` files, as a bundle metric with its unit.

The bundle names state their unit in a Prometheus-style suffix (``tools/bundle/FORMAT.md``).
What the columns hold was read off the files of 2023-01-29, not assumed from their headers:

Per-pod files (``<pod>_metric.csv``, one row a minute for the whole day, ``instance`` = pod):

| Nezha column | bundle metric | unit | conversion |
|---|---|---|---|
| ``CpuUsage(m)`` | ``cpu_usage_cores`` | cores | ÷ 1000 (millicores) |
| ``CpuUsageRate(%)`` | ``cpu_usage_ratio`` | 0..1 | ÷ 100, clamped to 1 (peaks of 100.2 % occur) |
| ``MemoryUsage(Mi)`` | ``memory_usage_bytes`` | bytes | × 2^20 |
| ``MemoryUsageRate(%)`` | ``memory_usage_ratio`` | 0..1 | ÷ 100 |
| ``SyscallRead`` | ``syscall_reads_per_second`` | 1/s | ÷ the file's sample step (a)|
| ``SyscallWrite`` | ``syscall_writes_per_second`` | 1/s | ÷ the file's sample step (a)|
| ``NetworkReceiveBytes`` | ``network_receive_bytes_per_second`` | B/s | none: already a rate (b) |
| ``NetworkTransmitBytes`` | ``network_transmit_bytes_per_second`` | B/s | none (b) |
| ``PodClientLatencyP90/95/99(s)`` | ``client_latency_p90/p95/p99_seconds`` | s | (c) |
| ``PodServerLatencyP90/95/99(s)`` | ``latency_p90/p95/p99_seconds`` | s | NaN = gap, (c) |
| ``PodWorkload(Ops)`` | ``requests_per_second`` | 1/s | none: a per-second rate |
| ``PodSuccessRate(%)`` | ``error_ratio`` | 0..1 | 1 − rate/100 where workload > 0 (d) |
| ``NodeCpuUsageRate(%)`` | ``node_cpu_usage_ratio`` | 0..1 | ÷ 100; label ``node`` (e) |
| ``NodeMemoryUsageRate(%)`` | ``node_memory_usage_ratio`` | 0..1 | ÷ 100; label ``node`` (e) |
| ``NodeNetworkReceiveBytes`` | ``node_network_receive_bytes_per_second`` | B/s | ``node`` (e) |

``front_service.csv`` (``ServiceName`` = ``Frontend``, the user-facing entry):

| Nezha column | bundle metric | unit | conversion |
|---|---|---|---|
| ``LatencyP50/90/95/99(s)`` | ``latency_p50/p90/p95/p99_seconds`` | s | NaN = gap, (c) |
| ``SuccessRate(%)`` | ``error_ratio`` | 0..1 | 1 − rate/100 (d) |

(a) Whole numbers that rise and fall (not cumulative counters), so counts per sample interval;
    divided by the interval (the median spacing of ``TimeStamp``, 60 s) to give a rate. The
    gateway's 6,162 reads per sample beside ~1 request/s and ~146 kB/s received is about 100
    reads/s of 1.4 kB each; read as per-second it would be 24-byte reads. The analysis compares
    each series with its own baseline, so the scale only matters to the reader of a title.
(b) Fractional and not monotone: Prometheus ``rate()``/``irate()`` results, per second like
    ``PodWorkload`` (which comes in multiples of 1/15 s⁻¹: an ``irate`` over 15 s scrapes).
(c) Histogram quantiles: exactly ``HISTOGRAM_CEILING_S`` (3600 s, the largest finite bucket of
    Istio's request-duration histogram) means "somewhere above the last bucket", not a latency,
    and is a gap. ``client_latency`` is the latency of the calls the pod makes (as client);
    values of minutes are real (long calls interpolated inside the 1,800–3,600 s bucket).
(d) Trusted only in a file where some sample with traffic has a rate above 0: on 2023-01-29 it
    is 0 in every sample of every file (also under traffic, while the traces show requests
    succeeding), so no ``error_ratio`` is written and a warning says so.
(e) The node's own figures, repeated in the file of each pod it hosts; written under the pod's
    service and ``instance`` with a ``node`` label naming the host: pods whose node series are
    identical all day share a node (``node-1``, ``node-2``, … numbered by first pod name; the
    files do not name the node). A ``node`` service would make hosts compete with services as
    root-cause candidates; the label keeps the host visible without that.

Any column (except ``PodWorkload``, where 0 means no traffic) that is 0 in every sample of a
file was not collected for that pod and is left out with a warning: on 2023-01-29 the
syscall columns of most pods, CPU/memory of two pods whose container is named differently,
latencies of pods that never served or made a call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

HISTOGRAM_CEILING_S = 3600.0
_MIB = 1024 * 1024
META_COLUMNS = frozenset({"Time", "TimeStamp", "PodName", "ServiceName"})

Convert = Callable[[float], float | None]  # None: a sentinel, written as a gap


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"negative value {value}")
    return value


def _ratio(value: float) -> float:
    if value < 0:
        raise ValueError(f"negative percentage {value}")
    return min(value / 100.0, 1.0)


def _latency(value: float) -> float | None:
    return None if _non_negative(value) >= HISTOGRAM_CEILING_S else value


def _error_ratio(success_percent: float) -> float:
    if not 0 <= success_percent <= 100:
        raise ValueError(f"success rate {success_percent} outside 0..100 %")
    return 1.0 - success_percent / 100.0


@dataclass(frozen=True)
class Kpi:
    """One Nezha column and how it becomes bundle samples."""

    metric: str
    convert: Convert
    per_step: bool = False  # a count per sample interval: divided by the file's step
    node: bool = False  # describes the pod's node: written with the ``node`` label
    zero_is_data: bool = False  # 0 in every sample means "idle", not "not collected"
    needs_traffic: bool = False  # only meaningful in a sample with workload > 0


def _latencies(prefix: str, metric: str, quantiles: tuple[str, ...]) -> dict[str, Kpi]:
    return {f"{prefix}{q.upper()}(s)": Kpi(f"{metric}_{q}_seconds", _latency) for q in quantiles}


POD_KPIS: dict[str, Kpi] = {
    "CpuUsage(m)": Kpi("cpu_usage_cores", lambda v: _non_negative(v) / 1000.0),
    "CpuUsageRate(%)": Kpi("cpu_usage_ratio", _ratio),
    "MemoryUsage(Mi)": Kpi("memory_usage_bytes", lambda v: _non_negative(v) * _MIB),
    "MemoryUsageRate(%)": Kpi("memory_usage_ratio", _ratio),
    "SyscallRead": Kpi("syscall_reads_per_second", _non_negative, per_step=True),
    "SyscallWrite": Kpi("syscall_writes_per_second", _non_negative, per_step=True),
    "NetworkReceiveBytes": Kpi("network_receive_bytes_per_second", _non_negative),
    "NetworkTransmitBytes": Kpi("network_transmit_bytes_per_second", _non_negative),
    **_latencies("PodClientLatency", "client_latency", ("p90", "p95", "p99")),
    **_latencies("PodServerLatency", "latency", ("p90", "p95", "p99")),
    "PodWorkload(Ops)": Kpi("requests_per_second", _non_negative, zero_is_data=True),
    "PodSuccessRate(%)": Kpi("error_ratio", _error_ratio, needs_traffic=True),
    "NodeCpuUsageRate(%)": Kpi("node_cpu_usage_ratio", _ratio, node=True),
    "NodeMemoryUsageRate(%)": Kpi("node_memory_usage_ratio", _ratio, node=True),
    "NodeNetworkReceiveBytes": Kpi(
        "node_network_receive_bytes_per_second", _non_negative, node=True
    ),
}
FRONT_KPIS: dict[str, Kpi] = {
    **_latencies("Latency", "latency", ("p50", "p90", "p95", "p99")),
    "SuccessRate(%)": Kpi("error_ratio", _error_ratio, needs_traffic=True),
}
WORKLOAD_COLUMN = "PodWorkload(Ops)"
NODE_METRICS = frozenset(k.metric for k in POD_KPIS.values() if k.node)
