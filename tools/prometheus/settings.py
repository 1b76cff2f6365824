"""Settings of the Prometheus metrics backend (``metrics:`` in rcabot.yaml)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from tools.prometheus.service_graphs import ISTIO_SERVICE_GRAPH_PROMQL, SERVICE_GRAPH_PROMQL
from tools.settings import MAX_TIMEOUT_S, Section, http_url


def _containers(metric: str, *matchers: str) -> str:
    """``metric`` of each container of the services, not of a pod's cgroup as a whole (cAdvisor's
    ``container=""``, which holds its containers again); a format-style template (``{{``: a
    brace)."""
    selected = ", ".join((*matchers, 'service=~"{services}"', 'container!=""'))
    return f"{metric}{{{{{selected}}}}}"


def _share_of_limit(resource: str, use: str) -> str:
    """Per service, the ``use`` of the containers that have a ``resource`` limit over those
    limits (kube-state-metrics): a sidecar without a limit is no share of the app's, and its
    use counted against the app's limit overstates the share, a saturation that is not there."""
    limits = _containers("kube_pod_container_resource_limits", f'resource="{resource}"')
    limited = f"{use} and on (namespace, pod, container) {limits}"
    return f"sum by (service) ({limited}) / sum by (service) ({limits})"


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
    "cpu_usage_ratio": _share_of_limit(
        "cpu", f"rate({_containers('container_cpu_usage_seconds_total')}[{{rate}}])"
    ),
    "memory_usage_bytes": (
        f"sum by (service) ({_containers('container_memory_working_set_bytes')})"
    ),
    "memory_usage_ratio": _share_of_limit(
        "memory", _containers("container_memory_working_set_bytes")
    ),
    # packets each pod's interface dropped (cAdvisor reports the pod's network, not its
    # containers': no container matcher); a lossy link or an overrun interface shows here
    "network_receive_packets_dropped_per_second": (
        "sum by (service) (rate(container_network_receive_packets_dropped_total"
        '{{service=~"{services}"}}[{rate}]))'
    ),
}


DEFAULT_PROMQL |= SERVICE_GRAPH_PROMQL
SERVICE_GRAPHS = {"servicegraph": SERVICE_GRAPH_PROMQL, "istio": ISTIO_SERVICE_GRAPH_PROMQL}


class MetricsSettings(Section):
    kind: Literal["prometheus"] = "prometheus"
    url: str | None = Field(default=None, description="Prometheus URL")
    service_graph: Literal["servicegraph", "istio"] = Field(
        default="servicegraph",
        description=(
            "where the calls between services are read: the OpenTelemetry Collector's "
            "servicegraph connector or Tempo's metrics-generator (traces_service_graph_request_*)"
            ", or Istio's standard metrics (istio_requests_total, "
            "istio_request_duration_milliseconds; tools/prometheus/service_graphs.py); a call_* "
            "query set in queries wins"
        ),
    )
    queries: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PROMQL),
        description="PromQL template per golden signal; {services} and {rate} are filled in",
    )
    step_s: int = Field(default=15, gt=0, le=3600)
    timeout_s: float = Field(default=10.0, gt=0, le=MAX_TIMEOUT_S)

    _check_url = field_validator("url")(http_url)

    @model_validator(mode="after")
    def _service_graph_queries(self) -> Self:
        """The chosen service graph's queries, where ``queries`` holds the default ones."""
        chosen = SERVICE_GRAPHS[self.service_graph]
        for signal, default in SERVICE_GRAPH_PROMQL.items():
            if self.queries.get(signal) == default:
                self.queries[signal] = chosen[signal]
        return self
