"""Settings of the Prometheus metrics backend (``metrics:`` in rcabot.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tools.settings import MAX_TIMEOUT_S, Section, http_url

DEFAULT_PROMQL: dict[str, str] = {
    "latency_p99_seconds": (
        "histogram_quantile(0.99, sum by (service, le) "
        '(rate(http_server_request_duration_seconds_bucket{{service=~"{services}"}}[{rate}])))'
    ),
    "latency_p50_seconds": (
        "histogram_quantile(0.5, sum by (service, le) "
        '(rate(http_server_request_duration_seconds_bucket{{service=~"{services}"}}[{rate}])))'
    ),
    "requests_per_second": (
        "sum by (service) (rate(http_server_request_duration_seconds_count"
        '{{service=~"{services}"}}[{rate}]))'
    ),
    "error_ratio": (
        "sum by (service) (rate(http_server_request_duration_seconds_count"
        '{{service=~"{services}", http_response_status_code=~"5.."}}[{rate}])) / '
        "sum by (service) (rate(http_server_request_duration_seconds_count"
        '{{service=~"{services}"}}[{rate}]))'
    ),
    "cpu_usage_ratio": (
        "sum by (service) (rate(container_cpu_usage_seconds_total"
        '{{service=~"{services}"}}[{rate}]))'
        ' / sum by (service) (kube_pod_container_resource_limits{{resource="cpu", '
        'service=~"{services}"}})'
    ),
    "memory_usage_bytes": (
        'sum by (service) (container_memory_working_set_bytes{{service=~"{services}"}})'
    ),
}


class MetricsSettings(Section):
    kind: Literal["prometheus"] = "prometheus"
    url: str | None = Field(default=None, description="Prometheus URL")
    queries: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROMQL),
        description="PromQL template per golden signal; {services} and {rate} are filled in",
    )
    step_s: int = Field(default=15, gt=0, le=3600)
    timeout_s: float = Field(default=10.0, gt=0, le=MAX_TIMEOUT_S)

    _check_url = field_validator("url")(http_url)
