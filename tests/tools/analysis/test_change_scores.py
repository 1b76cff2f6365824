from __future__ import annotations

import math

import numpy as np

from tests.tools.analysis.series import START, metric_series, noisy
from tools.analysis.change_rank import score_all
from tools.analysis.change_scores import Z_THRESHOLD, downsample, score_series


def test_step_up_in_latency_is_scored_with_its_onset() -> None:
    values = noisy(0.2, 80, 1) + noisy(0.8, 20, 2)
    change = score_series(metric_series("latency_p99_seconds", values), START + 15 * 70)
    assert change is not None
    assert change.score > 10
    assert change.direction == "up"
    assert change.onset == START + 15 * 80
    assert change.relative_change is not None and 2.5 < change.relative_change < 3.5


def test_a_change_knows_until_when_it_lasted() -> None:
    values = noisy(0.2, 60, 1) + noisy(0.8, 10, 2) + noisy(0.2, 30, 3)
    change = score_series(metric_series("latency_p99_seconds", values), START + 15 * 40)
    assert change is not None and change.score >= Z_THRESHOLD
    assert change.until == START + 15 * 69  # its last sample past the threshold
    assert not change.over_before(START + 15 * 69)
    assert change.over_before(START + 15 * 70)  # the next sample was back to normal
    ongoing = score_series(metric_series("latency_p99_seconds", values[:70]), START + 15 * 40)
    assert ongoing is not None and not ongoing.over_before(START + 15 * 70)
    flat = score_series(metric_series("latency_p99_seconds", noisy(0.2, 100, 4)), START + 15 * 40)
    assert flat is not None and flat.until is None and not flat.over_before(START + 15 * 200)


def test_a_series_back_to_normal_between_two_runs_had_two_episodes() -> None:
    values = noisy(0.2, 60, 1) + noisy(0.8, 10, 2) + noisy(0.2, 20, 3) + noisy(0.8, 10, 4)
    change = score_series(metric_series("latency_p99_seconds", values), START + 15 * 40)
    assert change is not None and change.until is None  # still past it at the last sample
    first, second = (START + 15 * 60, START + 15 * 69), (START + 15 * 90, None)
    assert change.episodes == (first, second)
    assert change.onset == first[0]
    assert change.episode_begun_by(START + 15 * 80) == first  # in between: the first, over
    assert change.episode_begun_by(START + 15 * 95) == second
    assert change.episode_begun_by(START + 15 * 50) is None
    one_sample = noisy(0.2, 60, 1) + noisy(0.8, 1, 2) + noisy(0.2, 39, 3)
    stray = score_series(metric_series("latency_p99_seconds", one_sample), START + 15 * 40)
    assert stray is not None and stray.episodes == ()  # one sample is no episode


def test_flat_series_scores_zero_and_noise_stays_low() -> None:
    flat = score_series(metric_series("error_ratio", [0.0] * 100), START + 15 * 70)
    assert flat is not None and flat.score == 0.0 and flat.onset is None
    noise = score_series(metric_series("latency_p99_seconds", noisy(0.2, 100, 3)), START + 15 * 70)
    assert noise is not None and noise.score < 3


def test_only_the_bad_direction_counts() -> None:
    drop = noisy(0.2, 80, 4) + noisy(0.05, 20, 5)
    latency = score_series(metric_series("latency_p99_seconds", drop), START + 15 * 70)
    assert latency is not None and latency.score < 1.0  # faster is not a fault
    success = score_series(
        metric_series("success_ratio", [0.99] * 80 + [0.5] * 20), START + 15 * 70
    )
    assert success is not None and success.score > 5


def test_one_stray_spike_is_not_a_change() -> None:
    values = [0.1] * 90 + [5.0] + [0.1] * 9
    change = score_series(metric_series("latency_p99_seconds", values), START + 15 * 70)
    assert change is not None and change.score == 0.0


def test_a_rise_of_a_series_jumping_between_two_levels_is_told_by_the_levels_it_rests_on() -> None:
    # a p99 flipping between 25 ms and 490 ms: past the threshold where two samples of three
    # are high, with a low sample between them (ts-order-service on Nezha TrainTicket)
    base = [0.085, 0.05, 0.09, 0.08, 0.07, 0.1, 0.06, 0.085, 0.09, 0.075]
    values = [*base, 0.2, 0.48, 0.025, 0.49, 0.025, 0.02]
    change = score_series(metric_series("latency_p99_seconds", values), START + 15 * 10)
    assert change is not None and change.score >= Z_THRESHOLD and change.direction == "up"
    assert change.level > change.baseline_median
    # the highest level two samples of three held, at a sample that held it (not the low one)
    assert change.peak == 0.48 and change.peak_at == START + 15 * 11


def test_a_series_scored_both_ways_is_told_by_the_way_its_peak_moved() -> None:
    # traffic fell to a tenth, then rose by a third for longer: a fall, told as one
    values = noisy(100, 40, 1) + noisy(10, 4, 2) + noisy(130, 8, 3)
    change = score_series(metric_series("requests_per_second", values), START + 15 * 40)
    assert change is not None and change.direction == "down"
    assert change.level < 15 and change.peak < 15
    rise = noisy(100, 40, 1) + noisy(1000, 4, 2) + noisy(70, 8, 3)
    up = score_series(metric_series("requests_per_second", rise), START + 15 * 40)
    assert up is not None and up.direction == "up" and up.level > 900


def test_too_little_baseline_is_not_scored() -> None:
    assert score_series(metric_series("error_ratio", [0.1, 0.2, 0.3]), START + 15) is None


def test_downsample_keeps_spikes() -> None:
    ts = np.arange(1000, dtype=float)
    vs = np.zeros(1000)
    vs[517] = 9.0
    points = downsample(ts, vs, 50)
    assert len(points) == 50 and max(v for _, v in points) == 9.0


def _step(metric: str, before: list[float], after: list[float], service: str = "svc") -> float:
    change = score_series(metric_series(metric, before + after, service), START + 15 * len(before))
    assert change is not None and change.score >= Z_THRESHOLD
    return change.effect


def test_effect_says_how_big_a_significant_change_is() -> None:
    # both clearly significant; only the second is a fault
    tiny = _step("cpu_usage_cores", noisy(0.003, 80, 1), noisy(0.006, 20, 2))
    huge = _step("cpu_usage_cores", noisy(0.03, 80, 1), noisy(1.0, 20, 2))
    assert 0.5 < tiny <= 1.0  # about one doubling, a little less for the noise offset
    assert huge > 4 * tiny
    assert huge < math.log2(1.0 / 0.03)  # the noise offset only ever shrinks it


def test_effect_is_finite_for_a_change_from_zero() -> None:
    effect = _step("requests_per_second", [0.0] * 80, [500.0] * 20, "batch")
    assert math.isfinite(effect) and effect > 10


def test_a_change_that_is_not_significant_has_no_effect() -> None:
    noise = score_series(metric_series("cpu_usage_cores", noisy(0.2, 100, 3)), START + 15 * 70)
    assert noise is not None and noise.score < Z_THRESHOLD and noise.effect == 0.0
    faster = score_series(
        metric_series("latency_p99_seconds", noisy(0.2, 80, 4) + noisy(0.05, 20, 5)),
        START + 15 * 80,
    )
    assert faster is not None and faster.effect == 0.0  # four times faster is no fault


def test_a_down_is_bad_metric_has_its_effect_downwards() -> None:
    drop = _step("success_ratio", [0.99] * 80, [0.5] * 20)
    assert 0.5 < drop < math.log2(0.99 / 0.5)  # about a halving: one doubling down
    rise = score_series(metric_series("success_ratio", [0.5] * 80 + [0.99] * 20), START + 15 * 80)
    assert rise is not None and rise.effect == 0.0


def test_a_share_of_a_limit_near_it_counts_by_the_headroom_it_lost() -> None:
    """From 53 % to 87 % of its limit: 0.7 doublings of use, but the headroom shrank from 47 %
    to 13 %, almost two doublings, and the wait for the CPU with it."""
    near = _step("cpu_usage_ratio", noisy(0.53, 80, 1), noisy(0.87, 20, 2))
    assert math.log2(0.87 / 0.53) < near <= math.log2(0.47 / 0.13)
    assert near > 1.5
    memory = _step("memory_usage_ratio", noisy(0.53, 80, 1), noisy(0.87, 20, 2))
    assert memory == near  # a heap that full is collected as much more often
    # the same rise in cores has no limit to come near: its use alone
    cores = _step("cpu_usage_cores", noisy(0.53, 80, 1), noisy(0.87, 20, 2))
    assert cores < math.log2(0.87 / 0.53)
    # far from the limit the use is the larger: one doubling, not a tenth of one
    far = _step("cpu_usage_ratio", noisy(0.05, 80, 1), noisy(0.1, 20, 2))
    assert 0.5 < far <= 1.0  # about one doubling, a little less for the noise offset


def test_the_host_s_share_and_a_share_that_fell_have_no_headroom_effect() -> None:
    host = _step("node_cpu_usage_ratio", noisy(0.53, 80, 1), noisy(0.87, 20, 2))
    assert host < math.log2(0.87 / 0.53)  # the host's: not the service's own limit
    fell = score_series(
        metric_series("cpu_usage_ratio", noisy(0.87, 80, 1) + noisy(0.53, 20, 2)), START + 15 * 80
    )
    assert fell is not None and fell.effect == 0.0


def test_traffic_has_an_effect_either_way() -> None:
    down = _step("requests_per_second", noisy(100, 80, 3), noisy(25, 20, 4))
    up = _step("requests_per_second", noisy(25, 80, 3), noisy(100, 20, 4))
    assert 1.5 < down <= 2.0 and 1.5 < up <= 2.0


def test_a_change_knows_its_series_sampling_step() -> None:
    values = [1.0] * 20 + [10.0] * 10
    change = score_series(metric_series("latency_p99_seconds", values), START + 15 * 20)
    assert change is not None and change.step == 15


def _cpu_after_an_episode() -> tuple[list[float], float, float]:
    """CPU at a share of its limit: an earlier fault holds it near the limit for most of the
    baseline, then it settles at its usual level for eight samples before the next fault."""
    values = (
        noisy(0.25, 3, 1)
        + noisy(0.95, 7, 2)  # the earlier episode: 7 of the baseline's 10 samples
        + noisy(0.2, 8, 3)  # settled: between the baseline's end and the start
        + noisy(0.99, 3, 4)  # this incident
        + noisy(0.2, 2, 5)
    )
    return values, START + 15 * 10, START + 15 * 18


def test_a_baseline_that_held_an_earlier_episode_gives_way_to_the_samples_after_it() -> None:
    values, baseline_end, start = _cpu_after_an_episode()
    series = metric_series("cpu_usage_ratio", values)
    blind = score_series(series, baseline_end)
    assert blind is not None and blind.score < Z_THRESHOLD  # 99 % against an 82 %-ish "normal"
    change = score_series(series, baseline_end, incident_start=start)
    assert change is not None and change.score >= Z_THRESHOLD
    assert 0.15 < change.baseline_median < 0.25
    assert change.onset is not None and change.onset >= start
    assert change.effect > 1  # the headroom under the limit went from ~80 % to ~1 %
    assert [c.service for c in score_all([series], baseline_end, (), start) if c.effect > 0] == [
        "svc"
    ]


def test_a_baseline_as_good_as_what_followed_it_is_kept() -> None:
    values = noisy(0.2, 10, 1) + noisy(0.2, 8, 3) + noisy(0.99, 3, 4)
    series = metric_series("cpu_usage_ratio", values)
    kept = score_series(series, START + 15 * 10, incident_start=START + 15 * 18)
    plain = score_series(series, START + 15 * 10)
    assert kept is not None and plain is not None
    assert kept.baseline_median == plain.baseline_median
    assert kept.onset == plain.onset


def test_samples_worse_than_the_baseline_before_the_start_keep_it() -> None:
    """Worse before the start is the incident beginning before it (a start placed late): the
    baseline stays, and the change is dated from its real onset."""
    values = noisy(0.2, 10, 1) + noisy(0.6, 8, 3) + noisy(0.99, 3, 4)
    series = metric_series("cpu_usage_ratio", values)
    change = score_series(series, START + 15 * 10, incident_start=START + 15 * 18)
    assert change is not None and change.onset == START + 15 * 10
    assert 0.15 < change.baseline_median < 0.25


def test_a_baseline_episode_needs_enough_settled_samples_a_direction_and_no_reference() -> None:
    values, baseline_end, _ = _cpu_after_an_episode()
    series = metric_series("cpu_usage_ratio", values)
    too_few = score_series(series, baseline_end, incident_start=baseline_end + 15 * 2)
    assert too_few is not None and too_few.score < Z_THRESHOLD
    traffic = metric_series(
        "requests_per_second", [v * 100 for v in values]
    )  # either way is trouble
    both = score_series(traffic, baseline_end, incident_start=START + 15 * 18)
    assert both is not None and both.baseline_median > 50
    reference = metric_series("cpu_usage_ratio", noisy(0.9, 10, 6))  # normal, by definition
    against = score_series(series, baseline_end, reference, incident_start=START + 15 * 18)
    assert against is not None and against.against_reference and against.baseline_median > 0.8


def test_a_series_flipping_between_two_levels_keeps_its_baseline() -> None:
    """A pool of 20 connections, 4 or 5 in use: the baseline's median at 5, the next eight
    minutes' at 4, each with no spread about it. No episode: half of the baseline was no worse
    than the settled samples, and the incident's 5 in use is no change."""
    flips = [0.25, 0.25, 0.2, 0.25, 0.25, 0.2, 0.25, 0.25, 0.2, 0.25]
    settled = [0.2, 0.2, 0.25, 0.2, 0.2, 0.25, 0.2, 0.2]
    series = metric_series("db_pool_usage_ratio", flips + settled + [0.25] * 4)
    change = score_series(series, START + 15 * 10, incident_start=START + 15 * 18)
    assert change is not None and change.score < Z_THRESHOLD
    assert change.baseline_median == 0.25


def test_a_noisy_baseline_is_not_an_episode_for_a_few_quiet_samples_after_it() -> None:
    """A CPU in cores with spikes to five times its median (TrainTicket's ts-train-service,
    2023-01-29 10:50): five samples before the start happen to sit a little under the
    baseline's median, with almost no spread among them. The baseline stays, and the incident's
    samples, no worse than its own, are no change."""
    base = [7.0, 31.5, 20.7, 11.6, 9.7, 11.5, 5.0, 5.5, 6.7, 61.8, 4.9, 8.9, 5.0, 8.5, 8.2]
    base += [5.0, 10.6, 9.3, 8.1, 9.4, 4.9]
    settled = [4.8, 8.1, 6.4, 6.2, 6.4]
    incident = [7.4, 7.4, 6.4, 36.1, 5.0, 16.3, 7.6, 5.2, 5.3]
    series = metric_series("cpu_usage_cores", [v / 1000 for v in base + settled + incident])
    end, start = START + 15 * len(base), START + 15 * (len(base) + len(settled))
    change = score_series(series, end, incident_start=start)
    plain = score_series(series, end)
    assert change is not None and plain is not None
    assert change.baseline_median == plain.baseline_median
    assert change.score < Z_THRESHOLD
