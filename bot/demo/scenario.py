"""One generated incident: the fault, its injection time, pods and per-service effect curves.

Everything random here derives from the seed, so the same ``(fault, seed)`` always yields the
same scenario.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

import numpy as np

from bot.demo import ids
from bot.demo.faults import Effects, FaultSpec, shape, spec
from bot.demo.topology import SERVICES, service


@dataclass(frozen=True, slots=True)
class Scenario:
    spec: FaultSpec
    seed: int
    inject_s: int  # seconds after the window start
    effects: dict[str, Effects]
    pods: dict[str, tuple[str, ...]]  # pods running at the window start
    new_pods: dict[str, tuple[str, ...]]  # pods that replace them at inject_s (a deploy)
    oom_s: int | None
    old_version: str
    new_version: str

    @property
    def fault(self) -> str:
        return self.spec.name

    @property
    def root(self) -> str:
        return self.spec.root

    @property
    def source(self) -> str:
        return f"rcabot demo --fault {self.fault} --seed {self.seed}"

    def pods_at(self, name: str, offset_s: float) -> tuple[str, ...]:
        if name in self.new_pods and offset_s >= self.inject_s:
            return self.new_pods[name]
        return self.pods[name]

    @property
    def root_instance(self) -> str:
        pods = self.new_pods.get(self.root) or self.pods[self.root]
        return pods[0]


def cluster_ip(name: str) -> str:
    """A stable ClusterIP-like address for a service (independent of the seed)."""
    crc = zlib.crc32(name.encode())
    return f"10.43.{(crc >> 8) % 250 + 2}.{crc % 250 + 2}"


def port(name: str) -> int:
    kind = service(name).kind
    return {"redis": 6379, "postgres": 5432}.get(kind, 8080)


def build(fault: str, seed: int) -> Scenario:
    fault_spec = spec(fault)
    rng = random.Random(f"rcabot-demo/{seed}/scenario")
    inject_s = 80 * 60 + rng.randint(-150, 150)
    pods: dict[str, tuple[str, ...]] = {}
    for svc in SERVICES:
        if svc.is_datastore:
            pods[svc.name] = tuple(f"{svc.name}-{i}" for i in range(svc.replicas))
        else:
            pods[svc.name] = ids.deployment_pods(rng, svc.name, svc.replicas)
    minor = rng.randint(20, 40)
    old_version, new_version = f"v2.{minor}.{rng.randint(0, 6)}", f"v2.{minor + 1}.0"
    new_pods: dict[str, tuple[str, ...]] = {}
    if fault == "bad-deploy":
        root = service(fault_spec.root)
        new_pods[root.name] = ids.deployment_pods(rng, root.name, root.replicas)
    np_rng = np.random.default_rng([seed, zlib.crc32(fault.encode())])
    fault_shape = shape(fault, inject_s, np_rng)
    effects = {svc.name: Effects() for svc in SERVICES}
    effects[fault_spec.root] = fault_shape.effects
    return Scenario(
        spec=fault_spec,
        seed=seed,
        inject_s=inject_s,
        effects=effects,
        pods=pods,
        new_pods=new_pods,
        oom_s=fault_shape.oom_s,
        old_version=old_version,
        new_version=new_version,
    )
