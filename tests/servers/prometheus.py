"""A real Prometheus for the tests, started from the installed binary (Debian package
``prometheus``, which ``make test`` installs; it brings ``promtool`` too).

The server listens on a free 127.0.0.1 port (never 9090), with its own config (no scrape jobs)
and data directory, and a retention of 3650 days so that the 2026-03-02 test data is never
deleted. Metrics are backfilled with ``promtool`` *before* the server starts, so they are
queryable at once (a running server would pick new blocks up only at its next reload, up to a
minute later).

If ``prometheus`` or ``promtool`` is missing the tests that need them **fail** (not skip),
saying how to install them: CI installs them, and a silently skipped backend is untested.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.loader.prometheus import backfill
from tests.bundles import T0, small_incident
from tests.servers import free_port, stop_process
from tools.bundle.reader import load_bundle
from tools.records import MetricSeries

INSTALL_HINT = (
    "`make test` installs the Debian package `prometheus` (it provides prometheus and "
    "promtool); or run: sudo apt-get install prometheus"
)
READY_TIMEOUT_S = 30.0
CONFIG = """\
# Written by tests/servers/prometheus.py: no scrape jobs, only backfilled data.
global:
  scrape_interval: 1m
  evaluation_interval: 1m
scrape_configs: []
"""
ODD_PATH = '/a"b\\c'  # a label value that needs escaping in OpenMetrics and in PromQL


def binary(name: str) -> str:
    """Path of ``name``, or fail the test saying how to install it."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {INSTALL_HINT}", pytrace=False)
    return found


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError as exc:
        return f"(cannot read {path}: {exc})"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1.0) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError as exc:  # 503 while starting
        exc.close()
        return False
    except OSError:  # connection refused: not listening yet
        return False


@contextmanager
def running_prometheus(data_dir: Path, *, timeout_s: float = READY_TIMEOUT_S) -> Iterator[str]:
    """Run a Prometheus on ``data_dir``; yield its base URL once ``/-/ready``; stop it after."""
    executable = binary("prometheus")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="rcabot-prometheus-") as tmp:
        config, log = Path(tmp) / "prometheus.yml", Path(tmp) / "prometheus.log"
        config.write_text(CONFIG, encoding="utf-8")
        command = [
            executable,
            f"--config.file={config}",
            f"--storage.tsdb.path={data_dir}",
            "--storage.tsdb.retention.time=3650d",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with log.open("wb") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while not _ready(url):
                if process.poll() is not None:
                    pytest.fail(
                        f"prometheus exited with {process.returncode} before it was ready "
                        f"({' '.join(command)}):\n{_tail(log)}",
                        pytrace=False,
                    )
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"prometheus not ready at {url}/-/ready within {timeout_s:g}s:\n"
                        f"{_tail(log)}",
                        pytrace=False,
                    )
                time.sleep(0.1)
            yield url
        finally:
            stop_process(process)


def extra_series() -> list[MetricSeries]:
    """Series beside the bundle's: non-finite values, escaped labels, a counter, ms stamps."""
    start = T0.timestamp()
    minutes = [start + 60 * k for k in range(60)]
    return [
        MetricSeries(
            metric="odd_values",
            service="web",
            timestamps=tuple(minutes[:6]),
            values=(1.5, float("nan"), float("inf"), float("-inf"), 2.0, 3.0),
            labels=MappingProxyType({"path": ODD_PATH}),
        ),
        MetricSeries(
            metric="requests_total",
            service="api",
            timestamps=tuple(minutes),
            values=tuple(60.0 * k for k in range(60)),
        ),
        MetricSeries(
            metric="precise_seconds",
            service="db",
            timestamps=(start + 0.123, start + 1.007, start + 2.5),
            values=(0.1, 0.2, 0.3),
        ),
        *container_series(minutes),
    ]


# cAdvisor and kube-state-metrics as Kubernetes exports them, for the default CPU and memory
# queries: pod ``api-0`` of service ``pay`` runs the app (limits 0.5 cores and 512 MiB: it uses
# 0.25 cores and 256 MiB), a mesh sidecar with no limit (0.4 cores, 192 MiB), and the pause
# container; cAdvisor also reports the pod's cgroup as a whole (``container=""``).
POD_USE = {"pay": (0.25, 256 * 2**20), "istio-proxy": (0.4, 192 * 2**20), "POD": (0.0, 2**20)}
POD_LIMITS = {"cpu": 0.5, "memory": 512 * 2**20}
DROPPED_PER_S = 2.0  # packets the pod's interface drops (cAdvisor: no container label)


def container_series(minutes: list[float]) -> list[MetricSeries]:
    """The ``pay`` pod's containers: CPU seconds (counters), working set, and its limits; the
    pod's dropped packets."""
    use = {**POD_USE, "": tuple(sum(v) for v in zip(*POD_USE.values(), strict=True))}

    def pod(metric: str, values: tuple[float, ...], **labels: str) -> MetricSeries:
        labels = {"namespace": "shop", "pod": "api-0", **labels}
        return MetricSeries(
            metric=metric,
            service="pay",
            timestamps=tuple(minutes),
            values=values,
            labels=MappingProxyType(labels),
        )

    found = []
    for container, (cores, memory) in use.items():
        cpu = tuple(cores * 60 * k for k in range(len(minutes)))
        found.append(pod("container_cpu_usage_seconds_total", cpu, container=container))
        steady = (memory,) * len(minutes)
        found.append(pod("container_memory_working_set_bytes", steady, container=container))
    dropped = tuple(DROPPED_PER_S * 60 * k for k in range(len(minutes)))  # a counter
    found.append(pod("container_network_receive_packets_dropped_total", dropped, interface="eth0"))
    for resource, limit in POD_LIMITS.items():
        limits = (limit,) * len(minutes)
        found.append(
            pod("kube_pod_container_resource_limits", limits, container="pay", resource=resource)
        )
    return found


@pytest.fixture(scope="session")
def prometheus_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``small_incident`` bundle whose metrics the ``prometheus_url`` server holds."""
    return small_incident(tmp_path_factory.mktemp("prometheus-bundle") / "bundle")


@pytest.fixture(scope="session")
def prometheus_url(
    tmp_path_factory: pytest.TempPathFactory, prometheus_bundle: Path
) -> Iterator[str]:
    """A real Prometheus holding the bundle's metrics and :func:`extra_series`; its URL."""
    promtool = binary("promtool")
    binary("prometheus")
    data_dir = tmp_path_factory.mktemp("prometheus-data")
    series = (load_bundle(prometheus_bundle).metrics or []) + extra_series()
    asyncio.run(backfill(series, data_dir, promtool=promtool))
    with running_prometheus(data_dir) as url:
        _expect_data(url, len(series))
        yield url


def _expect_data(url: str, count: int) -> None:
    """Fail at once, and say why, if the server does not serve what was backfilled."""
    query = urllib.parse.urlencode(
        {"query": 'count({__name__=~".+"})', "time": (T0 + timedelta(minutes=5)).timestamp()}
    )
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as response:
        result = json.load(response)["data"]["result"]
    served = int(result[0]["value"][1]) if result else 0
    if served != count:
        pytest.fail(
            f"Prometheus at {url} serves {served} of the {count} backfilled series at "
            f"{T0 + timedelta(minutes=5)}: blocks dropped (retention?) or not loaded",
            pytrace=False,
        )
