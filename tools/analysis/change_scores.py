"""Metric change detection: a robust z-score of every series against a baseline window.

For each series the baseline (samples before ``baseline_end``) gives a median and a MAD-based
spread; the evaluation samples (from ``baseline_end``) are smoothed with a rolling median of 3
and scored in the signal's *bad* direction (latency, errors, saturation up; traffic either way).
This is the N-Sigma / BARO-style detector used in RCA benchmarks, kept deliberately simple and
explainable: every score comes with the before/after figures an engineer would quote.

A share of failed requests is measured against one request's share of a sample where the
rate of those requests is known (:mod:`tools.analysis.request_shares`), not a fixed floor.

A *reference* series (the same metric, service and labels over a healthy period: a bundle's
``reference/``, an explicit window, the same window a day earlier) replaces the samples before
``baseline_end`` as the baseline when it has enough samples; the evaluation part is the same.

Scoring every series of a window, finding the processes that went away and ranking the changes
is :mod:`tools.analysis.change_rank`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from tools.analysis.metric_kinds import Direction, SignalGroup, classify, share_of_limit
from tools.analysis.request_shares import sampling_step
from tools.records import MetricSeries

Z_THRESHOLD = 3.0
Z_CAP = 50.0
MAX_POINTS = 100


def _floor(metric: str, median: float, resolution: float | None = None) -> float:
    """Smallest spread we believe in, so a flat baseline does not make every wiggle infinite:
    5 % of the level, at least a fixed one by unit, or the measurement's own step
    (``resolution``) where that is finer."""
    if metric.endswith("_ratio"):
        fixed = 0.01
    elif metric.endswith("_seconds"):
        fixed = 0.005
    else:
        fixed = 1e-9
    return max(0.05 * abs(median), fixed if resolution is None else min(fixed, resolution))


@dataclass(frozen=True, slots=True)
class SeriesChange:
    service: str
    metric: str
    group: SignalGroup
    direction: str  # the way it moved: "up" or "down"
    score: float  # robust z of the persistent peak, in the bad direction; 0 = normal
    baseline_median: float
    # the median of the samples past the threshold (their effect, below), and the level they
    # held as scored, told in words (the median of their rolling medians that way: _told_by)
    incident_median: float
    level: float
    peak: float
    peak_at: float  # epoch seconds
    onset: float | None  # first time the change persisted past the threshold
    points: tuple[tuple[float, float], ...]  # downsampled whole window, ≤ MAX_POINTS
    against_reference: bool = False  # the baseline is a reference period, not the samples before
    effect: float = 0.0  # how big, when significant: doublings in the bad direction (see below)
    step: float = 0.0  # seconds between samples (the median spacing); 0: unknown
    went_away: bool = False  # a fall of CPU or memory with the other: the process is gone
    # the last sample past the threshold when a later one was back within it; None: never
    # past it, or still past it at the last sample (not over, as far as the data goes)
    until: float | None = None
    # (onset, last sample past the threshold) of each run of samples past it, two at least;
    # the last of a run still past it at the last sample is None
    episodes: tuple[tuple[float, float | None], ...] = ()

    def episode_begun_by(self, at: float) -> tuple[float, float | None] | None:
        """The latest episode (:attr:`episodes`) begun by ``at``; None: none had begun. A
        series back within the threshold between two runs had two episodes: what goes on at
        ``at`` is the later one, begun by then, not the first."""
        begun = [e for e in self.episodes if e[0] <= at]
        return begun[-1] if begun else None

    def normal_after(self, last: float) -> float:
        """When the series was back within the threshold after a run whose last sample past
        it was ``last``: the next sample (one step later; 60 s when the step is unknown)."""
        return last + (self.step or 60.0)

    @property
    def normal_again(self) -> float | None:
        """When the series was back within the threshold after its last sample past it
        (``until``, :meth:`normal_after`). ``None``: not over."""
        return None if self.until is None else self.normal_after(self.until)

    def over_before(self, at: float) -> bool:
        """Whether the change was over by ``at`` (:attr:`normal_again`). A past episode, not
        what goes on at ``at``: an earlier incident in the window, a deploy's warm-up."""
        back = self.normal_again
        return back is not None and back <= at

    def going_on(self, at: float) -> bool:
        """Whether the change is significant (robust z at :data:`Z_THRESHOLD` or more) and not
        over by ``at`` (:meth:`over_before`): part of what goes on at ``at``."""
        return self.score >= Z_THRESHOLD and not self.over_before(at)

    @property
    def relative_change(self) -> float | None:
        if self.baseline_median == 0:
            return None
        return (self.incident_median - self.baseline_median) / abs(self.baseline_median)


def _rolling_median3(values: np.ndarray) -> np.ndarray:
    if len(values) < 3:
        return values
    padded = np.concatenate([values[:1], values, values[-1:]])
    stacked = np.stack([padded[:-2], padded[1:-1], padded[2:]])
    return np.asarray(np.median(stacked, axis=0))


def downsample(
    ts: np.ndarray, vs: np.ndarray, limit: int = MAX_POINTS
) -> tuple[tuple[float, float], ...]:
    """At most ``limit`` points: bucket means, keeping each bucket's max to preserve spikes."""
    if len(ts) <= limit:
        return tuple(zip(ts.tolist(), vs.tolist(), strict=True))
    edges = np.linspace(0, len(ts), limit + 1).astype(int)
    out = []
    for lo, hi in itertools.pairwise(edges):
        if hi > lo:
            out.append((float(ts[lo]), float(np.max(vs[lo:hi]))))
    return tuple(out)


MIN_BASELINE = 3  # samples


def _values(series: MetricSeries) -> tuple[np.ndarray, np.ndarray]:
    ts = np.asarray(series.timestamps, dtype=float)
    vs = np.asarray(series.values, dtype=float)
    keep = ~np.isnan(vs)
    return ts[keep], vs[keep]


def _spread(values: np.ndarray) -> float:
    """The robust standard deviation of ``values``: 1.4826 × their median absolute deviation."""
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def after_an_episode(
    base: np.ndarray,
    settled: np.ndarray,
    bad: Direction,
    metric: str,
    resolution: float | None = None,
) -> bool:
    """Whether the baseline ``base`` held an earlier episode, by the samples ``settled``
    between its end and the incident's start: its median is a significant change in the
    trouble direction ``bad`` even from the worst of them, against their spread. The samples
    before an alert are normal only if the service was healthy then; where faults follow each
    other (a flapping incident, a fault injected every eight minutes), a CPU at its limit for
    seven of the baseline's ten minutes makes 82 % normal, and the next fault's 100 % no change
    (OnlineBoutique 2022-08-22 04:10). Only a baseline *worse* than what followed is found:
    samples before the start worse than the baseline are the incident beginning early (a start
    placed late), and keep it.
    The baseline's median is measured from the *worst* settled sample, not their median: a
    series that flips between two levels (a pool of 20 connections, 4 or 5 in use) has its
    median at either and no spread about it in any stretch of it, and five samples of a noisy
    one (ts-train-service's CPU, spikes to five times its median) can have a spread of nearly
    nothing; neither held an episode, and the next sample as bad as the worst of them is no
    change either."""
    if bad is Direction.BOTH or len(settled) < MIN_BASELINE:
        return False
    sign = 1.0 if bad is Direction.UP else -1.0
    worst = float(np.max(sign * settled))
    noise = max(_spread(settled), _floor(metric, float(np.median(settled)), resolution))
    return (sign * float(np.median(base)) - worst) / noise >= Z_THRESHOLD


def score_series(
    series: MetricSeries,
    baseline_end: float,
    reference: MetricSeries | None = None,
    bad: Direction | None = None,
    resolution: float | None = None,
    incident_start: float | None = None,
    noise_floor: float = 0.0,
) -> SeriesChange | None:
    """Score one series; ``None`` if it has too little baseline or evaluation data. The
    baseline is ``reference`` when it has at least :data:`MIN_BASELINE` samples, else the
    samples before ``baseline_end``; a reference with fewer samples than those is pooled with
    them: it is evidence of normal, not all of it (the three samples of a Nezha fault-free phase,
    hours earlier at another load, give no spread and a level the day has moved from).
    ``bad``: score this direction instead of the metric's trouble direction (:func:`classify`).
    ``resolution``: the smallest step the series measures (one request's share of a sample, for
    a share of failed requests: :mod:`tools.analysis.request_shares`); significance is measured
    against it instead of the fixed floor, the size of the change (its effect) is not.
    ``incident_start``: when known, the samples between ``baseline_end`` and it replace a
    baseline that held an earlier episode (:func:`after_an_episode`).
    ``noise_floor``: a spread the series has that its own baseline samples do not show (a
    difference of two estimates, clipped at 0, hides how much the two disagree when healthy:
    :func:`tools.analysis.call_edges.disagreement`)."""
    ts, vs = _values(series)
    base, evaluation = vs[ts < baseline_end], vs[ts >= baseline_end]
    eval_ts = ts[ts >= baseline_end]
    normal = _values(reference)[1] if reference is not None else np.empty(0)
    against_reference = len(normal) >= MIN_BASELINE
    if against_reference:
        # a reference thinner than the samples before the incident is more of normal, not all
        base = np.concatenate([normal, base]) if len(base) > len(normal) else normal
    if len(base) < MIN_BASELINE or len(evaluation) < 1:
        return None
    group, usual = classify(series.metric)
    bad = bad or usual
    if incident_start is not None and not against_reference:
        settled, later = vs[(ts >= baseline_end) & (ts < incident_start)], ts >= incident_start
        if later.any() and after_an_episode(base, settled, bad, series.metric, resolution):
            base, evaluation, eval_ts = settled, vs[later], ts[later]
    median, base_spread = float(np.median(base)), _spread(base)
    spread = max(base_spread, _floor(series.metric, median), noise_floor)
    noise = max(base_spread, _floor(series.metric, median, resolution), noise_floor)
    level = _rolling_median3(evaluation)
    z = (level - median) / noise
    if bad is Direction.UP:
        directional = z
    elif bad is Direction.DOWN:
        directional = -z
    else:
        directional = np.abs(z)
    # the second-highest point: one stray sample is not a change
    persistent = np.sort(directional)[-2] if len(directional) >= 2 else directional[0]
    score = float(min(max(persistent, 0.0), Z_CAP))
    peak_index = int(np.argmax(directional))
    above = directional >= Z_THRESHOLD
    episodes = _episodes(eval_ts, above)
    onset = episodes[0][0] if episodes else None
    incident_median = (
        float(np.median(evaluation[above])) if above.any() else float(np.median(evaluation))
    )
    rose, told, peak, peak_at = _told_by(eval_ts, evaluation, level, z, above, peak_index)
    last = int(np.flatnonzero(above)[-1]) if above.any() else len(above) - 1
    until = float(eval_ts[last]) if last < len(above) - 1 else None
    effect = 0.0
    if score >= Z_THRESHOLD:
        effect = _effect(median, incident_median, spread, bad)
        if bad is Direction.UP and share_of_limit(series.metric):
            effect = max(effect, _headroom_effect(median, incident_median, spread))
    return SeriesChange(
        service=series.service,
        metric=series.metric,
        group=group,
        direction="up" if rose else "down",
        score=score,
        baseline_median=median,
        incident_median=incident_median,
        level=told,
        peak=peak,
        peak_at=peak_at,
        onset=onset,
        points=downsample(ts, vs),
        against_reference=against_reference,
        effect=effect,
        step=sampling_step(ts),
        until=until,
        episodes=episodes,
    )


def _told_by(
    ts: np.ndarray,
    values: np.ndarray,
    level: np.ndarray,
    z: np.ndarray,
    above: np.ndarray,
    peak: int,
) -> tuple[bool, float, float, float]:
    """Which way a change moved and the figures it is told by, the values its score rests on
    (:func:`_rolling_median3`, each held by two samples of three): its level past the threshold
    that way (the median of those levels), its peak (the level at ``peak``) and the time of
    the sample holding that. A series that jumps between 25 ms and 490 ms from one sample to
    the next (ts-order-service's p99 on Nezha TrainTicket) is past the threshold where two
    samples of three are high; the low sample between them, or the median of the raw samples
    there, would tell its rise as "85 ms → 25 ms". A series scored both ways (traffic) is told
    by its levels past the threshold the way its peak moved: a fall and a rise in one window
    are not averaged into a level that moved neither way. Nothing past the threshold: the
    median level."""
    rose = bool(z[peak] >= 0)
    way = above & ((z >= 0) if rose else (z < 0))
    told = float(np.median(level[way])) if way.any() else float(np.median(level))
    near = range(max(peak - 1, 0), min(peak + 2, len(values)))
    holder = min(near, key=lambda i: (bool(values[i] != level[peak]), abs(i - peak)))
    return rose, told, float(level[peak]), float(ts[holder])


def _episodes(ts: np.ndarray, above: np.ndarray) -> tuple[tuple[float, float | None], ...]:
    """The runs of two or more samples past the threshold: (first, last) times, the last
    None for a run that reaches the last sample."""
    runs = []
    for past, group in itertools.groupby(enumerate(above.tolist()), key=lambda x: bool(x[1])):
        indices = [i for i, _ in group]
        if past and len(indices) >= 2:
            end = indices[-1]
            runs.append((float(ts[indices[0]]), float(ts[end]) if end < len(above) - 1 else None))
    return tuple(runs)


def _effect(baseline: float, incident: float, spread: float, bad: Direction) -> float:
    """The size of a change, apart from its significance: doublings (log2 of the ratio of the
    incident level to the baseline level, each offset by the series' noise) in the direction
    that means trouble. The z-score says a change is real; this says whether it matters: a
    CPU share going from 0.3 % to 0.6 % of a core can be as significant as one going from 3 %
    to 100 %, but only the second is a fault. The noise offset keeps a change from a level
    near zero finite, and as large as the change is against that noise."""
    doublings = math.log2((abs(incident) + spread) / (abs(baseline) + spread))
    if bad is Direction.UP:
        return max(doublings, 0.0)
    if bad is Direction.DOWN:
        return max(-doublings, 0.0)
    return abs(doublings)


def _headroom_effect(baseline: float, incident: float, spread: float) -> float:
    """Doublings by which the headroom under a limit shrank (1 − the share used, each offset by
    the series' noise): what a share of a limit does to the service grows with 1 / headroom,
    not with the share. A request waits for a CPU busy a share ρ of the time about ρ / (1 − ρ)
    of its own run time (a single-server queue), and a collected heap whose live data fills a
    share ρ is collected about 1 / (1 − ρ) times as often as an empty one. CPU going from 53 %
    to 87 % of its limit is 0.7 doublings of use but 1.9 of headroom: the wait for the CPU
    about quadrupled (OnlineBoutique 2022-08-23 13:27, currencyservice's CPU contention, its
    spans late to start). Far from the limit use tells more (5 % → 10 %: one doubling of use, a
    tenth of one of headroom); the larger of the two is the change's effect."""
    before = max(1.0 - baseline, 0.0) + spread
    after = max(1.0 - incident, 0.0) + spread
    return max(math.log2(before / after), 0.0)
