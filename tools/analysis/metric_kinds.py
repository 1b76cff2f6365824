"""What a metric is, by its name: the golden signal it belongs to (:class:`SignalGroup`), the
direction that means trouble (:class:`Direction`), and whether it is a share of a limit.
The names are the ones a bundle's metrics carry (``tools/bundle/FORMAT.md``) and the
Prometheus backend's queries are named by; a name this does not recognise is ``OTHER``,
scored both ways.
"""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    BOTH = "both"


class SignalGroup(StrEnum):
    ERRORS = "errors"
    LATENCY = "latency"
    TRAFFIC = "traffic"
    CPU = "cpu"
    MEMORY = "memory"
    POOL = "pool"
    DOWNSTREAM = "downstream"  # the latency/errors of calls the service makes: its callees'
    NODE = "node"  # the host's own figures, shared by every pod on it
    OTHER = "other"


def classify(metric: str) -> tuple[SignalGroup, Direction]:
    """The golden-signal group of a metric name and the direction that means trouble."""
    name = metric.lower()
    if name.startswith("node_"):
        return SignalGroup.NODE, Direction.UP
    if name.startswith("client_") or "_client_" in name:
        return SignalGroup.DOWNSTREAM, Direction.UP
    if "error" in name or "fail" in name or "5xx" in name:
        return SignalGroup.ERRORS, Direction.UP
    if "success" in name:
        return SignalGroup.ERRORS, Direction.DOWN
    if "latency" in name or "duration" in name:
        return SignalGroup.LATENCY, Direction.UP
    if "request" in name or "throughput" in name or "workload" in name:
        return SignalGroup.TRAFFIC, Direction.BOTH
    if "cpu" in name:
        return SignalGroup.CPU, Direction.UP
    if "memory" in name or "heap" in name:
        return SignalGroup.MEMORY, Direction.UP
    if "pool" in name or "connections" in name:
        return SignalGroup.POOL, Direction.UP
    return SignalGroup.OTHER, Direction.BOTH


def share_of_limit(metric: str) -> bool:
    """A service's CPU or memory use as a share of its limit (``cpu_usage_ratio``,
    ``memory_usage_ratio``); not its host's (``node_*``), not a share of requests."""
    group, _ = classify(metric)
    return group in (SignalGroup.CPU, SignalGroup.MEMORY) and metric.endswith("_ratio")
