"""The service graph's PromQL (``metrics.service_graph``): each call edge as the client's
series, labelled with the ``server`` it calls (``tools/analysis/call_edges.py``).

``servicegraph`` (the default): the OpenTelemetry Collector's servicegraph connector and
Tempo's metrics-generator export one series per client → server edge
(``traces_service_graph_request_*{client, server}``).

``istio``: a mesh measures every call at both ends: each Envoy proxy exports
``istio_requests_total`` and ``istio_request_duration_milliseconds`` labelled with the calling
and the called workload (``source_workload``, ``destination_workload``) and with who reported
it, the client's proxy (``reporter="source"``) or the server's (``reporter="destination"``).
These are the same four figures per edge as the connector's, named by workload:

- ``call_requests_per_second``: the client's count of its calls;
- ``call_failed_ratio``: of those, the ones answered 5xx, or (gRPC) answered otherwise with a
  status other than OK (``grpc_response_status`` not 0);
- ``call_client_latency_p50_seconds``: their median duration at the client's proxy
  (milliseconds ÷ 1000);
- ``call_server_latency_p50_seconds``: the median duration of the same edge's calls at the
  server's proxy.

The time at the client less the time at the server is the time on the way between the two
proxies: a delay on a pod's network shows there and in none of its own series (docs/ranking.md,
section 4). ``{services}`` selects the client workloads, as it selects the client of the
connector's edges; rcabot's service names are the workloads' names here.
"""

from __future__ import annotations


def _per_edge(expression: str) -> str:
    """``expression`` (by client and server) as the client's series: ``service`` = client."""
    return f'label_replace({expression}, "service", "$1", "client", "(.+)")'


def _edge_rate(metric: str) -> str:
    return f'sum by (client, server) (rate({metric}{{{{client=~"{{services}}"}}}}[{{rate}}]))'


def _edge_median(histogram: str) -> str:
    selector = f'{histogram}{{{{client=~"{{services}}"}}}}'
    return f"histogram_quantile(0.5, sum by (client, server, le) (rate({selector}[{{rate}}])))"


_GRAPH = "traces_service_graph_request"
# The service graph of the OpenTelemetry Collector's servicegraph connector and of Tempo's
# metrics-generator: one series per client → server edge (tools/analysis/call_edges.py). An edge
# that never failed has no failed counter yet: its failed share is 0, not missing.
SERVICE_GRAPH_PROMQL: dict[str, str] = {
    "call_requests_per_second": _per_edge(_edge_rate(f"{_GRAPH}_total")),
    "call_failed_ratio": _per_edge(
        f"({_edge_rate(f'{_GRAPH}_failed_total')} or {_edge_rate(f'{_GRAPH}_total')} * 0)"
        f" / {_edge_rate(f'{_GRAPH}_total')}"
    ),
    "call_client_latency_p50_seconds": _per_edge(_edge_median(f"{_GRAPH}_client_seconds_bucket")),
    "call_server_latency_p50_seconds": _per_edge(_edge_median(f"{_GRAPH}_server_seconds_bucket")),
}

_REQUESTS = "istio_requests_total"
_DURATION = "istio_request_duration_milliseconds_bucket"


def _selector(metric: str, reporter: str, *matchers: str) -> str:
    """``metric`` reported by one side for the client workloads asked about (a format-style
    template: ``{{`` is a brace)."""
    selected = ", ".join((f'reporter="{reporter}"', 'source_workload=~"{services}"', *matchers))
    return f"{metric}{{{{{selected}}}}}"


def _by_edge(expression: str, *extra: str) -> str:
    """``expression`` of the workloads summed per client → server edge (and ``extra``
    labels), named ``client`` and ``server`` as the connector's series are."""
    named = (
        f'label_replace(label_replace({expression}, "client", "$1", "source_workload", "(.+)"),'
        f' "server", "$1", "destination_workload", "(.+)")'
    )
    by = ", ".join(("client", "server", *extra))
    return f"sum by ({by}) ({named})"


def _rate(selector: str) -> str:
    return f"rate({selector}[{{rate}}])"


_CALLS = _by_edge(_rate(_selector(_REQUESTS, "source")))
_HTTP_FAILED = _by_edge(_rate(_selector(_REQUESTS, "source", 'response_code=~"5.."')))
_GRPC_FAILED = _by_edge(
    _rate(
        _selector(
            _REQUESTS, "source", 'response_code!~"5.."', 'grpc_response_status=~"[1-9][0-9]*"'
        )
    )
)


def _median_seconds(reporter: str) -> str:
    buckets = _by_edge(_rate(_selector(_DURATION, reporter)), "le")
    return f"histogram_quantile(0.5, {buckets}) / 1000"


ISTIO_SERVICE_GRAPH_PROMQL: dict[str, str] = {
    "call_requests_per_second": _per_edge(_CALLS),
    # an edge that never failed has no failed series: its share is 0, not missing
    "call_failed_ratio": _per_edge(
        f"(({_HTTP_FAILED} or {_CALLS} * 0) + ({_GRPC_FAILED} or {_CALLS} * 0)) / {_CALLS}"
    ),
    "call_client_latency_p50_seconds": _per_edge(_median_seconds("source")),
    "call_server_latency_p50_seconds": _per_edge(_median_seconds("destination")),
}
