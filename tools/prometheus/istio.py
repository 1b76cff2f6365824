"""The service graph from Istio's standard metrics (``metrics.service_graph: istio``).

A mesh measures every call at both ends: each Envoy proxy exports ``istio_requests_total`` and
``istio_request_duration_milliseconds`` labelled with the calling and the called workload
(``source_workload``, ``destination_workload``) and with who reported it, the client's proxy
(``reporter="source"``) or the server's (``reporter="destination"``). These are the same four
figures per edge as the OpenTelemetry Collector's servicegraph connector exports
(``tools/analysis/call_edges.py``), named by workload:

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

_REQUESTS = "istio_requests_total"
_DURATION = "istio_request_duration_milliseconds_bucket"


def _selector(metric: str, reporter: str, *matchers: str) -> str:
    """``metric`` reported by one side for the client workloads asked about (a format-style
    template: ``{{`` is a brace)."""
    selected = ", ".join((f'reporter="{reporter}"', 'source_workload=~"{services}"', *matchers))
    return f"{metric}{{{{{selected}}}}}"


def _by_edge(expression: str, *extra: str) -> str:
    """``expression`` summed per client → server edge (and ``extra`` labels), with the client
    as ``service``, as the connector's series are."""
    named = (
        f'label_replace(label_replace({expression}, "client", "$1", "source_workload", "(.+)"),'
        f' "server", "$1", "destination_workload", "(.+)")'
    )
    by = ", ".join(("client", "server", *extra))
    return f"sum by ({by}) ({named})"


def _as_client(expression: str) -> str:
    return f'label_replace({expression}, "service", "$1", "client", "(.+)")'


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
    "call_requests_per_second": _as_client(_CALLS),
    # an edge that never failed has no failed series: its share is 0, not missing
    "call_failed_ratio": _as_client(
        f"(({_HTTP_FAILED} or {_CALLS} * 0) + ({_GRPC_FAILED} or {_CALLS} * 0)) / {_CALLS}"
    ),
    "call_client_latency_p50_seconds": _as_client(_median_seconds("source")),
    "call_server_latency_p50_seconds": _as_client(_median_seconds("destination")),
}
