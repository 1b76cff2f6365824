import pytest

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


def test_only_a_service_s_own_resource_ratio_is_a_share_of_its_limit() -> None:
    assert share_of_limit("cpu_usage_ratio") and share_of_limit("memory_usage_ratio")
    assert share_of_limit("db_pool_usage_ratio") and share_of_limit("disk_io_utilisation_ratio")
    assert not share_of_limit("disk_avail_ratio")  # what is left: falling is trouble
    assert not share_of_limit("node_cpu_usage_ratio")  # its host's
    assert not share_of_limit("cpu_usage_cores")  # a quantity, not a share
    assert not share_of_limit("error_ratio")  # a share of requests


@pytest.mark.parametrize(
    ("metric", "group", "direction"),
    [
        # the names the bundle format documents (tools/bundle/FORMAT.md) keep their groups
        ("latency_p99_seconds", SignalGroup.LATENCY, Direction.UP),
        ("error_ratio", SignalGroup.ERRORS, Direction.UP),
        ("memory_usage_ratio", SignalGroup.MEMORY, Direction.UP),
        ("network_receive_bytes_per_second", SignalGroup.OTHER, Direction.BOTH),
        ("syscall_writes_per_second", SignalGroup.OTHER, Direction.BOTH),
        ("node_network_receive_bytes_per_second", SignalGroup.NODE, Direction.UP),
        ("call_server_latency_p50_seconds", SignalGroup.LATENCY, Direction.UP),
        # a pool before a client's calls: OpenTelemetry's db.client.connections.usage
        ("db_client_connections_usage", SignalGroup.POOL, Direction.UP),
        ("hikaricp_connections_pending", SignalGroup.POOL, Direction.UP),
        # garbage collection is memory pressure, not a request's latency or an error
        ("jvm_gc_pause_seconds", SignalGroup.MEMORY, Direction.UP),
        ("go_gc_duration_seconds", SignalGroup.MEMORY, Direction.UP),
        ("container_oom_events_total", SignalGroup.MEMORY, Direction.UP),
        ("grpc_server_handled_total", SignalGroup.OTHER, Direction.BOTH),  # no "gc" word
        # the instance's own interface losing packets, not its requests failing
        ("container_network_receive_errors_total", SignalGroup.NETWORK, Direction.UP),
        ("container_network_transmit_packets_dropped_total", SignalGroup.NETWORK, Direction.UP),
        ("tcp_retransmits_per_second", SignalGroup.NETWORK, Direction.UP),
        # bounded resources other than CPU and memory
        ("container_fs_usage_bytes", SignalGroup.POOL, Direction.UP),
        ("disk_usage_ratio", SignalGroup.POOL, Direction.UP),
        ("kubelet_volume_stats_inodes_used", SignalGroup.POOL, Direction.UP),
        ("kubelet_volume_stats_available_bytes", SignalGroup.POOL, Direction.DOWN),
        ("disk_free_bytes", SignalGroup.POOL, Direction.DOWN),
        ("process_open_fds", SignalGroup.POOL, Direction.UP),
        # a leak of sockets, threads or goroutines runs into a limit as file descriptors do
        ("container_sockets", SignalGroup.POOL, Direction.UP),
        ("container_threads", SignalGroup.POOL, Direction.UP),
        ("jvm_threads_live_threads", SignalGroup.POOL, Direction.UP),
        ("tomcat_threads_busy_threads", SignalGroup.POOL, Direction.UP),
        ("go_goroutines", SignalGroup.POOL, Direction.UP),
        # what requests do wins over the resource words in the same name
        ("request_volume_per_second", SignalGroup.TRAFFIC, Direction.BOTH),
        ("container_cpu_cfs_throttled_seconds_total", SignalGroup.CPU, Direction.UP),
        ("something_else", SignalGroup.OTHER, Direction.BOTH),
    ],
)
def test_names_from_common_exporters(metric: str, group: SignalGroup, direction: Direction) -> None:
    assert classify(metric) == (group, direction)
    assert classify(metric.upper()) == (group, direction)  # case does not matter
