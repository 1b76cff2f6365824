"""Sampled request traces: a root ``server`` span at the frontend and the calls below it.

Each request walks the call graph with the same parameters and fault curves as the metric
model. A call to another service is a ``client`` span in the caller around a ``server`` span in
the callee (the difference is network time, where injected network delay shows up); a call to a
datastore is a ``client`` span only. A critical call that fails fails its caller, so errors
propagate upstream. All times are integer microseconds, so children nest exactly in parents.
Besides the spans, every server-side request is returned as a :class:`Visit` for the logs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from bot.demo import ids
from bot.demo.clock import US, WINDOW_US, iso_us, load_factor, step_of
from bot.demo.faults import CLIENT_TIMEOUT_MS, RETRANSMIT_MS, Effects
from bot.demo.scenario import Scenario, cluster_ip, port
from bot.demo.texts import NOISE_ERRORS, SQL, fault_error
from bot.demo.topology import ENTRY, Call, Operation, Service, service

MEAN_GAP_S = 1.9  # one sampled trace every ~2 s at base load
NET_HALF_MS = 0.22
RETRY_PROB = 0.006  # checkout → shipping: a reset connection, retried once


@dataclass(slots=True)
class Visit:
    """One request handled by an application service (what its request log lines describe)."""

    start_us: int
    duration_us: int
    service: str
    instance: str
    op: Operation
    trace_id: str
    span_id: str
    status: int
    ctx: dict[str, str]
    error: str | None = None
    origin: bool = False  # the error started here (not in something it called)
    failed_call: str | None = None  # "<target>.<op>" whose failure failed this request
    degraded: list[tuple[str, str]] = field(default_factory=list)  # non-critical failures
    retried: str | None = None
    root_fault: bool = False  # failed because of the injected fault


@dataclass(slots=True)
class TraceSet:
    spans: list[dict[str, Any]]
    visits: list[Visit]
    traces: int


@dataclass(frozen=True, slots=True)
class _Curves:
    """One service's effect curves as plain lists (fast per-request indexing)."""

    self_factor: list[float]
    extra_ms: list[float]
    error_prob: list[float]
    net_delay_ms: list[float]
    down: list[bool]
    refused: list[float]
    loss: list[float]

    @classmethod
    def of(cls, fx: Effects) -> _Curves:
        return cls(
            [float(x) for x in fx.self_factor],
            [float(x) for x in fx.extra_ms],
            [float(x) for x in fx.error_prob],
            [float(x) for x in fx.net_delay_ms],
            [bool(x) for x in fx.down],
            [float(x) for x in fx.refused],
            [float(x) for x in fx.loss],
        )


@dataclass(slots=True)
class _Result:
    duration_us: int
    status: int
    error: str | None = None


def _pick(rng: random.Random, ops: tuple[Operation, ...]) -> Operation:
    return rng.choices(ops, weights=[op.weight for op in ops])[0]


class _Simulator:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rng = random.Random(f"rcabot-demo/{scenario.seed}/{scenario.fault}/traces")
        self.spans: list[tuple[int, int, dict[str, Any]]] = []
        self.visits: list[Visit] = []
        self.fx: dict[str, Effects] = scenario.effects
        self.curves = {name: _Curves.of(fx) for name, fx in scenario.effects.items()}

    def run(self) -> TraceSet:
        rng, entry, t_s, traces = self.rng, service(ENTRY), 0.0, 0
        while True:
            t_s += rng.expovariate(load_factor(t_s) / MEAN_GAP_S)
            start_us = int(t_s * US)
            if start_us >= WINDOW_US - 15 * US:
                break
            trace = ids.trace_id(rng)
            op = _pick(rng, entry.operations)  # then the context: the random draws' order
            self._server(entry, op, start_us, trace, None, ids.request_context(rng))
            traces += 1
        self.spans.sort(key=lambda item: (item[0], item[1]))
        self.visits.sort(key=lambda v: (v.start_us + v.duration_us, v.span_id))
        return TraceSet([span for _, _, span in self.spans], self.visits, traces)

    def _emit(
        self,
        trace: str,
        span: str,
        parent: str | None,
        svc: str,
        operation: str,
        kind: str,
        start_us: int,
        duration_us: int,
        error: bool,
        attrs: dict[str, Any],
    ) -> None:
        record = {
            "trace_id": trace,
            "span_id": span,
            "parent_id": parent,
            "service": svc,
            "operation": operation,
            "kind": kind,
            "start": iso_us(start_us),
            "duration_ms": duration_us / 1000,
            "status": "error" if error else "ok",
            "attrs": attrs,
        }
        self.spans.append((start_us, len(self.spans), record))

    def _server(
        self,
        svc: Service,
        op: Operation,
        start_us: int,
        trace: str,
        parent: str | None,
        ctx: dict[str, str],
    ) -> _Result:
        rng, scenario = self.rng, self.scenario
        step = step_of(start_us)
        curves = self.curves[svc.name]
        self_factor, extra, fault_prob = curves.self_factor, curves.extra_ms, curves.error_prob
        span = ids.span_id(rng)
        pods = scenario.pods_at(svc.name, start_us / US)
        if curves.refused[step]:  # a pod is restarting: only the others answer
            pods = tuple(pod for pod in pods if pod != scenario.root_instance)
        visit = Visit(start_us, 0, svc.name, rng.choice(pods), op, trace, span, 200, ctx)
        own_ms = op.self_ms * (1.0 + 0.25 * (load_factor(start_us / US) - 1.0))
        own_ms *= self_factor[step] * rng.lognormvariate(0.0, op.sigma)
        if extra[step] > 0:
            own_ms += rng.expovariate(1.0 / extra[step])
        fault_fail = fault_prob[step] > 0 and rng.random() < fault_prob[step]
        base_fail = rng.random() < svc.base_error
        early_fault = fault_fail and scenario.spec.fail_ms is not None
        if early_fault or base_fail:
            fail_ms = scenario.spec.fail_ms if early_fault else None
            duration = int((fail_ms * (1 + 0.002 * rng.random()) if fail_ms else own_ms / 2) * 1000)
            visit.error = (
                fault_error(scenario.fault, rng) if early_fault else NOISE_ERRORS[svc.name]
            )
            visit.status = 503 if svc.name == "recommendations" else 500
            visit.origin, visit.root_fault = True, early_fault
        else:
            duration = self._children(svc, op, start_us, own_ms, span, visit)
            if visit.error is None and fault_fail:
                visit.error, visit.status = (
                    fault_error(scenario.fault, rng),
                    scenario.spec.status_code,
                )
                visit.origin = visit.root_fault = True
            elif visit.status == 200 and op.reject_prob and rng.random() < op.reject_prob:
                visit.status = op.reject_code
        visit.duration_us = duration
        method, _, route = op.route.partition(" ")
        attrs: dict[str, Any] = {
            "http.method": method,
            "http.route": route,
            "http.status_code": visit.status,
        }
        if visit.error:
            attrs["error.message"] = visit.error
        self._emit(
            trace,
            span,
            parent,
            svc.name,
            op.route,
            "server",
            start_us,
            duration,
            visit.error is not None,
            attrs,
        )
        self.visits.append(visit)
        return _Result(duration, visit.status, visit.error)

    def _children(
        self, svc: Service, op: Operation, start_us: int, own_ms: float, span: str, visit: Visit
    ) -> int:
        rng = self.rng
        pre = own_ms * rng.uniform(0.15, 0.45)
        remaining = own_ms - pre
        cursor = start_us + int(pre * 1000)
        for call in op.calls:
            if rng.random() >= call.prob:
                continue
            if svc.name == "checkout" and call.target == "shipping" and rng.random() < RETRY_PROB:
                cursor += self._reset_call(svc, call, cursor, span, visit)
            result = self._client(svc, call, cursor, visit.trace_id, span, visit.ctx)
            gap = min(remaining, own_ms * 0.08 * rng.random())
            remaining -= gap
            cursor += result.duration_us + int(gap * 1000)
            if result.error is not None:
                if not call.critical:
                    visit.degraded.append((call.target, result.error))
                    continue
                visit.failed_call = f"{call.target}.{call.op}"
                visit.error = f"{visit.failed_call}: {result.error}"
                visit.status = (
                    502
                    if svc.name == ENTRY and result.status != 503
                    else (503 if result.status == 503 else 500)
                )
                break
            if 400 <= result.status < 500:
                visit.status = result.status
                break
        return cursor + int(max(remaining, 0.05) * 1000) - start_us

    def _reset_call(
        self, svc: Service, call: Call, start_us: int, parent: str, visit: Visit
    ) -> int:
        """A pooled connection reset by the peer: a failed attempt, then a back-off."""
        duration = int(self.rng.uniform(0.5, 4.0) * 1000)
        message = (
            "upstream connect error or disconnect/reset before headers. reset reason: "
            "connection termination"
        )
        self._emit(
            visit.trace_id,
            ids.span_id(self.rng),
            parent,
            svc.name,
            f"{call.target}.{call.op}",
            "client",
            start_us,
            duration,
            True,
            {"peer.service": call.target, "error.message": message, "http.resend_count": 0},
        )
        visit.retried = f"{call.target}.{call.op}"
        return duration + int(self.rng.uniform(40, 60) * 1000)

    def _client(
        self,
        caller: Service,
        call: Call,
        start_us: int,
        trace: str,
        parent: str,
        ctx: dict[str, str],
    ) -> _Result:
        rng = self.rng
        target = service(call.target)
        step = step_of(start_us)
        curves = self.curves[target.name]
        net_delay, down, refused = curves.net_delay_ms, curves.down, curves.refused
        span = ids.span_id(rng)
        attrs: dict[str, Any] = {"peer.service": target.name}
        if target.is_datastore:
            attrs["db.system"] = "redis" if target.kind == "redis" else "postgresql"
            attrs["db.operation"] = call.op.split()[0]
            if target.kind == "postgres":
                attrs["db.name"] = target.name.removesuffix("-db")
                attrs["db.statement"] = SQL[call.op]
        if down[step] or (refused[step] and rng.random() < refused[step]):
            duration = int(rng.uniform(0.8, 3.0) * 1000)
            error = (
                f"dial tcp {cluster_ip(target.name)}:{port(target.name)}: connect: "
                "connection refused"
            )
            attrs["error.message"] = error
            self._emit(
                trace,
                span,
                parent,
                caller.name,
                _client_name(call),
                "client",
                start_us,
                duration,
                True,
                attrs,
            )
            return _Result(duration, 503, error)
        if target.is_datastore:
            op = target.operation(call.op)
            ms = op.self_ms * curves.self_factor[step] * rng.lognormvariate(0.0, op.sigma)
            if curves.extra_ms[step] > 0:
                ms += rng.expovariate(1.0 / curves.extra_ms[step])
            ms += 2 * NET_HALF_MS
            duration = int(ms * 1000)
            self._emit(
                trace,
                span,
                parent,
                caller.name,
                _client_name(call),
                "client",
                start_us,
                duration,
                False,
                attrs,
            )
            return _Result(duration, 200)
        loss = curves.loss[step]
        if loss and rng.random() < loss:  # the request or its answer never arrived
            return self._lost(caller, target, call, start_us, trace, span, parent, attrs)
        delay = net_delay[step] * rng.uniform(0.67, 1.33) if net_delay[step] else 0.0
        if loss and rng.random() < loss:  # a packet resent after the retransmission timeout
            delay += rng.uniform(*RETRANSMIT_MS)
        out_us = int((NET_HALF_MS * rng.lognormvariate(0.0, 0.4) + delay / 2) * 1000)
        back_us = int((NET_HALF_MS * rng.lognormvariate(0.0, 0.4) + delay / 2) * 1000)
        result = self._server(
            target, target.operation(call.op), start_us + out_us, trace, span, ctx
        )
        duration = out_us + result.duration_us + back_us
        attrs["http.method"] = target.operation(call.op).route.split()[0]
        attrs["http.status_code"] = result.status
        failure: str | None = None
        if result.error is not None:
            failure = f"{target.name} returned HTTP {result.status}: {result.error}"
            attrs["error.message"] = failure
        self._emit(
            trace,
            span,
            parent,
            caller.name,
            _client_name(call),
            "client",
            start_us,
            duration,
            failure is not None,
            attrs,
        )
        return _Result(duration, result.status, failure)

    def _lost(
        self,
        caller: Service,
        target: Service,
        call: Call,
        start_us: int,
        trace: str,
        span: str,
        parent: str,
        attrs: dict[str, Any],
    ) -> _Result:
        """A call whose packets were lost: the caller waits out its read timeout, the callee
        never saw the request. The error reads as the caller's HTTP client words it."""
        duration = int(CLIENT_TIMEOUT_MS * (1.0 + 0.002 * self.rng.random()) * 1000)
        method, _, route = target.operation(call.op).route.partition(" ")
        url = f"http://{target.name}:{port(target.name)}{route}"
        error = (
            f'I/O error on {method} request for "{url}": Read timed out; nested exception is '
            "java.net.SocketTimeoutException: Read timed out"
            if caller.runtime == "jvm"
            else f'{method} "{url}": context deadline exceeded (Client.Timeout exceeded while '
            "awaiting headers)"
        )
        attrs["error.message"] = error
        self._emit(
            trace, span, parent, caller.name, _client_name(call), "client", start_us, duration,
            True, attrs,
        )  # fmt: skip
        return _Result(duration, 504, error)


def _client_name(call: Call) -> str:
    if service(call.target).is_datastore:
        return call.op if " " in call.op else f"redis {call.op}"
    return f"{call.target}.{call.op}"


def simulate(scenario: Scenario) -> TraceSet:
    """Sampled traces (about one request every two seconds) and the requests they contain."""
    return _Simulator(scenario).run()
