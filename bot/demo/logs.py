"""Request-scoped log lines: what each service logs about a request it handled.

Every line carries the ``trace_id`` / ``span_id`` of the server span it describes, so logs join
to traces. Messages follow each service's own style (access logs at the edge, JVM-style lines in
checkout / payments / shipping / inventory, Python-style in catalog) with variable parts (ids,
amounts, durations, addresses) for template mining to fold.
"""

from __future__ import annotations

import random

from bot.demo.scenario import Scenario
from bot.demo.sink import LogLine
from bot.demo.texts import DECLINE_REASONS, LEDGER_STACK, POOL_STACK, TEMPLATES, USER_AGENTS
from bot.demo.traces import Visit


def _path(visit: Visit) -> str:
    route = visit.op.route.split(" ", 1)[1]
    return (
        route.replace("{id}", visit.ctx["sku"])
        .replace("{sku}", visit.ctx["sku"])
        .replace("{user}", visit.ctx["user"])
    )


class _Formatter:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rng = random.Random(f"rcabot-demo/{scenario.seed}/{scenario.fault}/request-logs")
        self.lines: list[LogLine] = []
        self.visit: Visit | None = None

    def emit(
        self,
        level: str,
        message: str,
        offset_us: int | None = None,
        attrs: dict[str, str] | None = None,
    ) -> None:
        visit = self.visit
        assert visit is not None
        end = visit.start_us + visit.duration_us
        at = end if offset_us is None else min(visit.start_us + offset_us, end)
        self.lines.append(
            LogLine(
                at,
                visit.service,
                visit.instance,
                level,
                message,
                visit.trace_id,
                visit.span_id,
                attrs,
            )
        )

    def format(self, visit: Visit) -> None:
        self.visit = visit
        handler = getattr(self, "_" + visit.service.replace("-", "_"))
        handler(visit, visit.ctx, visit.duration_us / 1000)
        if visit.error and not visit.root_fault and visit.service not in ("frontend", "checkout"):
            self.emit("error", f"{visit.op.route} failed with {visit.status}: {visit.error}")
        for target, error in visit.degraded:
            self.emit("warn", f"{target} call failed, continuing without it: {error}")

    def _frontend(self, v: Visit, c: dict[str, str], ms: float) -> None:
        method = v.op.route.split(" ", 1)[0]
        size = 0 if v.status >= 500 else self.rng.randint(900, 48000)
        ua = self.rng.choice(USER_AGENTS)
        self.emit(
            "info",
            f'{c["ip"]} - "{method} {_path(v)} HTTP/1.1" {v.status} {size} {ms:.1f}ms "{ua}"',
        )
        template = TEMPLATES.get(v.op.name)
        if template and v.status == 200:
            self.emit(
                "debug",
                f"rendered {template} in {ms * self.rng.uniform(0.05, 0.2):.1f}ms "
                f"(components={self.rng.randint(8, 40)})",
                offset_us=int(v.duration_us * 0.9),
            )
        if v.status == 404:
            self.emit("warn", f"product {c['sku']} not found, rendering 404 page")
        if v.error:
            self.emit(
                "error",
                f"upstream error on {v.op.route}: status={v.status} "
                f"upstream={v.failed_call} err={v.error}",
            )
        elif ms > 1500:
            self.emit("warn", f"slow request {v.op.route} took {ms:.0f}ms (budget 1500ms)")

    def _auth(self, v: Visit, c: dict[str, str], ms: float) -> None:
        if v.root_fault:
            self.emit("error", f"{v.op.route} user={c['user']} status={v.status}: {v.error}")
        elif v.op.name == "Login":
            if v.status == 401:
                self.emit(
                    "warn",
                    f"login failed user={c['user']} ip={c['ip']}: invalid "
                    f"password (attempt {self.rng.randint(1, 4)}/5)",
                )
            else:
                mfa = self.rng.choice(("totp", "none", "webauthn"))
                self.emit("info", f"login succeeded user={c['user']} ip={c['ip']} mfa={mfa}")
        elif v.status == 401:
            self.emit(
                "info",
                f"session rejected user={c['user']}: token expired "
                f"{self.rng.randint(3, 5000)}s ago",
            )
        else:
            self.emit("debug", f"session validated user={c['user']} method=jwt in {ms:.2f}ms")

    def _catalog(self, v: Visit, c: dict[str, str], ms: float) -> None:
        if v.op.name == "ListProducts":
            cache = "miss" if ms > 12 else "hit"
            self.emit(
                "info",
                f"listed products category={c['category']} page={c['page']} "
                f"count=24 cache={cache} took={ms:.1f}ms",
            )
        elif v.op.name == "GetProduct":
            if v.status == 404:
                self.emit("info", f"product lookup sku={c['sku']}: no such product")
            else:
                self.emit("debug", f"product sku={c['sku']} served in {ms:.1f}ms")
        else:
            hits = self.rng.randint(0, 120)
            self.emit("info", f'search q="{c["query"]}" results={hits} took={ms:.1f}ms')
            if ms > 120:
                self.emit("warn", f'slow search q="{c["query"]}" took {ms:.0f}ms (>120ms)')

    def _recommendations(self, v: Visit, c: dict[str, str], ms: float) -> None:
        if not v.error:
            self.emit(
                "info",
                f"served {self.rng.randint(4, 12)} recommendations user={c['user']}"
                f" model=als-v3 candidates={self.rng.randint(200, 900)} "
                f"in {ms:.1f}ms",
            )

    def _cart(self, v: Visit, c: dict[str, str], ms: float) -> None:
        if v.failed_call:
            command = v.failed_call.split(".", 1)[1]
            self.emit("error", f"redis {command} cart:{c['user']} failed: {v.error}")
            return
        if v.op.name == "GetCart":
            self.emit("info", f"cart loaded user={c['user']} items={c['items']} in {ms:.2f}ms")
        elif v.op.name == "AddItem":
            self.emit(
                "info",
                f"added sku={c['sku']} qty={c['qty']} to cart user={c['user']} items={c['items']}",
            )
        else:
            self.emit("info", f"cart cleared user={c['user']} order={c['order']}")
        if ms > 200:
            self.emit("warn", f"slow request {v.op.route} took {ms:.0f}ms (threshold 200ms)")

    def _checkout(self, v: Visit, c: dict[str, str], ms: float) -> None:
        self.emit(
            "info",
            f"placing order {c['order']} user={c['user']} items={c['items']}",
            offset_us=self.rng.randint(200, 900),
        )
        if v.retried:
            self.emit(
                "warn",
                f"retrying {v.retried} attempt=2/3 after 50ms: upstream connect "
                "error or disconnect/reset before headers",
                offset_us=v.duration_us // 3,
            )
        if v.error:
            self.emit(
                "error",
                f"order {c['order']} failed at {v.failed_call or 'checkout'} "
                f"after {ms:.0f}ms: {v.error}",
            )
        elif v.status == 402:
            self.emit("warn", f"order {c['order']} rejected: payment declined")
        else:
            self.emit(
                "info",
                f"order {c['order']} placed user={c['user']} total={c['amount']} "
                f"EUR carrier={c['carrier']} in {ms:.0f}ms",
            )
            if ms > 800:
                self.emit("warn", f"order {c['order']} exceeded latency SLO: {ms:.0f}ms > 800ms")

    def _inventory(self, v: Visit, c: dict[str, str], ms: float) -> None:
        if v.root_fault:
            self.emit(
                "error",
                f"stock lookup returned error code=INV-5003 sku={c['sku']} "
                f"warehouse={c['warehouse']}; responding 500 "
                '{"code":"INV-5003","message":"reservation ledger mismatch"}',
                attrs={"error.type": "LedgerMismatchException", "error.stack_trace": LEDGER_STACK},
            )
        elif v.op.name == "GetStock":
            on_hand = self.rng.randint(0, 400)
            self.emit(
                "debug",
                f"stock sku={c['sku']} warehouse={c['warehouse']} "
                f"on_hand={on_hand} reserved={self.rng.randint(0, on_hand // 4 + 1)}",
            )
        elif not v.error:
            self.emit(
                "info",
                f"reserved sku={c['sku']} qty={c['qty']} warehouse="
                f"{c['warehouse']} order={c['order']} in {ms:.1f}ms",
            )

    def _payments(self, v: Visit, c: dict[str, str], ms: float) -> None:
        if v.root_fault:
            waiting = self.rng.randint(12, 48)
            self.emit(
                "error",
                "Timeout acquiring connection from pool after 5000ms "
                f"(active=50 idle=0 waiting={waiting})",
            )
            self.emit(
                "error",
                f"charge failed order={c['order']} amount={c['amount']} EUR: "
                "org.springframework.jdbc.CannotGetJdbcConnectionException: "
                "Failed to obtain JDBC Connection",
                attrs={
                    "error.type": "CannotGetJdbcConnectionException",
                    "error.stack_trace": POOL_STACK,
                },
            )
        elif v.status == 402:
            self.emit(
                "warn",
                f"charge {c['payment']} declined order={c['order']} "
                f"reason={self.rng.choice(DECLINE_REASONS)} card={c['card']}",
            )
        elif not v.error:
            psp = ms * self.rng.uniform(0.6, 0.8)
            self.emit(
                "info",
                f"charge {c['payment']} authorized order={c['order']} "
                f"amount={c['amount']} EUR card={c['card']} psp_latency={psp:.0f}ms",
            )

    def _shipping(self, v: Visit, c: dict[str, str], ms: float) -> None:
        if v.op.name == "GetQuote":
            cost = self.rng.uniform(3.5, 24.0)
            self.emit(
                "info",
                f"quote carrier={c['carrier']} city={c['city']} "
                f"weight={self.rng.uniform(0.2, 14):.1f}kg cost={cost:.2f} EUR",
            )
        elif not v.error:
            shipment = f"SHP-{self.rng.randint(1_000_000, 9_999_999)}"
            self.emit(
                "info",
                f"shipment {shipment} created carrier={c['carrier']} order={c['order']} label=pdf",
            )
        if ms > 300:
            self.emit("warn", f"slow request {v.op.route} took {ms:.0f}ms")


def request_logs(scenario: Scenario, visits: list[Visit]) -> list[LogLine]:
    formatter = _Formatter(scenario)
    for visit in visits:
        formatter.format(visit)
    return formatter.lines
