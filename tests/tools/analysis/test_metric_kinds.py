from tools.analysis.metric_kinds import Direction, SignalGroup, classify, share_of_limit


def test_classify_metric_names() -> None:
    assert classify("db_pool_usage_ratio")[0] is SignalGroup.POOL
    assert classify("cpu_usage_ratio")[0] is SignalGroup.CPU
    assert classify("requests_per_second")[0] is SignalGroup.TRAFFIC


def test_host_and_downstream_metrics_have_their_own_groups() -> None:
    assert classify("node_cpu_seconds_total") == (SignalGroup.NODE, Direction.UP)
    assert classify("node_memory_used_ratio")[0] is SignalGroup.NODE
    assert classify("client_latency_p99_seconds") == (SignalGroup.DOWNSTREAM, Direction.UP)
    assert classify("http_client_errors_total")[0] is SignalGroup.DOWNSTREAM
    assert classify("grpc_client_request_duration_seconds")[0] is SignalGroup.DOWNSTREAM
    # the service's own figures keep theirs
    assert classify("http_server_errors_total")[0] is SignalGroup.ERRORS
    assert classify("container_cpu_usage_cores")[0] is SignalGroup.CPU


def test_only_a_service_s_own_cpu_or_memory_ratio_is_a_share_of_its_limit() -> None:
    assert share_of_limit("cpu_usage_ratio") and share_of_limit("memory_usage_ratio")
    assert not share_of_limit("node_cpu_usage_ratio")  # its host's
    assert not share_of_limit("cpu_usage_cores")  # a quantity, not a share
    assert not share_of_limit("error_ratio")  # a share of requests
