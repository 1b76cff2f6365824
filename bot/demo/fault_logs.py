"""Log lines a fault produces outside of requests: a rollout and its leak warnings, a
crash-looping redis and its refusing clients, GC distress and an OOM kill, SLO burn warnings,
a bulk import's checkpoints, threads that can no longer start, a log rotation that stopped."""

from __future__ import annotations

from bot.demo import ids
from bot.demo.clock import WINDOW_S
from bot.demo.metrics import MetricTable
from bot.demo.scenario import Scenario, cluster_ip
from bot.demo.sink import LogLine, LogSink

ENTRYPOINT = "PaymentsApplication"


class _FaultLogs(LogSink):
    def run(self) -> list[LogLine]:
        self.fault_lines()
        return self.lines

    def fault_lines(self) -> None:
        fault, inject = self.scenario.fault, float(self.scenario.inject_s)
        if fault == "bad-deploy":
            self.rollout(inject)
        elif fault == "dependency-outage":
            self.redis_crashloop(inject)
            address = f"{cluster_ip('redis')}:6379"
            for t in self.every(5.0, 0.3, start=inject + 1):
                self.add(
                    t,
                    "cart",
                    "error",
                    "redis: connection pool: failed to dial after 5 "
                    f"attempts: dial tcp {address}: connect: connection refused",
                )
        elif fault == "memory-leak" and self.scenario.oom_s is not None:
            oom, pod = float(self.scenario.oom_s), self.scenario.root_instance
            self.add(
                oom - 2.5,
                "shipping",
                "error",
                "java.lang.OutOfMemoryError: Java heap space",
                pod,
                {"error.type": "OutOfMemoryError"},
            )
            self.add(
                oom,
                "shipping",
                "error",
                "container shipping was OOMKilled (exit code 137,"
                " memory limit 2Gi); restarting (restartCount=1)",
                pod,
            )
            self.add(
                oom + 40,
                "shipping",
                "info",
                "Starting ShippingApplication v1.18.3 using Java 21.0.2 with PID 1",
                pod,
            )
            self.add(
                oom + 47.3,
                "shipping",
                "info",
                "Started ShippingApplication in 6.9 seconds (process running for 7.6)",
                pod,
            )
        elif fault == "disk-saturation":
            self.feed_import(inject)
        elif fault == "thread-leak":
            self.threads_exhausted(inject)
        elif fault == "disk-full":
            self.rotation_skipped(inject)
        elif fault == "cpu-contention":
            for pod in self.scenario.pods["cart"]:
                for t in self.every(60.0, 0.1, start=inject + self.rng.uniform(60, 120)):
                    p99 = self.value("cart", "latency_p99_seconds", t) * 1000
                    self.add(
                        t,
                        "cart",
                        "warn",
                        f"latency SLO burn: p99={p99:.0f}ms over the last 60s (objective 50ms)",
                        pod,
                    )

    def rollout(self, at: float) -> None:
        scenario, rng = self.scenario, self.rng
        app = ENTRYPOINT
        for old, new in zip(scenario.pods["payments"], scenario.new_pods["payments"], strict=True):
            start = at - 20 + rng.uniform(0, 8)
            self.add(
                start,
                "payments",
                "info",
                f"Starting {app} {scenario.new_version} using Java 21.0.2 with PID 1",
                new,
            )
            self.add(start + 3.1, "payments", "info", "HikariPool-1 - Starting...", new)
            self.add(start + 3.4, "payments", "info", "HikariPool-1 - Start completed.", new)
            self.add(
                start + 7.4,
                "payments",
                "info",
                f"Started {app} in 7.4 seconds (process running for 8.1)",
                new,
            )
            self.add(
                at + rng.uniform(0, 5),
                "payments",
                "info",
                "Commencing graceful shutdown. Waiting for active requests to complete",
                old,
            )
            self.add(at + 6, "payments", "info", "HikariPool-1 - Shutdown completed.", old)
        for t in self.every(9.0, 0.6, start=at + 20):
            if t > at + 420:
                break
            self.add(
                t,
                "payments",
                "warn",
                "Connection leak detection triggered for org."
                f"postgresql.jdbc.PgConnection@{ids.hex_id(rng, 32)[:8]} on thread http-nio-"
                f"8080-exec-{rng.randint(1, 64)}, stack trace follows",
                attrs={
                    "error.stack_trace": "java.lang.Exception: Apparent connection leak "
                    "detected\n\tat com.shop.payments.charges.DeclineHandler.record("
                    "DeclineHandler.java:43)"
                },
            )
        for index in range(50):
            self.add(
                at + 20 + index * rng.uniform(3, 6),
                "payments-db",
                "info",
                f"connection authorized: user=payments database=payments "
                f"application_name=PostgreSQL JDBC Driver (pid {rng.randint(2000, 40000)})",
            )

    def feed_import(self, at: float) -> None:
        """catalog-db's side of a bulk re-import: the job connects, and the WAL it writes
        forces a checkpoint every few seconds (Postgres logs this at its LOG severity)."""
        rng = self.rng
        self.add(
            at - 4 + rng.uniform(0, 2),
            "catalog-db",
            "info",
            "connection authorized: user=catalog_import database=catalog "
            f"application_name=feed-import (pid {rng.randint(2000, 40000)})",
        )
        for t in self.every(30.0, 0.3, start=at + 20):
            self.add(
                t,
                "catalog-db",
                "info",
                f"checkpoints are occurring too frequently ({rng.randint(6, 14)} seconds apart)",
                attrs={"hint": 'Consider increasing the configuration parameter "max_wal_size".'},
            )

    def threads_exhausted(self, at: float) -> None:
        """checkout's leaked executors: once its live threads reach the pids limit, the mailer
        (outside any request) cannot start the thread of the next order either."""
        rng = self.rng
        for t in self.every(12.0, 0.4, start=at + 790):
            self.add(
                t,
                "checkout",
                "error",
                f'Exception in thread "order-confirmation-{rng.randint(1000, 9999)}" '
                "java.lang.OutOfMemoryError: unable to create native thread: possibly out of "
                "memory or process/resource limits reached",
                attrs={"error.type": "OutOfMemoryError"},
            )

    def rotation_skipped(self, at: float) -> None:
        """auth's logrotate sidecar, run every ten minutes, skipping the audit log since its
        directory became group-writable (logrotate's own message): nothing says the volume is
        filling until writes to it fail."""
        for t in self.every(600.0, 0.5, start=at):
            self.add(
                t,
                "auth",
                "warn",
                'logrotate: error: skipping "/var/log/auth/audit.log" because parent directory '
                "has insecure permissions (It's world writable or writable by group which is "
                'not "root") Set "su" directive in config file to tell logrotate which '
                "user/group should be used for rotation.",
            )

    def redis_crashloop(self, start: float) -> None:
        for offset, level, text in (
            (0.0, "warn", "Received SIGTERM scheduling shutdown..."),
            (0.1, "info", "User requested shutdown..."),
            (0.2, "info", "Saving the final RDB snapshot before exiting."),
            (0.3, "warn", "Writing AOF to disk failed: No space left on device"),
            (0.4, "info", "Redis is now ready to exit, bye bye..."),
        ):
            self.add(start + offset, "redis", level, text)
        t, backoff, restarts = start + 9.0, 10.0, 0
        while t < WINDOW_S:
            restarts += 1
            self.add(t, "redis", "info", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
            self.add(
                t + 0.01,
                "redis",
                "info",
                "Redis version=7.2.4, bits=64, commit=00000000, modified=0, pid=1, just started",
            )
            self.add(
                t + 0.2,
                "redis",
                "error",
                f"Bad file format reading the append only file "
                f"appendonly.aof.{restarts + 41}.incr.aof: make a backup of your AOF file, "
                "then use ./redis-check-aof --fix <filename.manifest>",
            )
            self.add(
                t + 0.21, "redis", "fatal", "Fatal error loading the DB: truncated AOF. Exiting."
            )
            t += backoff + self.rng.uniform(0, 2)
            backoff = min(backoff * 2, 300.0)


def fault_logs(scenario: Scenario, table: MetricTable) -> list[LogLine]:
    return _FaultLogs(scenario, table, "fault-logs").run()
