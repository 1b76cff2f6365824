"""A share of failed requests is measured against one request's share of a sample."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from tools.analysis.change_rank import score_all
from tools.analysis.change_scores import Z_THRESHOLD, score_series
from tools.analysis.request_shares import one_request, requests_of, sampling_step
from tools.records import MetricSeries

START = 1_772_442_000.0
BEFORE, AFTER = 20, 6  # one sample a minute: twenty quiet minutes, then the incident


def _series(
    metric: str, values: list[float], service: str = "frontend", **labels: str
) -> MetricSeries:
    return MetricSeries(
        metric=metric,
        service=service,
        timestamps=tuple(START + 60 * i for i in range(len(values))),
        values=tuple(values),
        labels=MappingProxyType(labels),
    )


def _errors(during: float) -> list[float]:
    return [0.0] * BEFORE + [during] * AFTER


SPLIT = START + 60 * BEFORE


def test_the_requests_of_a_share_have_its_labels_or_are_its_instances() -> None:
    share = _series("error_ratio", _errors(0.02))
    pods = [_series("requests_per_second", [4.0] * 26, instance=f"frontend-{n}") for n in (1, 2)]
    other = _series("requests_per_second", [9.0] * 26, service="cart")
    assert requests_of(share, [*pods, other]) == pods  # the service's share: its instances'
    one_pod = _series("error_ratio", _errors(0.02), instance="frontend-1")
    assert requests_of(one_pod, [*pods, other]) == [pods[0]]
    stranger = _series("error_ratio", _errors(0.02), instance="frontend-9")
    assert requests_of(stranger, [*pods, other]) == []  # not another pod's requests
    assert requests_of(_series("latency_p99_seconds", [0.1] * 26), pods) == []


def test_one_request_is_the_share_of_the_requests_in_a_sample() -> None:
    share = _series("error_ratio", _errors(0.02))
    pods = [_series("requests_per_second", [4.0] * 26, instance=f"frontend-{n}") for n in (1, 2)]
    assert sampling_step(share.timestamps) == 60.0
    assert one_request(share, pods) == pytest.approx(1 / (8.0 * 60))
    assert one_request(share, []) is None
    idle = [_series("requests_per_second", [0.0] * 26)]
    assert one_request(share, idle) is None  # no traffic: nothing to measure a share of
    single = MetricSeries(
        metric="error_ratio", service="frontend", timestamps=(START,), values=(0.0,)
    )
    assert one_request(single, pods) is None


def test_new_failures_of_a_few_percent_of_a_busy_service_are_a_change() -> None:
    """Ten failures a minute of some 500 requests, after twenty minutes of none: a fixed floor
    of a percentage point scores it 2; against one request (1/500) it is far past notice. Its
    size (the effect that ranks it) is the same either way."""
    share = _series("error_ratio", _errors(0.02))
    requests = _series("requests_per_second", [8.5] * 26)
    fixed = score_series(share, SPLIT)
    assert fixed is not None and fixed.score < Z_THRESHOLD
    [scored] = [c for c in score_all([share, requests], SPLIT) if c.metric == "error_ratio"]
    assert scored.score >= Z_THRESHOLD * 3
    measured = score_series(share, SPLIT, resolution=1 / (8.5 * 60))
    assert measured is not None and scored.score == measured.score
    assert 1.0 < scored.effect < 2.0  # 2 % of requests: against the fixed floor, log2(3)


def test_a_few_requests_a_sample_keep_the_fixed_floor() -> None:
    """At six requests a minute one request is a sixth of a sample, coarser than the point: the
    point stays, and calls that all fail for minutes are the change they were."""
    requests = _series("requests_per_second", [0.1] * 26)
    failing = _series("error_ratio", _errors(1.0))
    [scored] = [c for c in score_all([failing, requests], SPLIT) if c.metric == "error_ratio"]
    fixed = score_series(failing, SPLIT)
    assert fixed is not None and scored.score == fixed.score >= Z_THRESHOLD


def test_a_share_without_its_requests_keeps_the_fixed_floor() -> None:
    share = _series("error_ratio", _errors(0.02))
    other = _series("requests_per_second", [8.5] * 26, service="cart")
    [alone] = [c for c in score_all([share, other], SPLIT) if c.metric == "error_ratio"]
    fixed = score_series(share, SPLIT)
    assert fixed is not None and alone.score == fixed.score
