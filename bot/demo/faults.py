"""The faults the demo can inject: where each starts, the alert it trips, and its effect curves.

A fault is described by :class:`Effects` on its root-cause service: per 15 s step, how much
slower the service's own work is, how often it fails by itself, how much delay its network
adds, how many calls to it are lost, whether it is down, and how its CPU, memory, DB pool,
disk, threads and volume move. Metrics and traces are both simulated from these curves, so they
tell the same story; symptoms upstream are not scripted but follow from the call graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.demo.clock import N_STEPS, STEP_S
from bot.demo.topology import MB, THREADS_LIMIT, service

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

FAULTS: tuple[str, ...] = (
    "bad-deploy",
    "error-return",
    "cpu-contention",
    "memory-leak",
    "network-delay",
    "dependency-outage",
    "network-loss",
    "disk-saturation",
    "thread-leak",
    "disk-full",
)
DEFAULT_FAULT = "bad-deploy"
DEFAULT_SEED = 7
INJECT_AT_S = 80 * 60
POOL_TIMEOUT_MS = 5000.0
THREAD_FAIL_MS = 30.0  # a request that needs a thread the JVM cannot start fails at once
OOM_AFTER_S = 28 * 60
RESTART_S = 45
CLIENT_TIMEOUT_MS = 2000.0  # callers' read timeout: a call whose packets are lost ends here
RETRANSMIT_MS = (200.0, 1000.0)  # a lost packet resent: TCP's retransmission timeout
FILL_S = 14 * 60  # disk-full: from the last rotation to a full volume


@dataclass(frozen=True, slots=True)
class AlertRule:
    name: str
    service: str
    signal: str  # "errors" or "latency"
    severity: str = "page"


@dataclass(frozen=True, slots=True)
class FaultSpec:
    name: str
    root: str  # root-cause service
    alert: AlertRule  # what the on-call sees: a symptom, usually upstream of the root
    description: str
    fail_ms: float | None = None  # fault failures take this long and skip downstream calls
    status_code: int = 500


SPECS: dict[str, FaultSpec] = {
    "bad-deploy": FaultSpec(
        "bad-deploy",
        "payments",
        AlertRule("CheckoutHighErrorRate", "checkout", "errors"),
        "payments {version} leaks a pooled DB connection on every card-declined path; the "
        "HikariCP pool (50 connections) is exhausted within minutes of the rollout and charges "
        "time out waiting for a connection, failing checkouts.",
        fail_ms=POOL_TIMEOUT_MS,
    ),
    "error-return": FaultSpec(
        "error-return",
        "inventory",
        AlertRule("CheckoutHighErrorRate", "checkout", "errors"),
        "inventory returns HTTP 500 (code INV-5003, reservation ledger mismatch) for a large "
        "share of stock lookups and reservations after its warehouse mapping went stale; "
        "checkouts fail when the reservation step errors.",
    ),
    "cpu-contention": FaultSpec(
        "cpu-contention",
        "cart",
        AlertRule("FrontendHighLatencyP99", "frontend", "latency"),
        "a batch job landed on the node hosting the cart pods and starved them of CPU; cart "
        "requests are throttled and slow, and every page that reads the cart slows with it.",
    ),
    "memory-leak": FaultSpec(
        "memory-leak",
        "shipping",
        AlertRule("CheckoutHighLatencyP99", "checkout", "latency"),
        "shipping retains every rate-card lookup in an unbounded cache; heap grows steadily, "
        "GC pauses lengthen until the container is OOMKilled and the leak starts again.",
    ),
    "network-delay": FaultSpec(
        "network-delay",
        "inventory",
        AlertRule("CheckoutHighLatencyP99", "checkout", "latency"),
        "200-400 ms of delay on the network path to the inventory pods (a misbehaving CNI "
        "node agent); inventory's own handlers stay fast while its callers wait.",
    ),
    "dependency-outage": FaultSpec(
        "dependency-outage",
        "redis",
        AlertRule("FrontendHighErrorRate", "frontend", "errors"),
        "redis-0 was restarted during a node drain and crash-loops on a truncated AOF file; "
        "cart cannot reach its cache (connection refused), so cart pages and checkouts fail.",
    ),
    "network-loss": FaultSpec(
        "network-loss",
        "shipping",
        AlertRule("CheckoutHighErrorRate", "checkout", "errors"),
        "a flapping NIC on the node hosting the shipping pods drops 10-20 % of their packets; "
        "checkout's calls to shipping wait for retransmissions or hit their 2 s read timeout, "
        "while shipping answers whatever reaches it as fast as ever.",
    ),
    "disk-saturation": FaultSpec(
        "disk-saturation",
        "catalog-db",
        AlertRule("FrontendHighLatencyP99", "frontend", "latency"),
        "a bulk re-import of the product feed rewrites catalog-db's products table; its writes "
        "and the checkpoints they force keep the volume at its provisioned IOPS, so every query "
        "that reads from disk waits in the volume's queue and the product pages slow down.",
    ),
    "thread-leak": FaultSpec(
        "thread-leak",
        "checkout",
        AlertRule("FrontendHighErrorRate", "frontend", "errors"),
        "checkout's order-confirmation mailer builds a thread pool for every order and never "
        "shuts it down; its live threads climb until the container's pids limit, then every "
        "request that needs a new thread fails at once (unable to create native thread) and "
        "the others queue for the workers left, so checkouts fail.",
        fail_ms=THREAD_FAIL_MS,
    ),
    "disk-full": FaultSpec(
        "disk-full",
        "auth",
        AlertRule("FrontendHighErrorRate", "frontend", "errors"),
        "auth appends every session check and login to an audit log on its own volume; its "
        "logrotate sidecar stopped rotating it (the volume's directory became group-writable "
        "and logrotate skips such a parent), so the log grows until the volume is full, then "
        "a request whose audit entry cannot be flushed fails (no space left on device): "
        "sessions cannot be validated, and cart, checkout and login pages fail.",
    ),
}


@dataclass(slots=True)
class Effects:
    """Per-step modifiers of one service (arrays of length ``N_STEPS``)."""

    self_factor: FloatArray = field(default_factory=lambda: np.ones(N_STEPS))
    extra_ms: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))  # mean, exponential
    error_prob: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))  # fault failures
    net_delay_ms: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))
    down: BoolArray = field(default_factory=lambda: np.zeros(N_STEPS, dtype=bool))
    refused: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))  # share of pods down
    cpu_add: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))
    memory_add: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))
    pool_add: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))
    disk_add: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))  # volume busy share
    threads_add: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))  # live threads
    volume_add: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))  # share of volume
    loss: FloatArray = field(default_factory=lambda: np.zeros(N_STEPS))  # share of calls lost


@dataclass(frozen=True, slots=True)
class FaultShape:
    effects: Effects
    oom_s: int | None = None  # memory-leak: when the container was OOMKilled


def spec(fault: str) -> FaultSpec:
    if fault not in SPECS:
        raise ValueError(f"unknown fault {fault!r}; valid faults: {', '.join(FAULTS)}")
    return SPECS[fault]


def _ramp(rel: FloatArray, seconds: float) -> FloatArray:
    return np.asarray(np.clip(rel / seconds, 0.0, 1.0), dtype=np.float64)


def _wobble(rng: np.random.Generator, scale: float) -> FloatArray:
    """Slowly varying noise: a random walk smoothed over about two minutes."""
    steps = rng.normal(0.0, 1.0, N_STEPS + 8)
    smooth = np.convolve(steps, np.ones(8) / 8.0, mode="valid")[:N_STEPS]
    return np.asarray(scale * smooth, dtype=np.float64)


def shape(fault: str, inject_s: int, rng: np.random.Generator) -> FaultShape:
    """Effect curves on the root service of ``fault`` injected at ``inject_s``."""
    rel = np.arange(N_STEPS, dtype=np.float64) * STEP_S - inject_s
    fx = Effects()
    oom_s: int | None = None
    if fault == "bad-deploy":
        leaked = _ramp(rel, 270.0)
        saturated = _ramp(rel - 150.0, 120.0)
        fx.pool_add = leaked
        fx.error_prob = saturated * np.clip(0.48 + _wobble(rng, 0.15), 0.3, 0.65)
        fx.extra_ms = saturated * 900.0 + leaked * 20.0
        fx.cpu_add = 0.05 * saturated
        fx.memory_add = np.where(rel >= 0, -260.0 * MB * np.exp(-np.maximum(rel, 0) / 900), 0.0)
    elif fault == "error-return":
        fx.error_prob = _ramp(rel, 45.0) * np.clip(0.38 + _wobble(rng, 0.12), 0.25, 0.5)
    elif fault == "cpu-contention":
        ramp = _ramp(rel, 90.0)
        fx.self_factor = 1.0 + 6.0 * ramp
        fx.extra_ms = 85.0 * ramp
        base = service("cart").cpu_base
        fx.cpu_add = ramp * (0.965 - base) + np.abs(_wobble(rng, 0.04)) * ramp
    elif fault == "memory-leak":
        oom_s = inject_s + OOM_AFTER_S + int(rng.integers(-60, 61))
        restart = oom_s + RESTART_S
        t = rel + inject_s
        leak = np.where(t < oom_s, _ramp(rel, OOM_AFTER_S), _ramp(t - restart, OOM_AFTER_S))
        shipping = service("shipping")
        fx.memory_add = leak * (0.975 * shipping.memory_limit - shipping.memory_base)
        fx.self_factor = 1.0 + 2.2 * leak**2
        fx.extra_ms = 700.0 * leak**3
        fx.cpu_add = 0.35 * leak**2
        # endpoints drop the dead pod after its readiness probe fails: ~15 s of refusals
        fx.refused = np.where((t > oom_s - STEP_S) & (t <= oom_s), 0.4, 0.0)
    elif fault == "network-delay":
        fx.net_delay_ms = 300.0 * _ramp(rel, STEP_S)
    elif fault == "dependency-outage":
        fx.down = rel >= 0
    elif fault == "network-loss":
        fx.loss = _ramp(rel, STEP_S) * np.clip(0.15 + _wobble(rng, 0.04), 0.08, 0.22)
    elif fault == "disk-saturation":
        ramp = _ramp(rel, 60.0)
        fx.disk_add = ramp * np.clip(0.9 + _wobble(rng, 0.03), 0.85, 0.95)
        # a read that misses the cache queues behind the import's writes: the volume at its
        # limit is a single-server queue near full, so the wait is many times the read itself
        fx.self_factor = 1.0 + 11.0 * ramp
        fx.extra_ms = 25.0 * ramp
        fx.cpu_add = 0.04 * ramp  # the import's own statements; I/O waits use no CPU
    elif fault == "thread-leak":
        leaked = _ramp(rel, 900.0)  # about two threads an order: the limit in 15 minutes
        saturated = _ramp(rel - 780.0, 120.0)
        fx.threads_add = leaked * (THREADS_LIMIT - service("checkout").threads_base)
        fx.error_prob = saturated * np.clip(0.3 + _wobble(rng, 0.08), 0.2, 0.4)
        fx.extra_ms = saturated * 450.0  # queued for one of the workers left
        fx.cpu_add = 0.02 * leaked  # parked threads cost the scheduler little
        fx.memory_add = leaked * 110.0 * MB  # the stack each touched, not the reserved 1 MiB
    elif fault == "disk-full":
        # the audit log grows with the requests it records: the volume is full in 14 minutes
        filling = _ramp(rel, FILL_S)
        full = _ramp(rel - FILL_S + 30.0, 60.0)
        fx.volume_add = filling * (1.0 - service("auth").volume_base)
        # entries are buffered: a request fails when its entry's flush finds no space
        fx.error_prob = full * np.clip(0.55 + _wobble(rng, 0.1), 0.4, 0.7)
        fx.extra_ms = full * 2.0  # the failed write and its retry
    else:  # pragma: no cover - guarded by spec()
        raise ValueError(fault)
    return FaultShape(fx, oom_s)
