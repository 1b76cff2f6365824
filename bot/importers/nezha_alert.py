"""The alert that would have fired for a Nezha case, derived from user-facing symptoms only.

The fault label is never consulted except for its time, which splits the data into a baseline
(before) and the part where a symptom is looked for (after). Two symptoms are checked and the
earliest to cross its threshold becomes the alert:

- ``FrontendLatencyHigh`` on the front service (``front_service.csv``): a sample after the
  injection whose P90 exceeds max(2 × baseline median, baseline 95th percentile), or whose P99
  exceeds max(2 × baseline median, baseline maximum); the baseline is every sample of the
  ``metrics_before`` window. ``startsAt`` is that sample's time.
- ``FrontendErrorRateHigh`` on the entry service (the service of the trace roots): the share of
  requests (root spans) per clock minute whose trace holds an ERROR log line rises at least 10
  points and 1.5× above the minutes before the injection (≥ 10 requests on both sides).
  ``startsAt`` is the end of that minute. (The dataset's success-rate columns are 0 throughout,
  so errors can only be seen through logs and traces.)

When neither crosses, the alert is ``FrontendLatencyHigh`` at injection time + 1 min, marked
``synthetic`` in its annotations, so an investigation still has a start time.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.importers.nezha_time import iso_utc_seconds

MIN_BASELINE_SAMPLES = 5
MIN_REQUESTS = 10
ERROR_RISE = 0.10
ERROR_FACTOR = 1.5
FALLBACK_DELAY_S = 60.0
PROMETHEUS = "http://prometheus:9090/graph?g0.expr="


@dataclass(frozen=True)
class Symptom:
    alertname: str
    service: str
    starts_at: float
    summary: str
    description: str
    expr: str | None = None
    synthetic: bool = False


def latency_symptom(
    latency: dict[str, list[tuple[float, float]]],
    service: str,
    inject: float,
    before: float,
    after: float,
) -> Symptom | None:
    """The first front-end latency sample after ``inject`` that crosses its threshold."""
    found: list[Symptom] = []
    for quantile, use_max in (("p90", False), ("p99", True)):
        points = latency.get(quantile, [])
        base = sorted(v for ts, v in points if inject - before <= ts < inject)
        if len(base) < MIN_BASELINE_SAMPLES:
            continue
        median = statistics.median(base)
        high = base[-1] if use_max else base[min(len(base) - 1, int(0.95 * len(base)))]
        threshold = max(2 * median, high)
        for ts, value in sorted(points):
            if inject < ts <= inject + after and value > threshold:
                metric = f"latency_{quantile}_seconds"
                found.append(
                    Symptom(
                        alertname="FrontendLatencyHigh",
                        service=service,
                        starts_at=ts,
                        summary=f"{service} {quantile} latency {value:.2f}s above {threshold:.2f}s",
                        description=(
                            f"{service} {quantile} latency reached {value:.2f}s; over the previous "
                            f"{before / 60:.0f} min its median was {median:.2f}s and its "
                            f"{'maximum' if use_max else '95th percentile'} {high:.2f}s."
                        ),
                        expr=f'{metric}{{service="{service}"}} > {threshold:.3f}',
                    )
                )
                break
    return min(found, key=lambda s: s.starts_at, default=None)


def error_symptom(
    roots: list[tuple[float, str]],
    error_traces: set[str],
    service: str,
    inject: float,
) -> Symptom | None:
    """The first clock minute after ``inject`` whose share of failing requests jumps."""
    bins: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for start, trace_id in roots:
        counts = bins[int(start // 60) * 60]
        counts[0] += 1
        counts[1] += trace_id in error_traces
    base = [c for minute, c in bins.items() if minute + 60 <= inject]
    total, failed = sum(c[0] for c in base), sum(c[1] for c in base)
    if total < MIN_REQUESTS:
        return None
    baseline = failed / total
    first_after = int(inject // 60) * 60
    for minute in sorted(m for m in bins if m >= first_after):
        n, bad = bins[minute]
        share = bad / n
        if (
            n >= MIN_REQUESTS
            and share >= baseline + ERROR_RISE
            and share >= ERROR_FACTOR * baseline
        ):
            return Symptom(
                alertname="FrontendErrorRateHigh",
                service=service,
                starts_at=minute + 60.0,
                summary=f"{share:.0%} of requests to {service} fail (baseline {baseline:.0%})",
                description=(
                    f"{bad} of {n} requests entering at {service} in the minute from "
                    f"{iso_utc_seconds(datetime.fromtimestamp(minute, UTC))} logged an ERROR "
                    f"somewhere in their trace; before: {failed} of {total}."
                ),
            )
    return None


def fallback_symptom(service: str, inject: float) -> Symptom:
    return Symptom(
        alertname="FrontendLatencyHigh",
        service=service,
        starts_at=inject + FALLBACK_DELAY_S,
        summary=f"{service} user-facing latency/errors under investigation",
        description=(
            "No front-end symptom crossed its threshold in this window (front latency P90/P99 "
            "vs its baseline; share of requests with ERROR logs vs the minutes before)."
        ),
        synthetic=True,
    )


def choose(*symptoms: Symptom | None) -> Symptom | None:
    """The earliest symptom; on a tie, the one listed first."""
    real = [s for s in symptoms if s is not None]
    return min(real, key=lambda s: s.starts_at) if real else None


def alertmanager_payload(symptom: Symptom) -> dict[str, Any]:
    """An Alertmanager (version 4) webhook body with this one firing alert."""
    labels = {"alertname": symptom.alertname, "service": symptom.service, "severity": "page"}
    annotations = {"summary": symptom.summary, "description": symptom.description}
    if symptom.synthetic:
        annotations["synthetic"] = (
            "true: no symptom crossed a threshold; startsAt is the fault injection time + 1 min"
        )
    fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "version": "4",
        "status": "firing",
        "receiver": "rcabot",
        "groupLabels": {"alertname": symptom.alertname},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager:9093",
        "groupKey": f'{{}}:{{alertname="{symptom.alertname}"}}',
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": iso_utc_seconds(datetime.fromtimestamp(symptom.starts_at, UTC)),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": PROMETHEUS + quote(symptom.expr) if symptom.expr else "",
                "fingerprint": fingerprint,
            }
        ],
    }
