"""Service-level behaviour per 15 s step: latency distribution, error probability, traffic.

Latency is simulated by vectorised Monte Carlo, bottom-up through the call graph: for every step
``K`` requests to each service draw their own time and the (independently permuted) latencies of
the calls they make, so a slow or failing callee shows up in its callers' quantiles. Error
probabilities and call rates are propagated analytically (they are exact under independence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.demo.clock import N_STEPS, STEP_S, load_factor
from bot.demo.faults import CLIENT_TIMEOUT_MS, RETRANSMIT_MS, BoolArray, FloatArray
from bot.demo.scenario import Scenario
from bot.demo.topology import ENTRY, FRONTEND_RPS, SERVICES, Service, bottom_up, service

K = 256  # simulated requests per service and step
NET_MS = 0.45  # median one-way-and-back network time inside the cluster
IntArray = npt.NDArray[np.int64]


@dataclass(slots=True)
class ServiceModel:
    """What one service looks like from the inside (server view) per step."""

    latency_ms: FloatArray  # (N_STEPS, K) simulated server-side latencies
    error_prob: FloatArray  # (N_STEPS,) probability a request to it fails
    rps: FloatArray  # (N_STEPS,) expected requests per second
    down: BoolArray  # (N_STEPS,)
    # as its callers see it (network, refusals, lost calls included): (N_STEPS, K) call
    # durations and (N_STEPS,) the probability a call to it fails
    seen_ms: FloatArray
    seen_error: FloatArray
    # callee → calls per second it makes to that callee, (N_STEPS,) each
    calls: dict[str, FloatArray]


@dataclass(slots=True)
class _Seen:
    """A service as its callers see it: latency including network, failure probability."""

    latency_ms: FloatArray
    failed: BoolArray
    error_prob: FloatArray


def load_curve() -> FloatArray:
    t = np.arange(N_STEPS, dtype=np.float64) * STEP_S
    return np.asarray([load_factor(x) for x in t], dtype=np.float64)


def self_load_factor(load: FloatArray) -> FloatArray:
    """Own processing slows a little as traffic grows."""
    return np.asarray(1.0 + 0.25 * (load - 1.0), dtype=np.float64)


class _Simulator:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rng = np.random.default_rng([scenario.seed, 20260302])
        self.load = load_curve()
        self.seen: dict[str, _Seen] = {}
        self.latency: dict[str, FloatArray] = {}
        self.error: dict[str, FloatArray] = {}
        self.failed: dict[str, BoolArray] = {}
        # calls_per_request[caller][callee]: expected calls per request to the caller, per step
        self.calls_per_request: dict[str, dict[str, FloatArray]] = {}

    def _lognormal(self, median: FloatArray | float, sigma: float) -> FloatArray:
        noise = self.rng.lognormal(0.0, sigma, (N_STEPS, K))
        return np.asarray(np.asarray(median).reshape(-1, 1) * noise, dtype=np.float64)

    def _pick_ops(self, weights: list[float]) -> IntArray:
        cumulative = np.cumsum(np.asarray(weights) / sum(weights))
        draws = self.rng.random((N_STEPS, K))
        picked = np.searchsorted(cumulative, draws, side="right")
        return np.asarray(np.minimum(picked, len(weights) - 1), dtype=np.int64)

    def run(self) -> dict[str, ServiceModel]:
        for name in bottom_up():
            svc = service(name)
            if svc.is_datastore:
                self._datastore(svc)
            else:
                self._app(svc)
            self._publish(svc)
        rps, calls = self._rps()
        return {
            svc.name: ServiceModel(
                self.latency[svc.name],
                self.error[svc.name],
                rps[svc.name],
                self.scenario.effects[svc.name].down,
                self.seen[svc.name].latency_ms,
                self.seen[svc.name].error_prob,
                calls.get(svc.name, {}),
            )
            for svc in SERVICES
        }

    def _datastore(self, svc: Service) -> None:
        fx = self.scenario.effects[svc.name]
        scale = self_load_factor(self.load) * fx.self_factor
        chosen = self._pick_ops([op.weight for op in svc.operations])
        latency = np.zeros((N_STEPS, K))
        for index, op in enumerate(svc.operations):
            sample = self._lognormal(op.self_ms * scale, op.sigma)
            if fx.extra_ms.any():  # drawn only then: other faults' draws stay as they were
                sample += self.rng.exponential(1.0, (N_STEPS, K)) * fx.extra_ms.reshape(-1, 1)
            latency = np.where(chosen == index, sample, latency)
        self.latency[svc.name] = latency
        self.error[svc.name] = np.asarray(np.clip(svc.base_error + fx.error_prob, 0, 1))
        self.failed[svc.name] = self.rng.random((N_STEPS, K)) < self.error[svc.name][:, None]

    def _app(self, svc: Service) -> None:
        scenario = self.scenario
        fx = scenario.effects[svc.name]
        is_root = svc.name == scenario.root
        fail_ms = scenario.spec.fail_ms if is_root else None
        scale = self_load_factor(self.load) * fx.self_factor
        chosen = self._pick_ops([op.weight for op in svc.operations])
        latency = np.zeros((N_STEPS, K))
        failed = np.zeros((N_STEPS, K), dtype=bool)
        error = np.zeros(N_STEPS)
        per_call: dict[str, FloatArray] = {}
        for index, op in enumerate(svc.operations):
            total = self._lognormal(op.self_ms * scale, op.sigma)
            total += self.rng.exponential(1.0, (N_STEPS, K)) * fx.extra_ms.reshape(-1, 1)
            fault_fail = self.rng.random((N_STEPS, K)) < fx.error_prob.reshape(-1, 1)
            base_fail = self.rng.random((N_STEPS, K)) < svc.base_error
            alive = ~base_fail
            reach = np.full(N_STEPS, 1.0 - svc.base_error)
            if fail_ms is not None:
                alive &= ~fault_fail
                reach = reach * (1.0 - fx.error_prob)
            ok = (1.0 - svc.base_error) * (1.0 - fx.error_prob)
            for call in op.calls:
                seen = self.seen[call.target]
                perm = self.rng.permutation(K)
                called = alive & (self.rng.random((N_STEPS, K)) < call.prob)
                total += np.where(called, seen.latency_ms[:, perm], 0.0)
                share = reach * call.prob
                per_call[call.target] = per_call.get(call.target, np.zeros(N_STEPS)) + (
                    op.weight * share
                )
                if call.critical:
                    alive &= ~(called & seen.failed[:, perm])
                    reach = reach * (1.0 - call.prob * seen.error_prob)
                    ok = ok * (1.0 - call.prob * seen.error_prob)
            if fail_ms is not None:
                timed_out = fail_ms * (1.0 + 0.002 * self.rng.random((N_STEPS, K)))
                total = np.where(fault_fail, timed_out, total)
            total = np.where(base_fail, total * 0.5, total)
            mine = chosen == index
            latency = np.where(mine, total, latency)
            failed = np.where(mine, ~alive | fault_fail, failed)
            error += op.weight * (1.0 - ok)
        self.latency[svc.name] = latency
        self.failed[svc.name] = np.asarray(failed, dtype=np.bool_)
        self.error[svc.name] = np.asarray(np.clip(error, 0.0, 1.0), dtype=np.float64)
        self.calls_per_request[svc.name] = per_call

    def _publish(self, svc: Service) -> None:
        """How callers see ``svc``: add the network; a down service refuses connections, a
        lossy link delays calls (retransmissions) or loses them (the caller's deadline)."""
        fx = self.scenario.effects[svc.name]
        net = self._lognormal(NET_MS, 0.4)
        net += fx.net_delay_ms.reshape(-1, 1) * self.rng.uniform(0.67, 1.33, (N_STEPS, K))
        latency = self.latency[svc.name] + net
        refused_ms = self.rng.uniform(0.8, 3.0, (N_STEPS, K))
        share = np.where(fx.down, 1.0, fx.refused)
        down = self.rng.random((N_STEPS, K)) < share.reshape(-1, 1)
        latency = np.where(down, refused_ms, latency)
        failed = self.failed[svc.name] | down
        error_prob = share + (1.0 - share) * self.error[svc.name]
        if fx.loss.any():  # packets lost on the way: resent late, or the caller gives up
            loss = fx.loss.reshape(-1, 1)
            lost = ~down & (self.rng.random((N_STEPS, K)) < loss)
            resent = ~down & ~lost & (self.rng.random((N_STEPS, K)) < loss)
            latency = latency + np.where(resent, self.rng.uniform(*RETRANSMIT_MS, (N_STEPS, K)), 0)
            deadline = CLIENT_TIMEOUT_MS * (1.0 + 0.002 * self.rng.random((N_STEPS, K)))
            latency = np.where(lost, deadline, latency)
            failed = failed | lost
            error_prob = fx.loss + (1.0 - fx.loss) * error_prob
        self.seen[svc.name] = _Seen(
            np.asarray(latency, dtype=np.float64), failed, np.asarray(error_prob, dtype=np.float64)
        )

    def _rps(self) -> tuple[dict[str, FloatArray], dict[str, dict[str, FloatArray]]]:
        """Requests per second reaching each service, and the calls each makes per callee."""
        rps = {svc.name: np.zeros(N_STEPS) for svc in SERVICES}
        calls: dict[str, dict[str, FloatArray]] = {}
        rps[ENTRY] = FRONTEND_RPS * self.load
        for name in reversed(bottom_up()):
            for callee, per_request in self.calls_per_request.get(name, {}).items():
                made = np.asarray(rps[name] * per_request, dtype=np.float64)
                calls.setdefault(name, {})[callee] = made
                rps[callee] = rps[callee] + made
        for svc in SERVICES:
            fx = self.scenario.effects[svc.name]
            reached = rps[svc.name] * (1.0 - fx.refused) * (1.0 - fx.loss)  # lost never arrive
            rps[svc.name] = np.where(fx.down, 0.0, reached)
        return rps, calls


def simulate(scenario: Scenario) -> dict[str, ServiceModel]:
    """Per-service latency samples, error probability and traffic for every step."""
    return _Simulator(scenario).run()
