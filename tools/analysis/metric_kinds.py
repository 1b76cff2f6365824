"""What a metric is, by its name: the golden signal it belongs to (:class:`SignalGroup`), the
direction that means trouble (:class:`Direction`), and whether it is a share of a limit.
The names are the ones a bundle's metrics carry (``tools/bundle/FORMAT.md``) and the
Prometheus backend's queries are named by; a name this does not recognise is ``OTHER``,
scored both ways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    # a bounded resource other than CPU and memory: a connection pool, file descriptors, disk
    # space or bandwidth, inodes, a quota
    POOL = "pool"
    NETWORK = "network"  # the instance's own packets dropped, resent or failed on its interface
    DOWNSTREAM = "downstream"  # the latency/errors of calls the service makes: its callees'
    NODE = "node"  # the host's own figures, shared by every pod on it
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    group: SignalGroup
    direction: Direction
    why: str


def _rule(pattern: str, group: SignalGroup, direction: Direction, why: str) -> _Rule:
    return _Rule(re.compile(pattern), group, direction, why)


_WORD = r"(?:^|_)"  # a name's words are separated by underscores (Prometheus' convention)
_END = r"(?:_|$)"
# First match wins, so the order matters where a name has two groups' words; each entry says
# which names it is for (cAdvisor, node-exporter, the JVM's and Go's runtime metrics,
# OpenTelemetry's semantic conventions as Prometheus writes them, the bundle format's names).
RULES: tuple[_Rule, ...] = (
    _rule(r"^node_", SignalGroup.NODE, Direction.UP, "the host's, shared by all its pods"),
    _rule(
        r"pool|connections",
        SignalGroup.POOL,
        Direction.UP,
        "a pool in use (before the client rule: db_client_connections_usage is a pool)",
    ),
    _rule(r"^client_|_client_", SignalGroup.DOWNSTREAM, Direction.UP, "calls it makes"),
    _rule(
        rf"{_WORD}(?:gc|oom){_END}|garbage",
        SignalGroup.MEMORY,
        Direction.UP,
        "garbage collection and OOM kills are memory pressure (jvm_gc_pause_seconds is "
        "not a request's latency)",
    ),
    _rule(
        r"retrans|(?:packet|network).*(?:drop|discard|err)",
        SignalGroup.NETWORK,
        Direction.UP,
        "packets lost on its own interface (container_network_receive_errors_total is not "
        "a request's error)",
    ),
    _rule(r"error|fail|5xx", SignalGroup.ERRORS, Direction.UP, "failed requests"),
    _rule(r"success", SignalGroup.ERRORS, Direction.DOWN, "the share that succeeded"),
    _rule(r"latency|duration", SignalGroup.LATENCY, Direction.UP, "how long requests take"),
    _rule(r"request|throughput|workload", SignalGroup.TRAFFIC, Direction.BOTH, "work arriving"),
    _rule(r"cpu", SignalGroup.CPU, Direction.UP, "CPU used or throttled"),
    _rule(r"memory|heap", SignalGroup.MEMORY, Direction.UP, "memory held"),
    _rule(
        rf"(?:disk|filesystem|{_WORD}fs_|volume|inode).*(?:avail|free)",
        SignalGroup.POOL,
        Direction.DOWN,
        "disk space left: trouble is less of it",
    ),
    _rule(
        rf"disk|filesystem|{_WORD}fs_|volume|inode|{_WORD}fds{_END}|file_descriptors|"
        r"open_files|socket|thread|goroutine|quota",
        SignalGroup.POOL,
        Direction.UP,
        "a bounded resource in use: disk space or bandwidth, file descriptors and sockets, "
        "threads (cAdvisor's container_threads, a JVM's or a Go runtime's), a quota",
    ),
)


def classify(metric: str) -> tuple[SignalGroup, Direction]:
    """The golden-signal group of a metric name and the direction that means trouble: the
    first of :data:`RULES` whose pattern the lower-cased name holds, else ``OTHER``, both ways."""
    name = metric.lower()
    rule = next((r for r in RULES if r.pattern.search(name)), None)
    return (rule.group, rule.direction) if rule else (SignalGroup.OTHER, Direction.BOTH)


LIMITED = frozenset({SignalGroup.CPU, SignalGroup.MEMORY, SignalGroup.POOL})


def share_of_limit(metric: str) -> bool:
    """A service's use of a resource as a share of its limit: CPU, memory, a pool or a volume
    (``cpu_usage_ratio``, ``memory_usage_ratio``, ``db_pool_usage_ratio``,
    ``disk_io_utilisation_ratio``); not its host's (``node_*``), not a share of requests, not
    what is left (``*_avail_*``: falling is trouble)."""
    group, direction = classify(metric)
    return group in LIMITED and direction is Direction.UP and metric.lower().endswith("_ratio")
