"""Each fault is visible in its root service's signals, and symptoms reach the alerting service."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from bot.demo import FAULTS
from bot.demo.faults import SPECS, spec
from tests.bot.demo.conftest import Loaded, to_us

SETTLE_S = 600  # compare the baseline with the incident once the fault has developed

# fault → (root service, metric, minimum after/before ratio of the means)
ROOT_SIGNAL: dict[str, tuple[str, str, float]] = {
    "bad-deploy": ("payments", "db_pool_usage_ratio", 4.0),
    "error-return": ("inventory", "error_ratio", 50.0),
    "cpu-contention": ("cart", "cpu_usage_ratio", 3.0),
    "memory-leak": ("shipping", "memory_usage_bytes", 1.4),
    "network-delay": ("checkout", "latency_p50_seconds", 2.5),
    "dependency-outage": ("cart", "error_ratio", 100.0),
    "network-loss": ("checkout", "error_ratio", 20.0),
    "disk-saturation": ("catalog-db", "disk_io_utilisation_ratio", 5.0),
    "thread-leak": ("checkout", "jvm_threads_live_threads", 10.0),
    "disk-full": ("auth", "volume_usage_ratio", 2.0),
}


def test_every_fault_has_a_signal_check() -> None:
    assert set(ROOT_SIGNAL) == set(FAULTS) == set(SPECS)


def test_spec_rejects_unknown_faults() -> None:
    with pytest.raises(ValueError, match="valid faults: bad-deploy, error-return"):
        spec("typo")


@pytest.mark.parametrize("fault", FAULTS)
def test_root_signal_rises_after_injection(cases: dict[str, Loaded], fault: str) -> None:
    loaded = cases[fault]
    service, metric, ratio = ROOT_SIGNAL[fault]
    before = loaded.mean(service, metric, after=False)
    after = loaded.mean(service, metric, after=True, skip_s=SETTLE_S)
    assert after > ratio * max(before, 1e-4), (before, after)


def test_bad_deploy_saturates_the_pool_and_follows_a_deploy(cases: dict[str, Loaded]) -> None:
    loaded = cases["bad-deploy"]
    assert loaded.mean("payments", "db_pool_usage_ratio", after=False) < 0.4
    assert loaded.mean("payments", "db_pool_usage_ratio", after=True, skip_s=SETTLE_S) > 0.95
    deploys = [c for c in loaded.changes if c["kind"] == "deploy"]
    assert [c["service"] for c in deploys] == ["payments"]
    assert 0 <= loaded.inject_us - to_us(deploys[0]["ts"]) <= 300 * 10**6


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "bad-deploy"])
def test_other_faults_have_only_unrelated_changes(cases: dict[str, Loaded], fault: str) -> None:
    changes = cases[fault].changes
    assert len(changes) >= 2
    assert all(c["kind"] != "deploy" for c in changes)
    assert all(c["service"] != cases[fault].case.root_cause_service for c in changes)
    assert all(to_us(c["ts"]) < cases[fault].inject_us - 20 * 60 * 10**6 for c in changes)


def test_network_delay_leaves_the_callee_metrics_alone(cases: dict[str, Loaded]) -> None:
    loaded = cases["network-delay"]
    for metric in ("latency_p50_seconds", "error_ratio", "cpu_usage_ratio"):
        before = loaded.mean("inventory", metric, after=False)
        after = loaded.mean("inventory", metric, after=True, skip_s=SETTLE_S)
        assert after < 1.5 * before + 0.002, metric


def test_dependency_outage_collapses_the_dependency(cases: dict[str, Loaded]) -> None:
    loaded = cases["dependency-outage"]
    assert loaded.mean("redis", "requests_per_second", after=False) > 10
    assert loaded.mean("redis", "requests_per_second", after=True, skip_s=60) == 0
    latency = loaded.series("redis", "latency_p99_seconds")
    assert max(t for t, _ in latency) < loaded.inject_us + 15 * 10**6  # no samples while down


def test_network_loss_leaves_the_callee_answering_less_but_as_fast(
    cases: dict[str, Loaded],
) -> None:
    loaded = cases["network-loss"]
    for metric in ("latency_p99_seconds", "error_ratio", "cpu_usage_ratio"):
        before = loaded.mean("shipping", metric, after=False)
        after = loaded.mean("shipping", metric, after=True, skip_s=SETTLE_S)
        assert after < 1.5 * before + 0.002, metric
    before = loaded.mean("shipping", "requests_per_second", after=False)
    after = loaded.mean("shipping", "requests_per_second", after=True, skip_s=SETTLE_S)
    assert after < 0.95 * before  # lost requests never arrive
    # its interface counts the packets it dropped; no other pod's drops any, before or after
    dropped = "network_receive_packets_dropped_per_second"
    assert loaded.mean("shipping", dropped, after=False) == 0
    assert loaded.mean("shipping", dropped, after=True, skip_s=SETTLE_S) > 1
    others = {s for s, m in loaded.metrics if m == dropped} - {"shipping"}
    assert len(others) >= 8
    assert all(v == 0 for s in others for _, v in loaded.series(s, dropped))


def test_disk_saturation_slows_the_database_not_its_cpu(cases: dict[str, Loaded]) -> None:
    """The volume at its I/O limit: catalog-db's own latency and catalog's grow many-fold,
    its CPU barely moves (waiting on I/O uses none), nothing fails; only datastores have
    volumes, and no other one gets busier."""
    loaded = cases["disk-saturation"]
    disk = "disk_io_utilisation_ratio"
    assert loaded.mean("catalog-db", disk, after=True, skip_s=SETTLE_S) > 0.9
    for service in ("catalog-db", "catalog"):
        before = loaded.mean(service, "latency_p99_seconds", after=False)
        assert loaded.mean(service, "latency_p99_seconds", after=True, skip_s=SETTLE_S) > 4 * before
    cpu = [
        loaded.mean("catalog-db", "cpu_usage_ratio", after=a, skip_s=SETTLE_S)
        for a in (False, True)
    ]
    assert cpu[1] < 1.3 * cpu[0]
    assert loaded.mean("catalog", "error_ratio", after=True, skip_s=SETTLE_S) < 0.01
    assert {s for s, m in loaded.metrics if m == disk} == {
        "redis",
        "payments-db",
        "inventory-db",
        "catalog-db",
    }
    for other in ("payments-db", "inventory-db", "redis"):
        before = loaded.mean(other, disk, after=False)
        assert loaded.mean(other, disk, after=True, skip_s=SETTLE_S) < 1.5 * before
    checkpoints = [
        r for r in loaded.logs if "checkpoints are occurring too frequently" in r["message"]
    ]
    assert checkpoints and all(r["service"] == "catalog-db" for r in checkpoints)
    assert min(to_us(r["ts"]) for r in checkpoints) > loaded.inject_us


def test_disk_full_fails_requests_only_once_the_volume_is_full(cases: dict[str, Loaded]) -> None:
    """auth's audit log is no longer rotated: its volume fills from the injection on, with
    nothing failing, and its requests fail (no space left on device) only once it is full;
    logrotate says why from the start. No other service has a volume of its own."""
    loaded = cases["disk-full"]
    volume = loaded.series("auth", "volume_usage_ratio")
    before = [v for t, v in volume if t < loaded.inject_us]
    assert min(before) > 0.35 and max(before) < 0.5
    full_us = min(t for t, v in volume if v >= 0.99)
    assert loaded.inject_us + 10 * 60 * 10**6 < full_us < loaded.inject_us + 16 * 60 * 10**6
    failed = [
        to_us(r["ts"]) for r in loaded.logs
        if r["service"] == "auth" and "no space left on device" in r["message"]
    ]  # fmt: skip
    assert len(failed) > 50 and min(failed) >= full_us - 60 * 10**6
    errors = loaded.series("auth", "error_ratio")
    assert max(v for t, v in errors if t < full_us - 60 * 10**6) < 0.05
    assert loaded.mean("auth", "error_ratio", after=True, skip_s=20 * 60) > 0.3
    skipped = [r for r in loaded.logs if "because parent directory has insecure" in r["message"]]
    assert skipped and all(r["service"] == "auth" and r["level"] == "warn" for r in skipped)
    assert min(to_us(r["ts"]) for r in skipped) >= loaded.inject_us
    assert {s for s, m in loaded.metrics if m == "volume_usage_ratio"} == {"auth"}


@pytest.mark.parametrize(("fault", "service", "phrase"), [
    ("bad-deploy", "payments", "Timeout acquiring connection from pool after 5000ms"),
    ("error-return", "inventory", "stock lookup returned error code=INV-5003"),
    ("memory-leak", "shipping", "OOMKilled"),
    ("dependency-outage", "redis", "Bad file format reading the append only file"),
    ("dependency-outage", "cart", "connect: connection refused"),
    ("disk-full", "auth", "no space left on device"),
])  # fmt: skip
def test_new_error_logs_appear_only_after_injection(
    cases: dict[str, Loaded], fault: str, service: str, phrase: str
) -> None:
    loaded = cases[fault]
    hits = [
        r for r in loaded.logs
        if r["service"] == service and phrase in r["message"] and r["level"] in ("error", "fatal")
    ]  # fmt: skip
    assert hits
    assert all(to_us(r["ts"]) >= loaded.inject_us for r in hits)


@pytest.mark.parametrize("fault", FAULTS)
def test_background_noise_before_and_after(cases: dict[str, Loaded], fault: str) -> None:
    loaded = cases[fault]
    root = loaded.case.root_cause_service
    noisy = [r for r in loaded.logs if r["level"] in ("warn", "error") and r["service"] != root]
    assert any(to_us(r["ts"]) < loaded.inject_us for r in noisy)
    assert any(to_us(r["ts"]) > loaded.inject_us for r in noisy)
    unrelated_errors = {r["service"] for r in noisy if r["level"] == "error"}
    assert {"catalog", "auth", "recommendations"} - {root} <= unrelated_errors
    assert any(r.get("trace_id") for r in loaded.logs)


@pytest.mark.parametrize("fault", FAULTS)
def test_alert_names_a_symptom_shortly_after_injection(
    cases: dict[str, Loaded], fault: str
) -> None:
    loaded = cases[fault]
    payload = loaded.alerts
    assert payload["version"] == "4" and payload["status"] == "firing"
    (alert,) = payload["alerts"]
    service = alert["labels"]["service"]
    assert service == SPECS[fault].alert.service != loaded.case.root_cause_service
    assert alert["generatorURL"].startswith("http://") and "g0.expr=" in alert["generatorURL"]
    delay_s = (to_us(alert["startsAt"]) - loaded.inject_us) / 10**6
    assert 60 <= delay_s <= 20 * 60
    datetime.fromisoformat(alert["startsAt"])
    metric = "error_ratio" if "ErrorRate" in alert["labels"]["alertname"] else "latency_p99_seconds"
    before = loaded.mean(service, metric, after=False)
    assert loaded.mean(service, metric, after=True, skip_s=SETTLE_S) > 2 * before


@pytest.mark.parametrize("fault", FAULTS)
def test_injection_is_about_80_minutes_in(cases: dict[str, Loaded], fault: str) -> None:
    minutes = cases[fault].inject_us / 60e6
    assert 77 <= minutes <= 83


def test_metrics_every_15_seconds_for_every_service(cases: dict[str, Loaded]) -> None:
    loaded = cases["bad-deploy"]
    services = set(loaded.manifest["services"])
    assert len(services) >= 8
    for service in services:
        stamps = [t for t, _ in loaded.series(service, "cpu_usage_ratio")]
        assert len(stamps) == 480
        assert {b - a for a, b in itertools.pairwise(stamps)} == {15 * 10**6}
    owners = {s for s, m in loaded.metrics if m == "db_pool_usage_ratio"}
    assert owners == {"payments", "inventory", "catalog"}


def test_the_service_graph_has_the_call_edges_of_the_traces(cases: dict[str, Loaded]) -> None:
    loaded = cases["bad-deploy"]
    traced = {
        (span["service"], span["attrs"]["peer.service"])
        for span in loaded.spans
        if span["kind"] == "client" and "peer.service" in span["attrs"]
    }
    graph = {(client, server) for client, server, _ in loaded.edges}
    assert graph == traced
    metrics = {metric for _, _, metric in loaded.edges}
    assert metrics == {
        "call_requests_per_second",
        "call_failed_ratio",
        "call_client_latency_p50_seconds",
        "call_server_latency_p50_seconds",
    }


def _callers(loaded: Loaded, server: str) -> list[str]:
    return sorted({c for c, s, _ in loaded.edges if s == server})


def test_network_delay_is_time_on_the_calls_outside_the_callee(cases: dict[str, Loaded]) -> None:
    loaded = cases["network-delay"]
    root = loaded.case.root_cause_service
    for client in _callers(loaded, root):

        def grew(metric: str, c: str = client) -> float:
            before = loaded.edge_mean(c, root, metric, after=False)
            return loaded.edge_mean(c, root, metric, after=True, skip_s=SETTLE_S) - before

        assert grew("call_client_latency_p50_seconds") > 0.02  # tens of ms more per call
        assert abs(grew("call_server_latency_p50_seconds")) < 0.002  # none of it in the callee


def test_lost_calls_fail_at_the_caller_and_never_reach_the_callee(
    cases: dict[str, Loaded],
) -> None:
    loaded = cases["network-loss"]
    root = loaded.case.root_cause_service
    for client in _callers(loaded, root):
        before = loaded.edge_mean(client, root, "call_failed_ratio", after=False)
        after = loaded.edge_mean(client, root, "call_failed_ratio", after=True, skip_s=SETTLE_S)
        assert after > before + 0.03
    assert loaded.mean(root, "error_ratio", after=True, skip_s=SETTLE_S) < 0.01  # it saw none


def test_calls_to_a_dead_datastore_fail_and_it_measures_none(cases: dict[str, Loaded]) -> None:
    loaded = cases["dependency-outage"]
    for client in _callers(loaded, "redis"):
        failed = loaded.edge_mean(client, "redis", "call_failed_ratio", after=True, skip_s=60)
        assert failed > 0.95
        served = loaded.edges[(client, "redis", "call_server_latency_p50_seconds")]
        assert max(t for t, _ in served) < loaded.inject_us + 15 * 10**6
