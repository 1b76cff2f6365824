"""A window's metric changes ranked: every series scored against its counterpart in the
reference (:func:`tools.analysis.change_scores.score_series`), the falls of processes that went
away added, most important first (:func:`importance`).

How one series is scored (its robust z-score, effect, episodes) is
:mod:`tools.analysis.change_scores`; this module judges and orders the scored changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from tools.analysis.change_scores import SeriesChange, score_series
from tools.analysis.metric_kinds import Direction, SignalGroup, classify
from tools.analysis.request_shares import REQUESTS_OF, one_request, requests_of
from tools.records import MetricSeries


def series_key(series: MetricSeries) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """What identifies a series across periods: metric, service and labels."""
    return series.metric, series.service, tuple(sorted(series.labels.items()))


def score_all(
    series: list[MetricSeries],
    baseline_end: float,
    reference: Sequence[MetricSeries] = (),
    incident_start: float | None = None,
) -> list[SeriesChange]:
    """Every scorable series, most anomalous first; each against its counterpart in
    ``reference`` where that has enough samples (see :func:`score_series`): the series with the
    same labels, else every reference series of that metric and service pooled (instances are
    renamed between periods: a pod restarted since yesterday). ``incident_start``: see
    :func:`score_series`."""
    exact = {series_key(s): s for s in reference}
    pooled: dict[tuple[str, str], list[MetricSeries]] = {}
    for s in reference:
        pooled.setdefault((s.metric, s.service), []).append(s)

    def counterpart(s: MetricSeries) -> MetricSeries | None:
        found = exact.get(series_key(s))
        if found is not None:
            return found
        group = pooled.get((s.metric, s.service), [])
        if not group:
            return None
        samples = sorted(p for r in group for p in zip(r.timestamps, r.values, strict=True))
        return MetricSeries.of_samples(s.metric, s.service, samples)

    def resolution(s: MetricSeries) -> float | None:
        return one_request(s, requests_of(s, series)) if s.metric in REQUESTS_OF else None

    scored = [
        c
        for s in series
        if (
            c := score_series(
                s,
                baseline_end,
                counterpart(s),
                resolution=resolution(s),
                incident_start=incident_start,
            )
        )
        is not None
    ]
    scored += went_away(series, baseline_end, counterpart, incident_start)
    scored.sort(key=importance)
    return scored


GONE_DOUBLINGS = 2.0  # CPU and memory each under a quarter of normal
_PROCESS = (SignalGroup.CPU, SignalGroup.MEMORY)


def fell_to_a_quarter(change: SeriesChange) -> bool:
    """The series fell to under a quarter of its normal median (:data:`GONE_DOUBLINGS`
    halvings): towards nothing, not a smaller load. A fall's robust z alone says how sure, not
    how far: against a reference of three samples a 37 % fall of ts-contacts-service's system
    calls scored z ≥ 10 and had read as a dependency outage."""
    return change.incident_median * 2**GONE_DOUBLINGS < change.baseline_median


def went_away(
    series: Sequence[MetricSeries],
    baseline_end: float,
    counterpart: Callable[[MetricSeries], MetricSeries | None] = lambda _: None,
    incident_start: float | None = None,
) -> list[SeriesChange]:
    """The falls of services whose process went away: CPU *and* memory each fell, significantly,
    to under a quarter of normal (:data:`GONE_DOUBLINGS`), scored downwards (``went_away``).

    A service its callers stopped calling idles: its CPU falls, its memory stays (a live
    process keeps its heap and caches). A process that crashed, crash-loops or was killed
    leaves both near nothing. A restarted one warms up on more CPU, not less. Neither fall
    alone says it, so neither counts alone."""
    falls: dict[str, dict[SignalGroup, SeriesChange]] = {}
    for s in series:
        group, _ = classify(s.metric)
        if group not in _PROCESS:
            continue
        fall = score_series(
            s, baseline_end, counterpart(s), bad=Direction.DOWN, incident_start=incident_start
        )
        if fall is None or fall.effect < GONE_DOUBLINGS:
            continue
        kept = falls.setdefault(s.service, {})
        if group not in kept or fall.effect > kept[group].effect:
            kept[group] = fall
    return [
        replace(fall, went_away=True)
        for by_group in falls.values()
        if len(by_group) == len(_PROCESS)
        for fall in by_group.values()
    ]


TIERS = {SignalGroup.TRAFFIC: 1, SignalGroup.DOWNSTREAM: 1, SignalGroup.NODE: 2}


def importance(change: SeriesChange) -> tuple[bool, int, float, float, str]:
    """Sort key, most important first: how big a significant change is (its effect), then how
    significant; the service's own signals first, then what moves with any symptom (traffic,
    the latency of the calls it makes), then its host's figures (shared by the host's pods)."""
    tier = TIERS.get(change.group, 0)
    unchanged = change.effect <= 0  # not significant: after every change, whatever its group
    return (unchanged, tier, -change.effect, -change.score, change.service + change.metric)
