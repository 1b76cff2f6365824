"""Change points of counts, shares and levels, and the onset more than one signal agrees on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tools.analysis.onset import (
    MIN_STRENGTH,
    Onset,
    consistent_onset,
    count_change_point,
    independent,
    level_change_point,
    share_change_point,
)

T0 = 1_772_442_000.0
WIDTH = 15.0


def _starts(n: int) -> list[float]:
    return [T0 + WIDTH * i for i in range(n)]


def _poisson(before: float, after: float, step: int, n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(c) for c in rng.poisson(before, step)] + [
        int(c) for c in rng.poisson(after, n - step)
    ]


@pytest.mark.parametrize("seed", range(5))
def test_a_clear_rise_in_a_count_is_found_at_its_bucket(seed: int) -> None:
    counts = _poisson(0.5, 8.0, 70, 120, seed)
    found = count_change_point(_starts(120), counts, WIDTH)
    assert found is not None
    at, strength, before, after = found
    assert abs(at - _starts(120)[70]) <= WIDTH
    assert strength >= MIN_STRENGTH
    assert before < 4 < after  # per minute: 2/min before, 32/min after


def test_rates_are_per_minute() -> None:
    found = count_change_point(_starts(20), [1] * 10 + [5] * 10, WIDTH)
    assert found is not None
    assert found[2] == pytest.approx(4.0) and found[3] == pytest.approx(20.0)


def test_zeros_before_the_rise_are_a_rate_of_zero_with_a_finite_strength() -> None:
    found = count_change_point(_starts(60), [0] * 40 + [5] * 20, WIDTH)
    assert found is not None
    at, strength, before, after = found
    assert at == _starts(60)[40]
    assert before == 0.0 and after == pytest.approx(20.0)
    assert math.isfinite(strength) and strength >= MIN_STRENGTH


@pytest.mark.parametrize("counts", [[3] * 40, [0] * 40, [9] * 20 + [1] * 20])
def test_no_rise_in_a_count_is_none(counts: list[int]) -> None:
    assert count_change_point(_starts(len(counts)), counts, WIDTH) is None


def test_a_noisy_fall_in_a_count_is_never_a_strong_onset() -> None:
    counts = _poisson(8.0, 0.5, 60, 100, seed=3)
    found = count_change_point(_starts(100), counts, WIDTH)
    assert found is None or found[1] < MIN_STRENGTH


def test_too_few_buckets_for_two_segments_is_none() -> None:
    assert count_change_point(_starts(5), [0, 0, 0, 9, 9], WIDTH) is None
    assert count_change_point(_starts(6), [0, 0, 0, 9, 9, 9], WIDTH) is not None


def test_one_burst_of_lines_is_not_a_strong_onset() -> None:
    counts = [0] * 100
    counts[50] = 60  # one exception, one long stack trace
    found = count_change_point(_starts(100), counts, WIDTH)
    assert found is not None and found[1] < MIN_STRENGTH
    plain_poisson = 60 * math.log(100 / 50)  # the same split without the overdispersion
    assert plain_poisson > MIN_STRENGTH


def test_a_rise_in_a_share_is_found_however_many_trials_each_bucket_has() -> None:
    rng = np.random.default_rng(7)
    totals = [int(t) for t in rng.integers(0, 12, 100)]
    shares = [0.02] * 55 + [0.6] * 45
    hits = [int(rng.binomial(n, p)) for n, p in zip(totals, shares, strict=True)]
    found = share_change_point(_starts(100), hits, totals)
    assert found is not None
    at, strength, before, after = found
    with_trials = [t for t, n in zip(_starts(100), totals, strict=True) if n]
    assert at in with_trials and abs(at - _starts(100)[55]) <= 2 * WIDTH
    assert strength >= MIN_STRENGTH and before < 0.1 < 0.4 < after


def test_a_share_that_does_not_rise_is_none() -> None:
    assert share_change_point(_starts(20), [1] * 20, [4] * 20) is None
    assert share_change_point(_starts(20), [0] * 20, [4] * 20) is None


@pytest.mark.parametrize("seed", range(3))
def test_a_latency_shift_is_found_on_a_log_scale(seed: int) -> None:
    rng = np.random.default_rng(seed)
    levels = [float(v) for v in np.exp(rng.normal(math.log(0.1), 0.3, 80))]
    values: list[float | None] = [v * 5 if i >= 60 else v for i, v in enumerate(levels)]
    values[10] = values[70] = None  # buckets without a trace; ×5 from bucket 60
    found = level_change_point(_starts(80), values, WIDTH)
    assert found is not None
    at, strength, before, after = found
    assert abs(at - _starts(80)[60]) <= WIDTH
    assert strength >= MIN_STRENGTH
    assert after / before == pytest.approx(5, rel=0.3)  # geometric means


def test_a_constant_level_that_steps_up_has_a_finite_strength() -> None:
    values = [0.05] * 30 + [0.5] * 30
    found = level_change_point(_starts(60), values, WIDTH)
    assert found is not None and math.isfinite(found[1])
    assert found[0] == _starts(60)[30]
    assert found[2] == pytest.approx(0.05) and found[3] == pytest.approx(0.5)


def test_a_level_shift_on_a_linear_scale_compares_means() -> None:
    values = [10.0, 12.0, 11.0] * 10 + [20.0, 22.0, 21.0] * 10
    found = level_change_point(_starts(60), values, WIDTH, log_scale=False)
    assert found is not None
    assert found[0] == _starts(60)[30]
    assert found[2] == pytest.approx(11.0) and found[3] == pytest.approx(21.0)


def test_a_falling_or_missing_level_is_none() -> None:
    assert level_change_point(_starts(40), [0.5] * 20 + [0.05] * 20, WIDTH) is None
    assert level_change_point(_starts(40), [None] * 35 + [1.0] * 5, WIDTH) is None
    assert level_change_point(_starts(8), [math.nan] * 8, WIDTH) is None


def _onset(
    at: float, source: str, what: str, strength: float, resolution: float = 15, records: str = ""
) -> Onset:
    return Onset(T0 + at, source, what, 1.0, 2.0, "/min", strength, resolution, records)


def _between(onsets: list[Onset], start: float = 0, end: float = 3600) -> Onset | None:
    return consistent_onset(onsets, not_before=T0 + start, not_after=T0 + end)


def test_the_earliest_onset_another_source_confirms_places_the_start() -> None:
    lone_early = _onset(300, "metrics", "cpu of batch", 40.0, resolution=60)
    logs = _onset(1200, "logs", "ERROR log lines (all services)", 12.0)
    traces = _onset(1215, "traces", "share of traces with errors", 30.0)
    metric = _onset(1230, "metrics", "error_ratio of api", 9.0, resolution=60)
    assert _between([traces, metric, lone_early, logs]) is logs


def test_onsets_out_of_range_or_weak_do_not_place_the_start() -> None:
    before_range = _onset(100, "logs", "ERROR log lines (all services)", 50.0)
    confirms_it = _onset(110, "traces", "share of traces with errors", 50.0)
    weak = _onset(900, "logs", "api ERROR log lines", MIN_STRENGTH / 2)
    weak_too = _onset(905, "traces", "entry-span latency", MIN_STRENGTH / 2)
    logs = _onset(1500, "logs", "ERROR log lines (all services)", 8.0)
    metric = _onset(1530, "metrics", "latency_p99_seconds of api", 7.0, resolution=60)
    chosen = _between([before_range, confirms_it, weak, weak_too, logs, metric], start=600)
    assert chosen is logs


def test_two_onsets_too_far_apart_do_not_confirm_each_other() -> None:
    logs = _onset(1200, "logs", "ERROR log lines (all services)", 8.0)
    traces = _onset(1200 + 15 + 15 + 1, "traces", "entry-span latency", 20.0)
    assert _between([logs, traces]) is traces  # unconfirmed: the strongest single one
    near = _onset(1200 + 30, "traces", "entry-span latency", 20.0)
    assert _between([logs, near]) is logs


def test_without_a_confirmed_onset_the_strongest_single_one_places_the_start() -> None:
    logs = _onset(600, "logs", "ERROR log lines (all services)", 9.0)
    traces = _onset(2000, "traces", "entry-span latency", 25.0)
    api_logs = _onset(605, "logs", "api ERROR log lines", 8.0)
    assert _between([logs, traces, api_logs]) is traces  # two sources: logs alone do not agree


def test_with_one_source_another_series_of_it_confirms() -> None:
    logs = _onset(600, "logs", "ERROR log lines (all services)", 9.0)
    api_logs = _onset(605, "logs", "api ERROR log lines", 8.0)
    later = _onset(2000, "logs", "db ERROR log lines", 25.0)
    assert _between([later, api_logs, logs]) is logs


def test_nothing_strong_in_range_is_none() -> None:
    assert _between([]) is None
    assert _between([_onset(600, "logs", "x", MIN_STRENGTH - 0.1)]) is None
    assert _between([_onset(600, "logs", "x", 50.0)], start=700) is None


def _confirmed(onsets: list[Onset], start: float = 0, end: float = 3600) -> Onset | None:
    return consistent_onset(onsets, not_before=T0 + start, not_after=T0 + end, confirmed_only=True)


def test_confirmed_only_has_no_strongest_single_fallback() -> None:
    logs = _onset(600, "logs", "ERROR log lines (all services)", 9.0)
    traces = _onset(2000, "traces", "entry-span latency", 25.0)
    assert _between([logs, traces]) is traces  # the fallback ...
    assert _confirmed([logs, traces]) is None  # ... is not a confirmation
    assert _confirmed([_onset(600, "metrics", "cpu of api", 40.0, resolution=60)]) is None


def test_confirmed_only_takes_no_confirmation_from_the_same_source() -> None:
    logs = _onset(600, "logs", "ERROR log lines (all services)", 9.0)
    api_logs = _onset(605, "logs", "api ERROR log lines", 8.0)
    assert _between([logs, api_logs]) is logs  # one source: another series of it confirms
    assert _confirmed([logs, api_logs]) is None  # part of the same lines: no confirmation


def test_series_of_one_source_over_separate_records_confirm_each_other() -> None:
    # a slow link into a service few requests reach: the calls into it, and the calls into
    # the caller that waits on it, slow together; no metric and no error moved
    into_shipping = _onset(600, "traces", "latency of calls into shipping", 1800.0, 5, "shipping")
    into_checkout = _onset(605, "traces", "latency of calls into checkout", 15.0, 5, "checkout")
    assert _confirmed([into_shipping, into_checkout]) is into_shipping
    assert _confirmed([into_shipping]) is None  # one series alone still places nothing


def test_series_over_all_or_shared_records_do_not_confirm_each_other() -> None:
    into_shipping = _onset(600, "traces", "latency of calls into shipping", 1800.0, 5, "shipping")
    all_errors = _onset(605, "traces", "share of traces with errors", 30.0, 5)
    api_errors = _onset(605, "traces", "share of traces with errors in api", 30.0, 5)
    same_spans = _onset(605, "traces", "p99 of calls into shipping", 30.0, 5, "shipping")
    for other in (all_errors, api_errors, same_spans):
        assert not independent(into_shipping, other)
        assert _confirmed([into_shipping, other]) is None
    assert not independent(all_errors, api_errors)  # every trace of one is in the other
    assert independent(into_shipping, _onset(600, "logs", "ERROR log lines (all services)", 9))


def test_confirmed_only_keeps_an_onset_another_source_confirms() -> None:
    lone = _onset(300, "logs", "db ERROR log lines", 30.0)
    logs = _onset(1200, "logs", "ERROR log lines (all services)", 9.0)
    traces = _onset(1210, "traces", "share of traces with errors", 12.0)
    assert _confirmed([lone, traces, logs]) is logs


def test_a_coarse_onset_is_placed_at_the_finer_one_that_confirms_it() -> None:
    metric = _onset(1200, "metrics", "latency_p99_seconds of api", 20.0, resolution=60)
    traces = _onset(1245, "traces", "entry-span latency", 9.0, resolution=15)
    for found in (_between([metric, traces]), _confirmed([metric, traces])):
        assert found is traces  # the minute step says "about 12:20", the traces say when


def test_a_fine_onset_is_not_moved_by_a_coarser_one() -> None:
    logs = _onset(1200, "logs", "ERROR log lines (all services)", 9.0, resolution=15)
    metric = _onset(1230, "metrics", "error_ratio of api", 20.0, resolution=60)
    assert _between([logs, metric]) is logs and _confirmed([logs, metric]) is logs


def test_the_finer_placement_stays_in_the_range() -> None:
    """The start lies in ``[not_before, not_after]`` even where the finer onset that confirms
    a candidate lies just outside it (after the alert, say)."""
    metric = _onset(1200, "metrics", "latency_p99_seconds of api", 20.0, resolution=60)
    traces = _onset(1245, "traces", "entry-span latency", 9.0, resolution=15)
    for found in (_between([metric, traces], end=1220), _confirmed([metric, traces], end=1220)):
        assert found is not None and T0 <= found.at <= T0 + 1220


def test_two_modest_onsets_of_different_sources_at_one_moment_together_place_the_start() -> None:
    """Independent evidence adds up in log-likelihood: errors in the logs and in the traces,
    each short of significant alone, at the same moment."""
    logs = _onset(1200, "logs", "ERROR log lines (all services)", 2.2)
    traces = _onset(1210, "traces", "share of traces with errors", 3.9)
    found = consistent_onset([logs, traces], not_before=T0, not_after=T0 + 3600)
    assert found is logs
    apart = _onset(1600, "traces", "share of traces with errors", 3.9)
    assert consistent_onset([logs, apart], not_before=T0, not_after=T0 + 3600) is None
    same_source = _onset(1205, "logs", "ts-api ERROR log lines", 3.9)
    assert consistent_onset([logs, same_source], not_before=T0, not_after=T0 + 3600) is None
    too_weak = _onset(1210, "traces", "share of traces with errors", 0.5)
    assert consistent_onset([logs, too_weak], not_before=T0, not_after=T0 + 3600) is None


def test_without_the_strongest_single_fallback_a_lone_onset_places_nothing() -> None:
    lone = _onset(1200, "metrics", "api cpu", 40.0, resolution=60)
    assert consistent_onset([lone], not_before=T0, not_after=T0 + 3600) is lone
    assert (
        consistent_onset([lone], not_before=T0, not_after=T0 + 3600, strongest_single=False) is None
    )
    other = _onset(1230, "metrics", "api latency", 20.0, resolution=60)
    found = consistent_onset(
        [lone, other], not_before=T0, not_after=T0 + 3600, strongest_single=False
    )
    assert found is lone  # another series of the only source confirms it
