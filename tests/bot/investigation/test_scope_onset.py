"""When the symptoms began (issue 11): the earliest onset another signal confirms near the alert,
else the alert's usual lead (logs and traces saw no change) or the older metric rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import (
    ALERT_LEAD,
    ALERT_LOOKBACK,
    TOP_CHANGES_FOR_ONSET,
    Scope,
    incident_start,
    metric_onsets,
)
from tests.bundles import T0
from tools.analysis.change_scores import SeriesChange
from tools.analysis.metric_kinds import classify
from tools.analysis.onset import Onset
from tools.evidence import TimeWindow

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
ALERT = T0 + timedelta(minutes=44)
NO_REQUEST = InvestigationRequest()
MINUTE = timedelta(minutes=1)


def scope(alert: datetime | None = ALERT, service: str | None = "web") -> Scope:
    return Scope(
        window=WINDOW,
        baseline_end=T0 + timedelta(minutes=34),
        alert_time=alert,
        alert_service=service if alert else None,
        question="Why?",
        label="alert",
    )


def onset(
    source: str,
    at: datetime,
    *,
    what: str = "",
    strength: float = 50.0,
    resolution_s: float = 15,
    records: str = "",
) -> Onset:
    return Onset(
        at=at.timestamp(),
        source=source,
        what=what or f"{source} series",
        before=1.0,
        after=10.0,
        unit="/min",
        strength=strength,
        resolution_s=resolution_s,
        records=records,
    )


def change(
    service: str,
    metric: str,
    first_changed: datetime | None,
    *,
    score: float = 12.0,
    effect: float = 2.0,
    step_s: float = 60.0,
) -> SeriesChange:
    """A significant change whose first changed sample is ``first_changed``, sampled every
    ``step_s`` over the window."""
    start = WINDOW.start.timestamp()
    points = tuple((start + i * step_s, 1.0) for i in range(int(3600 / step_s)))
    return SeriesChange(
        service=service,
        metric=metric,
        group=classify(metric)[0],
        direction="up",
        score=score,
        baseline_median=0.01,
        incident_median=0.2,
        level=0.2,
        peak=0.3,
        peak_at=ALERT.timestamp(),
        onset=first_changed.timestamp() if first_changed else None,
        points=points,
        effect=effect,
        step=step_s,
    )


def start_of(
    changes: list[SeriesChange] | None = None,
    onsets: list[Onset] | None = None,
    *,
    where: Scope | None = None,
    request: InvestigationRequest = NO_REQUEST,
    fine_data: TimeWindow | None = None,
) -> datetime:
    return incident_start(where or scope(), request, changes, onsets or [], fine_data)


# --- logs and traces ------------------------------------------------------------------------


def test_an_explicit_start_wins() -> None:
    explicit = T0 + timedelta(minutes=10)
    at = ALERT - 4 * MINUTE
    found = start_of(
        [change("api", "error_ratio", at)],
        [onset("logs", at), onset("traces", at)],
        request=InvestigationRequest(incident_start=explicit),
    )
    assert found == explicit


def test_a_log_onset_a_trace_onset_confirms_is_the_start() -> None:
    at = ALERT - timedelta(minutes=4, seconds=20)
    found = start_of(onsets=[onset("logs", at), onset("traces", at + timedelta(seconds=10))])
    assert found == at


def test_the_earliest_confirmed_onset_near_the_alert_is_the_start() -> None:
    early, late = ALERT - 8 * MINUTE, ALERT - 3 * MINUTE
    onsets = [onset("logs", late), onset("traces", late), onset("logs", early, what="api")]
    onsets.append(onset("traces", early + timedelta(seconds=5), what="latency"))
    assert start_of(onsets=onsets) == early


def test_trace_series_over_separate_spans_confirm_each_other() -> None:
    # a slow link into a service few requests reach: only the calls into it and into the
    # caller waiting on it moved, no error and no metric among the strongest changes
    at = ALERT - timedelta(minutes=1, seconds=5)
    into = [
        onset("traces", at, what=f"calls into {s}", resolution_s=5, records=f"calls into {s}")
        for s in ("shipping", "checkout")
    ]
    assert start_of(onsets=into) == at
    # two series over shared traces (every trace with an error, those failing in one service)
    shared = [onset("traces", at, what="errors"), onset("traces", at, what="errors in api")]
    assert start_of(onsets=shared) == ALERT - ALERT_LEAD


def test_a_metric_onset_confirmed_by_a_finer_log_onset_takes_the_log_s_time() -> None:
    metric = change("api", "error_ratio", ALERT - 4 * MINUTE)  # its onset: a step before
    logs = onset("logs", ALERT - timedelta(minutes=4, seconds=40))
    assert start_of([metric], [logs]) == ALERT - timedelta(minutes=4, seconds=40)


@pytest.mark.parametrize(
    "onsets",
    [
        [onset("logs", ALERT - 5 * MINUTE)],
        [onset("logs", ALERT - 8 * MINUTE), onset("traces", ALERT - 3 * MINUTE)],
        [onset("logs", ALERT - 5 * MINUTE), onset("logs", ALERT - 5 * MINUTE, what="api")],
        [onset("logs", ALERT - 5 * MINUTE), onset("traces", ALERT - 5 * MINUTE, strength=0.5)],
    ],
    ids=["alone", "apart", "one-source", "weak-confirmation"],
)
def test_logs_and_traces_that_confirm_no_onset_leave_the_alert_s_lead(
    onsets: list[Onset],
) -> None:
    assert start_of(onsets=onsets) == ALERT - ALERT_LEAD


def test_metric_series_confirming_each_other_are_not_enough_when_logs_saw_nothing() -> None:
    metrics = [
        change("api", "error_ratio", ALERT - 6 * MINUTE),
        change("db", "latency_p99_seconds", ALERT - 6 * MINUTE),
    ]
    weak = onset("logs", ALERT - 20 * MINUTE, strength=0.5)
    assert start_of(metrics, [weak]) == ALERT - ALERT_LEAD


def test_the_alert_s_lead_is_clamped_to_the_window() -> None:
    early_alert = WINDOW.start + MINUTE
    found = start_of(onsets=[onset("logs", WINDOW.start)], where=scope(early_alert))
    assert found == WINDOW.start


def test_the_alert_s_lead_never_leaves_the_incident_without_the_logs_and_traces() -> None:
    # a recording that ends 3 minutes before the alert: its lead would be past all of it
    data = TimeWindow(start=WINDOW.start + 20 * MINUTE, end=ALERT - 3 * MINUTE)
    weak = [onset("logs", ALERT - 5 * MINUTE, strength=0.5)]
    middle = data.start + (data.end - data.start) / 2
    assert start_of(onsets=weak, fine_data=data) == middle
    # so close to its end that fewer than three 15-s buckets would be left: the middle too
    near = TimeWindow(start=data.start, end=ALERT - ALERT_LEAD + timedelta(seconds=30))
    assert start_of(onsets=weak, fine_data=near) == near.start + (near.end - near.start) / 2


def test_the_middle_of_the_data_counts_only_what_lies_in_the_window() -> None:
    data = TimeWindow(start=WINDOW.start - 30 * MINUTE, end=ALERT - 4 * MINUTE)
    weak = [onset("traces", ALERT - 6 * MINUTE, strength=0.5)]
    found = start_of(onsets=weak, fine_data=data)
    assert found == WINDOW.start + (data.end - WINDOW.start) / 2


def test_data_reaching_past_the_alert_s_lead_keeps_it() -> None:
    data = TimeWindow(start=WINDOW.start, end=ALERT - ALERT_LEAD + 45 * timedelta(seconds=1))
    weak = [onset("logs", ALERT - 5 * MINUTE, strength=0.5)]
    assert start_of(onsets=weak, fine_data=data) == ALERT - ALERT_LEAD


@pytest.mark.parametrize(
    "at",
    [ALERT - ALERT_LOOKBACK - 5 * MINUTE, ALERT + 2 * MINUTE],
    ids=["long-before", "after"],
)
def test_onsets_outside_the_lookback_before_the_alert_are_ignored(at: datetime) -> None:
    found = start_of(onsets=[onset("logs", at), onset("traces", at)])
    assert found == ALERT - ALERT_LEAD


def test_without_an_alert_a_confirmed_onset_anywhere_in_the_window_is_the_start() -> None:
    at = T0 + timedelta(minutes=12)
    found = start_of(onsets=[onset("logs", at), onset("traces", at)], where=scope(None))
    assert found == at


# --- metrics only ---------------------------------------------------------------------------


def test_metrics_only_a_metric_onset_another_series_confirms_is_the_start() -> None:
    first = ALERT - 6 * MINUTE
    metrics = [
        change("api", "error_ratio", first + MINUTE, effect=3.0),
        change("api", "latency_p99_seconds", first, effect=1.0),
    ]
    assert start_of(metrics) == first - MINUTE  # a step before its first changed sample


def test_metrics_only_an_unconfirmed_onset_leaves_the_older_rules() -> None:
    """No other series confirms either change: the alerting service's own onset (the alert
    *is* its symptom), not the strongest single series'."""
    own = ALERT - 3 * MINUTE
    metrics = [
        change("api", "cpu_usage", ALERT - 9 * MINUTE, score=30.0, effect=4.0),
        change("web", "error_ratio", own, score=8.0, effect=2.0),
    ]
    assert start_of(metrics) == own


def test_metrics_only_without_an_alert_an_unconfirmed_onset_leaves_the_older_rules() -> None:
    """Without an alert the older rule is the earliest onset among the strongest changes."""
    earliest = T0 + timedelta(minutes=36)
    metrics = [
        change("api", "cpu_usage", T0 + timedelta(minutes=50), score=30.0, effect=4.0),
        change("db", "error_ratio", earliest, score=8.0, effect=2.0),
    ]
    assert start_of(metrics, where=scope(None)) == earliest


def test_metrics_only_confirmed_onsets_long_before_the_alert_are_ignored() -> None:
    """The older rule then takes the latest onset before the alert among the strong ones."""
    long_before = ALERT - ALERT_LOOKBACK - 5 * MINUTE
    metrics = [
        change("api", "error_ratio", long_before, effect=3.0),
        change("db", "latency_p99_seconds", long_before + MINUTE, effect=2.0),
    ]
    assert start_of(metrics) == long_before + MINUTE


def test_an_episode_over_before_the_alert_s_lead_places_no_start() -> None:
    """An earlier incident in the window (its CPU and latency up 9 minutes before the alert,
    back to normal 5 minutes before it) is not the onset of what fires now."""
    earlier = ALERT - 9 * MINUTE
    back = ALERT - 5 * MINUTE
    metrics = [
        replace(change("mail", m, earlier, effect=5.0), until=(back - MINUTE).timestamp())
        for m in ("cpu_usage_ratio", "latency_p99_seconds")
    ]
    assert start_of(metrics) == ALERT - ALERT_LEAD  # nothing else: the alert's lead
    ongoing = ALERT - 3 * MINUTE
    metrics += [
        change("api", "error_ratio", ongoing, effect=1.0),
        change("api", "latency_p99_seconds", ongoing, effect=1.0),
    ]
    assert start_of(metrics) == ongoing - MINUTE
    # still going at the alert's lead: that episode is the onset again
    still = [replace(c, until=ALERT.timestamp()) for c in metrics[:2]]
    assert start_of(still + metrics[2:]) == earlier - MINUTE


def test_a_series_that_changed_again_has_the_onset_of_the_run_going_on_at_the_alert() -> None:
    """A series back to normal between two runs had two episodes: an earlier incident's run
    (9 to 5 minutes before the alert) is not what fires, neither when the series moves again
    after the alert (a blip: nothing places the start but the alert's lead) nor when its
    second run began before the alert (that run's onset is the start)."""
    earlier, back = ALERT - 9 * MINUTE, ALERT - 6 * MINUTE
    first_run = (earlier.timestamp(), back.timestamp())
    after = (ALERT + 2 * MINUTE).timestamp()
    metrics = [
        replace(change("mail", m, earlier, effect=5.0), episodes=(first_run, (after, None)))
        for m in ("cpu_usage_ratio", "latency_p99_seconds")
    ]
    assert start_of(metrics) == ALERT - ALERT_LEAD
    again = ALERT - 3 * MINUTE
    metrics = [replace(c, episodes=(first_run, (again.timestamp(), None))) for c in metrics]
    assert start_of(metrics) == again - MINUTE
    # one run from 9 minutes before the alert to the end: that run is what fires
    whole = [replace(c, episodes=((earlier.timestamp(), None),)) for c in metrics]
    assert start_of(whole) == earlier - MINUTE


def test_an_episode_over_does_not_promote_a_weaker_change_to_the_strongest() -> None:
    """The strongest changes are the candidates; one of them being over leaves fewer."""
    over = (ALERT - 5 * MINUTE).timestamp()
    past = [
        replace(change(f"old{i}", "cpu_usage", ALERT - 9 * MINUTE, effect=9.0), until=over)
        for i in range(TOP_CHANGES_FOR_ONSET)
    ]
    weak = change("noise", "syscall_reads", ALERT - 4 * MINUTE, effect=0.5)
    assert metric_onsets([*past, weak], (ALERT - ALERT_LEAD).timestamp()) == []
    assert len(metric_onsets([*past, weak])) == TOP_CHANGES_FOR_ONSET


def test_with_nothing_at_all_the_alert_s_lead_or_the_baseline_end() -> None:
    assert start_of() == ALERT - ALERT_LEAD
    assert start_of(where=scope(None)) == scope(None).baseline_end


# --- metric_onsets --------------------------------------------------------------------------


@pytest.mark.parametrize("step_s", [15.0, 60.0])
def test_a_metric_onset_is_one_step_before_the_first_changed_sample(step_s: float) -> None:
    first = ALERT - 4 * MINUTE
    c = change("api", "error_ratio", first, score=9.0, step_s=step_s)
    (found,) = metric_onsets([c])
    assert found.at == first.timestamp() - step_s
    assert found.resolution_s == step_s
    assert found.strength == pytest.approx(9.0**2 / 2)
    assert found.source == "metrics"
    assert "api" in found.what and "error_ratio" in found.what
    assert (found.before, found.after) == (c.baseline_median, c.incident_median)


def test_the_step_is_the_series_own_and_60_s_when_unknown() -> None:
    """The step comes from the series' samples (``SeriesChange.step``), not the points kept
    for display, which are downsampled on long windows."""
    c = change("api", "error_ratio", ALERT, step_s=30.0)
    (found,) = metric_onsets([c])
    assert found.resolution_s == 30
    (unknown,) = metric_onsets([replace(c, step=0.0)])
    assert unknown.resolution_s == 60 and unknown.at == ALERT.timestamp() - 60


def test_only_the_largest_own_changes_place_onsets() -> None:
    changes = [
        change(f"svc{i}", "error_ratio", ALERT - i * MINUTE, effect=float(i)) for i in range(1, 8)
    ]
    found = metric_onsets(changes)
    assert len(found) == TOP_CHANGES_FOR_ONSET
    assert {o.what for o in found} == {f"svc{i} error_ratio" for i in range(3, 8)}


@pytest.mark.parametrize(
    "metric", ["requests_per_second", "client_latency_p99_seconds", "node_cpu_usage"]
)
def test_traffic_callees_latency_and_the_host_place_no_onset(metric: str) -> None:
    assert metric_onsets([change("api", metric, ALERT, effect=9.0)]) == []


def test_a_change_of_no_effect_places_no_onset() -> None:
    assert metric_onsets([change("api", "error_ratio", ALERT, effect=0.0)]) == []
    assert metric_onsets([change("api", "error_ratio", None)]) == []


def test_onsets_are_utc_epoch_seconds() -> None:
    (found,) = metric_onsets([change("api", "error_ratio", ALERT)])
    assert datetime.fromtimestamp(found.at, UTC) == ALERT - MINUTE
