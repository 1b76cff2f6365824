"""Background log lines not tied to a request: probes, GC, pools, datastores, periodic jobs.

Includes some WARN / ERROR noise that has nothing to do with any fault and appears before and
after the injection (a flaky exchange-rate feed, a JWKS refresh timeout, webhook signature
rejections, recommendation fallbacks). GC lines follow the heap, so a leak shows in them; the
other lines a fault produces are in :mod:`bot.demo.fault_logs`.
"""

from __future__ import annotations

from bot.demo import ids
from bot.demo.clock import STEP_S, WINDOW_S, iso_s
from bot.demo.metrics import MetricTable
from bot.demo.scenario import Scenario
from bot.demo.sink import LogLine, LogSink
from bot.demo.topology import MB, SERVICES, service

JVM = ("checkout", "inventory", "payments", "shipping")


class _Noise(LogSink):
    def run(self) -> list[LogLine]:
        self.probes()
        self.gc()
        self.pools()
        self.redis()
        self.postgres()
        self.periodic()
        return self.lines

    def probes(self) -> None:
        for svc in SERVICES:
            if svc.is_datastore:
                continue
            for index in range(svc.replicas):
                for t in self.every(30.0, 0.02, start=self.rng.uniform(0, 30)):
                    pod = self.scenario.pods_at(svc.name, t)[index]
                    if self.down(svc.name, t) or self.restarting(pod, t):
                        continue
                    ms = self.rng.uniform(0.1, 1.2)
                    self.add(
                        t, svc.name, "debug", f"GET /healthz 200 {ms:.2f}ms kube-probe/1.29", pod
                    )

    def leak(self, at_s: float) -> float:
        """How full the shipping heap is because of the leak (0..1)."""
        svc = service("shipping")
        add = float(self.scenario.effects["shipping"].memory_add[min(int(at_s // STEP_S), 479)])
        return max(0.0, add / (0.975 * svc.memory_limit - svc.memory_base))

    def gc(self) -> None:
        for name in JVM:
            capacity = int(service(name).memory_limit / MB)
            for index in range(service(name).replicas):
                t, count = self.rng.uniform(0, 40), self.rng.randint(300, 900)
                while t < WINDOW_S:
                    leak = self.leak(t) if name == "shipping" else 0.0
                    pod = self.scenario.pods_at(name, t)[index]
                    used = int(self.value(name, "memory_usage_bytes", t) / MB)
                    count += 1
                    if leak > 0.55 and self.rng.random() < leak:
                        pause = self.rng.uniform(300, 1800) * leak
                        after = int(used * self.rng.uniform(0.96, 0.995))
                        self.add(
                            t,
                            name,
                            "warn",
                            f"[gc] GC({count}) Pause Full (G1 Compaction "
                            f"Pause) {used}M->{after}M({capacity}M) {pause:.3f}ms",
                            pod,
                        )
                        if self.rng.random() < 0.5:
                            share = 20 + 70 * leak * self.rng.uniform(0.8, 1.0)
                            self.add(
                                t + 0.4,
                                name,
                                "warn",
                                f"GC overhead {share:.0f}% of CPU "
                                "time over the last 60s; heap after GC "
                                f"{after * 100 // capacity}% of max",
                                pod,
                            )
                    else:
                        after = int(used * self.rng.uniform(0.45, 0.7) + leak * used * 0.4)
                        pause = self.rng.uniform(2.0, 14.0) * (1 + 6 * leak)
                        self.add(
                            t,
                            name,
                            "info",
                            f"[gc] GC({count}) Pause Young (Normal) (G1 "
                            f"Evacuation Pause) {used}M->{after}M({capacity}M) "
                            f"{pause:.3f}ms",
                            pod,
                        )
                    t += self.rng.uniform(30, 60) * (1 - 0.8 * leak)

    def pools(self) -> None:
        for name in ("payments", "inventory", "catalog"):
            size = service(name).pool_size
            for t in self.every(30.0, 0.05):
                if self.down(name, t):
                    continue
                active = round(self.value(name, "db_pool_usage_ratio", t) * size)
                waiting = 0 if active < size else self.rng.randint(8, 45)
                if name == "catalog":
                    self.add(
                        t,
                        name,
                        "debug",
                        f"QueuePool status: size={size} checked_out="
                        f"{active} in_pool={size - active} overflow=0",
                    )
                else:
                    self.add(
                        t,
                        name,
                        "debug",
                        f"HikariPool-1 - Pool stats (total={size}, "
                        f"active={active}, idle={size - active}, waiting={waiting})",
                    )

    def redis(self) -> None:
        outage = self.scenario.fault == "dependency-outage"
        stop = self.scenario.inject_s if outage else WINDOW_S
        for t in self.every(300.0, 0.05):
            if t >= stop:
                break
            changes = self.rng.randint(100, 4000)
            pid = self.rng.randint(1000, 60000)
            self.add(t, "redis", "info", f"{changes} changes in 300 seconds. Saving...")
            self.add(t + 0.001, "redis", "info", f"Background saving started by pid {pid}")
            self.add(t + 0.4, "redis", "info", "DB saved on disk")
            cow = self.rng.randint(1, 6)
            self.add(
                t + 0.41,
                "redis",
                "info",
                f"Fork CoW for RDB: current {cow} MB, peak "
                f"{cow + 1} MB, average {max(cow - 1, 1)} MB",
            )
            self.add(t + 0.5, "redis", "info", "Background saving terminated with success")

    def postgres(self) -> None:
        tables = {
            "payments-db": ("charges", "payment_methods", "refunds"),
            "inventory-db": ("stock", "reservations"),
            "catalog-db": ("products", "product_images", "prices"),
        }
        for name, names in tables.items():
            for t in self.every(300.0, 0.02):
                buffers = self.rng.randint(200, 4000)
                self.add(t, name, "info", "checkpoint starting: time")
                write = self.rng.uniform(20, 120)
                self.add(
                    t + write,
                    name,
                    "info",
                    f"checkpoint complete: wrote {buffers} buffers "
                    f"({buffers / 163.84:.1f}%); 0 WAL file(s) added, 0 removed, "
                    f"{self.rng.randint(0, 3)} recycled; write={write:.3f} s, sync="
                    f"{self.rng.uniform(0.002, 0.09):.3f} s, total={write + 0.1:.3f} s",
                )
            for t in self.every(700.0, 0.5):
                table = self.rng.choice(names)
                self.add(
                    t,
                    name,
                    "info",
                    f'automatic vacuum of table "{name[:-3]}.public.'
                    f'{table}": index scans: 1, pages: 0 removed, '
                    f"{self.rng.randint(800, 90000)} remain, tuples: "
                    f"{self.rng.randint(10, 9000)} removed, elapsed: "
                    f"{self.rng.uniform(0.1, 9):.2f} s",
                )
        for t in self.every(600.0, 0.6):
            self.add(
                t,
                "catalog-db",
                "info",
                f"duration: {self.rng.uniform(520, 2400):.3f} ms  "
                "statement: SELECT id, sku, title FROM products WHERE search_vector @@ "
                "plainto_tsquery($1) LIMIT 48",
            )

    def periodic(self) -> None:
        rng = self.rng
        for t in self.every(900.0, 0.4):
            minutes = int(t // 60) - 15
            self.add(
                t,
                "catalog",
                "error",
                "currency rate refresh failed: GET https://rates."
                "example.net/v1/latest?base=EUR returned 503; keeping rates from "
                f"{iso_s(max(minutes, 0) * 60)}",
            )
        for t in self.every(1300.0, 0.4):
            self.add(
                t,
                "auth",
                "error",
                "JWKS refresh from https://id.shop.internal/.well-known"
                "/jwks.json failed: context deadline exceeded (Client.Timeout exceeded while"
                " awaiting headers); serving 2 cached keys",
            )
        for t in self.every(1100.0, 0.5):
            self.add(
                t,
                "payments",
                "error",
                f"webhook signature verification failed for event "
                f"evt_{ids.hex_id(rng, 64)[:14]}: timestamp outside tolerance "
                f"(delta={rng.randint(301, 900)}s)",
            )
        for t in self.every(100.0, 0.7):
            self.add(
                t,
                "recommendations",
                "warn",
                "model inference exceeded 250ms budget "
                f"(took {rng.uniform(251, 700):.0f}ms), serving popular-items fallback",
            )
        for t in self.every(140.0, 0.7):
            self.add(
                t,
                "frontend",
                "warn",
                f"client closed connection before response was "
                f"written path=/product/{ids.sku(rng)} after {rng.uniform(80, 3000):.0f}ms",
            )
        for t in self.every(30.0, 0.2):
            self.add(
                t,
                "checkout",
                "info",
                f"outbox relay published {rng.randint(0, 40)} events "
                f"to topic orders.v1 (lag {rng.uniform(2, 90):.0f}ms)",
            )
        for t in self.every(300.0, 0.1):
            self.add(
                t,
                "inventory",
                "info",
                f"warehouse sync completed warehouse="
                f"{rng.choice(('fra-1', 'fra-2', 'ams-1'))} skus={rng.randint(900, 1000)} "
                f"changed={rng.randint(0, 60)} in {rng.uniform(200, 2500):.0f}ms",
            )
        for t in self.every(600.0, 0.1):
            self.add(
                t,
                "shipping",
                "info",
                f"rate cards refreshed for 4 carriers ({rng.randint(1200, 1500)} zones)",
            )
        for t in self.every(60.0, 0.1):
            if self.scenario.fault == "dependency-outage" and t >= self.scenario.inject_s:
                continue
            hits = rng.randint(500, 1600)
            self.add(
                t,
                "cart",
                "info",
                f"redis pool stats: hits={hits} misses="
                f"{rng.randint(5, 90)} timeouts=0 total_conns={rng.randint(8, 20)} "
                f"idle_conns={rng.randint(2, 8)}",
            )
        for t in self.every(420.0, 0.6):
            self.add(
                t,
                "frontend",
                "warn",
                f"rate limited ip={ids.client_ip(rng)} path=/search "
                f"({rng.randint(41, 90)} req/10s)",
            )


def background_logs(scenario: Scenario, table: MetricTable) -> list[LogLine]:
    return _Noise(scenario, table, "noise").run()
