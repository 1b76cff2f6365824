"""The incident's paperwork: change log, the alert that fired, ground-truth label, manifest."""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any
from urllib.parse import quote

import numpy as np

from bot.demo.clock import N_STEPS, STEP_S, WINDOW_S, iso_s
from bot.demo.faults import FloatArray
from bot.demo.metrics import MetricTable
from bot.demo.scenario import Scenario
from bot.demo.topology import FRONTEND_RPS, names
from bot.demo.traces import MEAN_GAP_S
from tools.bundle.manifest import new_manifest

ALERT_FOR_S = 120
GIT = "https://git.shop.internal"
PROMETHEUS = "http://prometheus.monitoring:9090"


def changes(scenario: Scenario) -> list[dict[str, Any]]:
    """Deploys and config changes in the window, oldest first (two are unrelated)."""
    rng = random.Random(f"rcabot-demo/{scenario.seed}/changes")
    out: list[dict[str, Any]] = [
        {
            "ts": iso_s(rng.randint(18, 26) * 60 + rng.randint(0, 59)),
            "service": "catalog",
            "kind": "config",
            "author": "mira.k",
            "description": "search: raise default page size from 24 to 36 and enable typo "
            "tolerance for queries of 5+ characters",
            "link": f"{GIT}/platform/config/-/merge_requests/{rng.randint(3000, 3999)}",
        },
        {
            "ts": iso_s(rng.randint(38, 52) * 60 + rng.randint(0, 59)),
            "service": "frontend",
            "kind": "flag",
            "author": "jonas.w",
            "description": "feature flag new-header-banner rolled out to 25% of sessions",
            "link": "https://flags.shop.internal/flags/new-header-banner",
        },
    ]
    if scenario.fault == "bad-deploy":
        out.append(
            {
                "ts": iso_s(scenario.inject_s - 30),
                "service": "payments",
                "kind": "deploy",
                "version": scenario.new_version,
                "author": "deploy-bot",
                "description": f"payments {scenario.old_version} -> {scenario.new_version}: "
                "record declined charges in the ledger; bump HikariCP to 5.1.0",
                "link": f"https://ci.shop.internal/payments/pipelines/{rng.randint(40000, 49999)}",
            }
        )
    out.sort(key=lambda change: str(change["ts"]))
    return out


def _rolling(values: FloatArray, width: int) -> FloatArray:
    clean = np.nan_to_num(values, nan=0.0)
    kernel = np.ones(width) / width
    return np.asarray(np.convolve(clean, kernel, mode="full")[: len(values)], dtype=np.float64)


def _threshold(scenario: Scenario, table: MetricTable) -> tuple[str, float]:
    rule = scenario.spec.alert
    if rule.signal == "errors":
        return "error_ratio", 0.05
    before = table.series(rule.service, "latency_p99_seconds")[: scenario.inject_s // STEP_S]
    worst = float(np.nanmax(_rolling(before, 4)[4:]))
    return "latency_p99_seconds", math.ceil(worst * 1.25 * 10) / 10


def alert_time(scenario: Scenario, table: MetricTable) -> int:
    """When the alert started firing: its condition held for two minutes after the injection."""
    metric, threshold = _threshold(scenario, table)
    smooth = _rolling(table.series(scenario.spec.alert.service, metric), 4)
    need = ALERT_FOR_S // STEP_S
    run = 0
    for step in range(scenario.inject_s // STEP_S, N_STEPS):
        run = run + 1 if smooth[step] > threshold else 0
        if run >= need:
            return min(step * STEP_S + STEP_S, WINDOW_S - STEP_S)
    return min(scenario.inject_s + 360, WINDOW_S - STEP_S)


def alert_payload(scenario: Scenario, table: MetricTable) -> dict[str, Any]:
    rule = scenario.spec.alert
    metric, threshold = _threshold(scenario, table)
    svc = rule.service
    if metric == "error_ratio":
        expr = (
            f'sum(rate(http_server_requests_total{{service="{svc}",code=~"5.."}}[1m])) / '
            f'sum(rate(http_server_requests_total{{service="{svc}"}}[1m])) > {threshold}'
        )
        summary = f"{svc} 5xx ratio above {threshold:.0%}"
        detail = (
            f"More than {threshold:.0%} of requests to {svc} failed with a 5xx status "
            f"for {ALERT_FOR_S // 60} minutes."
        )
    else:
        expr = (
            f"histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_"
            f'seconds_bucket{{service="{svc}"}}[1m]))) > {threshold}'
        )
        summary = f"{svc} p99 latency above {threshold:.1f}s"
        detail = (
            f"The 99th percentile of {svc} request latency has been above "
            f"{threshold:.1f}s for {ALERT_FOR_S // 60} minutes."
        )
    labels = {
        "alertname": rule.name,
        "service": svc,
        "severity": rule.severity,
        "namespace": "shop",
        "team": "storefront" if svc == "frontend" else "commerce",
    }
    annotations = {
        "summary": summary,
        "description": detail,
        "runbook_url": f"https://runbooks.shop.internal/alerts/{rule.name}",
    }
    fingerprint = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
    url = f"{PROMETHEUS}/graph?g0.expr={quote(expr, safe='')}&g0.tab=1"
    return {
        "version": "4",
        "status": "firing",
        "receiver": "rcabot",
        "groupLabels": {"alertname": rule.name},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.monitoring:9093",
        "groupKey": f'{{}}:{{alertname="{rule.name}"}}',
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": iso_s(alert_time(scenario, table)),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": url,
                "fingerprint": fingerprint,
            }
        ],
    }


def label(scenario: Scenario) -> dict[str, Any]:
    description = scenario.spec.description.format(version=scenario.new_version)
    return {
        "service": scenario.root,
        "fault_type": scenario.fault,
        "inject_time": iso_s(scenario.inject_s),
        "instance": scenario.root_instance,
        "source": scenario.source,
        "description": description,
    }


def manifest(scenario: Scenario) -> dict[str, Any]:
    sample_one_in = round(FRONTEND_RPS * MEAN_GAP_S)
    return new_manifest(
        name=f"demo {scenario.fault} seed {scenario.seed}",
        source=scenario.source,
        window=(iso_s(0), iso_s(WINDOW_S)),
        services=list(names()),
        description=f"Simulated online shop ({len(names())} services) over two hours. Traces "
        f"are sampled (about one request in {sample_one_in}).",
    )
