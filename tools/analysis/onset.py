"""When did the incident start? Single change points in per-bucket series, and the earliest
onset that more than one signal agrees on.

A metric's first persistent change is often minutes early (a noisy series, a 1-minute step),
and every tool that splits its data at the incident start inherits the error: its "before" is
empty or already faulty. Logs and traces have their own, finer clocks, so each series here gets
one question: *is there a time after which it runs higher, and how sure is that?*

* Counts (ERROR log lines per bucket): a Poisson rate that steps up once. The strength is the
  log-likelihood ratio of the best split against no split, divided by the series'
  overdispersion (quasi-Poisson): log lines come in bursts (one exception, one stack trace, many
  lines), and under a plain Poisson model a single burst looks like a sure change.
* Shares (traces with an error among those sampled per bucket): a binomial proportion that
  steps up once, with the same overdispersion correction. Sample sizes per bucket may differ,
  which a count of erroring traces would confuse with a change.
* Levels (median entry-span latency per bucket): a Gaussian mean that shifts up once, on log
  values by default (latency grows by factors, not by milliseconds), with a pooled variance
  floored at :data:`RELATIVE_NOISE_FLOOR` so that near-constant synthetic series do not give
  infinite certainty.

Only increases count: errors, error shares and latency that fall are not how incidents start.

:func:`consistent_onset` then places the start: a fault shows in more than one signal at about
the same time, while a lone noisy series does not place it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

# 2·LLR of one change at a fixed split is χ²(1) without a change; χ²(1) exceeds 10.83 with
# probability 0.001. The best of all splits is tried, so the false-alarm chance of one flat
# series is higher: about 1-2 % (simulated flat Poisson, binomial and log-normal series of 100
# and 300 buckets), which the cross-signal confirmation in consistent_onset absorbs.
CHI2_1_AT_P001 = 10.828
MIN_STRENGTH = CHI2_1_AT_P001 / 2  # ≈ 5.41, a log-likelihood ratio
RELATIVE_NOISE_FLOOR = 0.1  # σ of a level never below 10 % of it (0.1 on a log scale)
MIN_SEGMENT = 3  # buckets (with data) on each side of a change
WEAK_STRENGTH = 1.0  # an LLR of 1: the data e times likelier with the change than without


@dataclass(frozen=True, slots=True)
class Onset:
    """One series' change point."""

    at: float  # epoch seconds: start of the first bucket of the changed segment
    source: str  # "metrics" | "logs" | "traces"
    what: str  # "ERROR log lines (all services)", "entry-span latency", ...
    before: float  # level before, in ``unit``
    after: float  # level after, in ``unit``
    unit: str  # "/min", "s", "share"
    strength: float  # log-likelihood ratio (natural log) of a change at ``at`` vs none
    resolution_s: float  # bucket width (a metric's step for metrics)
    # the part of its source's records the series is made of (the calls into one service, the
    # entry spans, one service's ERROR lines); "": all of them, or a part that other series of
    # the source share (see :func:`independent`)
    records: str = ""


def independent(a: Onset, b: Onset) -> bool:
    """Whether ``a`` and ``b`` are separate evidence: from different sources, or series of one
    source made of different, named parts of its records (the spans into one service and the
    entry spans: no record counts in both, so a chance run in one is not one in the other).
    A series of all the source's records (all ERROR lines, all traces' error share) contains
    every part, and two per-service shares of failing traces share the traces that fail in
    both: neither is separate evidence for the other."""
    if a.source != b.source:
        return True
    return bool(a.records) and bool(b.records) and a.records != b.records


def count_change_point(
    starts: Sequence[float],
    counts: Sequence[int],
    resolution_s: float,
    *,
    min_segment: int = MIN_SEGMENT,
) -> tuple[float, float, float, float] | None:
    """The single upward change of a Poisson rate that explains ``counts`` best.

    Returns ``(at, strength, rate_before_per_min, rate_after_per_min)``: ``at`` is the start of
    the first bucket after the change, ``strength`` the log-likelihood ratio of that split
    against a constant rate divided by the overdispersion (Pearson χ² per degree of freedom of
    the two-rate fit, at least 1). A segment of zeros is a rate of 0 (``0·log 0 = 0``): the
    ratio stays finite. ``None`` with fewer than ``2·min_segment`` buckets, no count at all, or
    no split after which the rate is higher. Buckets need not be contiguous (gaps in the data
    are left out by the caller), but all are ``resolution_s`` wide.
    """
    c = np.asarray(counts, dtype=np.float64)
    n = len(c)
    if n < 2 * min_segment or len(starts) != n or c.sum() <= 0:
        return None
    splits = np.arange(min_segment, n - min_segment + 1)
    cumulative = np.concatenate(([0.0], np.cumsum(c)))
    total = cumulative[-1]
    s1, s2 = cumulative[splits], total - cumulative[splits]
    n1, n2 = splits.astype(np.float64), n - splits.astype(np.float64)
    r1, r2 = s1 / n1, s2 / n2
    llr = _xlogy(s1, r1) + _xlogy(s2, r2) - _xlogy(np.array(total), np.array(total / n))
    llr = np.where(r2 > r1, llr, -np.inf)
    best = int(np.argmax(llr))
    if not np.isfinite(llr[best]):
        return None
    k = int(splits[best])
    dispersion = _dispersion(
        _pearson_poisson(c[:k], r1[best]) + _pearson_poisson(c[k:], r2[best]), n
    )
    per_minute = 60.0 / resolution_s
    return (
        float(starts[k]),
        float(llr[best]) / dispersion,
        float(r1[best]) * per_minute,
        float(r2[best]) * per_minute,
    )


def share_change_point(
    starts: Sequence[float],
    hits: Sequence[int],
    totals: Sequence[int],
    *,
    min_segment: int = MIN_SEGMENT,
) -> tuple[float, float, float, float] | None:
    """The single upward change of a binomial share (``hits`` of ``totals`` per bucket).

    Returns ``(at, strength, share_before, share_after)`` as :func:`count_change_point` does,
    with the binomial log-likelihood ratio and overdispersion. Buckets with no trial are left
    out; ``min_segment`` counts the buckets that have one.
    """
    k_all = np.asarray(hits, dtype=np.float64)
    n_all = np.asarray(totals, dtype=np.float64)
    keep = n_all > 0
    k, n = k_all[keep], n_all[keep]
    times = [float(t) for t, kept in zip(starts, keep, strict=True) if kept]
    m = len(k)
    if m < 2 * min_segment or k.sum() <= 0:
        return None
    splits = np.arange(min_segment, m - min_segment + 1)
    ck = np.concatenate(([0.0], np.cumsum(k)))
    cn = np.concatenate(([0.0], np.cumsum(n)))
    k1, n1 = ck[splits], cn[splits]
    k2, n2 = ck[-1] - k1, cn[-1] - n1
    p1, p2, p0 = k1 / n1, k2 / n2, ck[-1] / cn[-1]
    llr = _binomial_loglik(k1, n1, p1) + _binomial_loglik(k2, n2, p2)
    llr = llr - _binomial_loglik(ck[-1], cn[-1], p0)
    llr = np.where(p2 > p1, llr, -np.inf)
    best = int(np.argmax(llr))
    if not np.isfinite(llr[best]):
        return None
    s = int(splits[best])
    chi2 = _pearson_binomial(k[:s], n[:s], p1[best]) + _pearson_binomial(k[s:], n[s:], p2[best])
    return (times[s], float(llr[best]) / _dispersion(chi2, m), float(p1[best]), float(p2[best]))


def level_change_point(
    starts: Sequence[float],
    values: Sequence[float | None],
    resolution_s: float,
    *,
    min_segment: int = MIN_SEGMENT,
    log_scale: bool = True,
) -> tuple[float, float, float, float] | None:
    """The single upward shift of the mean of per-bucket ``values`` (``None``/NaN skipped;
    on a log scale, values that are not positive too).

    Gaussian with one variance pooled from both segments and floored at
    :data:`RELATIVE_NOISE_FLOOR` (of the level; on a log scale, 0.1 itself, i.e. about 10 %).
    The strength is ``n₁n₂/n · (μ₂ − μ₁)² / 2σ²``, the log-likelihood ratio of two means
    against one. Returns ``(at, strength, level_before, level_after)``, the levels in the
    values' unit (on a log scale, geometric means), or ``None``. ``resolution_s`` is the bucket
    width, kept for symmetry with :func:`count_change_point`: a level is not a rate.
    """
    del resolution_s
    times: list[float] = []
    kept: list[float] = []
    for moment, value in zip(starts, values, strict=True):
        if value is None or not math.isfinite(value) or (log_scale and value <= 0):
            continue
        times.append(float(moment))
        kept.append(math.log(value) if log_scale else float(value))
    m = len(kept)
    if m < 2 * min_segment:
        return None
    x = np.asarray(kept, dtype=np.float64)
    floor = RELATIVE_NOISE_FLOOR * (1.0 if log_scale else float(np.mean(np.abs(x))))
    splits = np.arange(min_segment, m - min_segment + 1)
    cx = np.concatenate(([0.0], np.cumsum(x)))
    cxx = np.concatenate(([0.0], np.cumsum(x * x)))
    n1, n2 = splits.astype(np.float64), m - splits.astype(np.float64)
    mu1, mu2 = cx[splits] / n1, (cx[-1] - cx[splits]) / n2
    within = (cxx[splits] - n1 * mu1**2) + (cxx[-1] - cxx[splits] - n2 * mu2**2)
    variance = np.maximum(np.maximum(within, 0.0) / max(m - 2, 1), max(floor, 1e-12) ** 2)
    llr = n1 * n2 / m * (mu2 - mu1) ** 2 / (2 * variance)
    llr = np.where(mu2 > mu1, llr, -np.inf)
    best = int(np.argmax(llr))
    if not np.isfinite(llr[best]):
        return None
    before, after = float(mu1[best]), float(mu2[best])
    if log_scale:
        before, after = math.exp(before), math.exp(after)
    return times[int(splits[best])], float(llr[best]), before, after


def consistent_onset(
    onsets: Sequence[Onset],
    *,
    not_before: float,
    not_after: float,
    min_strength: float = MIN_STRENGTH,
    confirmed_only: bool = False,
    strongest_single: bool = True,
) -> Onset | None:
    """The incident start: the earliest *confirmed* onset in ``[not_before, not_after]``.

    "Consistent": a fault shows in more than one signal at about the same time (errors in the
    logs and in the traces, latency in the traces and in a metric), while a lone noisy series
    does not place the start. An onset is a candidate when it lies in the range and is strong
    enough (``strength >= min_strength``; the default :data:`MIN_STRENGTH` ≈ 5.4 is the
    log-likelihood ratio whose χ²(1) p-value, for ``2·LLR``, is 0.001). A candidate is
    confirmed by another strong onset (in the range or not) that is separate evidence
    (:func:`independent`: another source, or a series of the same source over other records,
    as the calls into two services are) within
    ``tolerance = max(r₁, r₂) + min(r₁, r₂)`` seconds of it, ``r`` being the two resolutions:
    each onset is placed to within its own bucket, so two placements of one change can differ
    by up to both widths. When the strong onsets in the range come from a single source,
    another series of that source (a different ``what``) confirms instead; that is weaker
    evidence (one service's ERROR lines are part of all services' ERROR lines), hence only the
    fallback. A candidate confirmed by a finer onset (seconds of traces against a minute of a
    metric) is placed at the finer one's time. Failing that, two weaker onsets of different
    sources that agree in time and together are strong enough (:func:`_agreeing_pair`). With
    none: the strongest candidate; with no candidate: ``None``.

    ``confirmed_only``: only an onset separate evidence confirms (no confirmation by a series
    over the same or containing records, no strongest-single fallback). For when several
    modalities were looked at: if the finer ones (logs, traces at seconds) show no change that
    a coarse one (a 1-minute metric) confirms, one metric's onset is as likely a noisy series
    as the incident.

    ``strongest_single=False``: no strongest-single fallback, same-source confirmation still
    allowed (metrics only: two series that agree place the start, one alone does not).
    """
    strong = [o for o in onsets if o.strength >= min_strength]
    candidates = sorted(
        (o for o in strong if not_before <= o.at <= not_after), key=lambda o: (o.at, -o.strength)
    )
    if not candidates:
        return _agreeing_pair(onsets, not_before, not_after, min_strength)
    one_source = len({o.source for o in candidates}) == 1 and not confirmed_only

    def confirms(other: Onset, onset: Onset) -> bool:
        if other is onset:
            return False
        if one_source:
            differs = other.source != onset.source or other.what != onset.what
        else:
            differs = independent(other, onset)
        tolerance = max(other.resolution_s, onset.resolution_s) + min(
            other.resolution_s, onset.resolution_s
        )
        return differs and abs(other.at - onset.at) <= tolerance

    for onset in candidates:
        confirming = [other for other in strong if confirms(other, onset)]
        if confirming:
            # the same change seen twice: the finer of the two places it better
            return _placed(onset, confirming, not_before, not_after)
    agreeing = _agreeing_pair(onsets, not_before, not_after, min_strength)
    if agreeing is not None:
        return agreeing
    if confirmed_only or not strongest_single:
        return None
    return max(candidates, key=lambda o: (o.strength, -o.at))


def _agreeing_pair(
    onsets: Sequence[Onset], not_before: float, not_after: float, min_strength: float
) -> Onset | None:
    """The earliest onset that one from another source places at the same time (within both
    resolutions) with their strengths together reaching ``min_strength``, each at least
    :data:`WEAK_STRENGTH`: independent evidence adds up in log-likelihood, so two modalities
    that each saw a modest change at the same moment saw the incident. Each counts at most
    ``min_strength`` (a huge z of one noisy metric must not carry a coincidental blip)."""
    weak = sorted(
        (o for o in onsets if o.strength >= WEAK_STRENGTH), key=lambda o: (o.at, -o.strength)
    )
    for onset in weak:
        if not not_before <= onset.at <= not_after:
            continue
        for other in weak:
            tolerance = max(other.resolution_s, onset.resolution_s) + min(
                other.resolution_s, onset.resolution_s
            )
            together = min(onset.strength, min_strength) + min(other.strength, min_strength)
            if (
                other.source != onset.source
                and abs(other.at - onset.at) <= tolerance
                and together >= min_strength
            ):
                return _placed(onset, [other], not_before, not_after)
    return None


def _placed(
    onset: Onset, confirming: Sequence[Onset], not_before: float, not_after: float
) -> Onset:
    """The same change seen more than once: the finest placement of it within the range."""
    finer = [
        o
        for o in confirming
        if o.resolution_s < onset.resolution_s and not_before <= o.at <= not_after
    ]
    return min(finer, key=lambda o: (o.resolution_s, o.at)) if finer else onset


def _xlogy(x: Floats, y: Floats) -> Floats:
    """``x·log y`` with ``0·log 0 = 0``."""
    return np.where(x > 0, x * np.log(np.where(y > 0, y, 1.0)), 0.0)


def _binomial_loglik(k: Floats, n: Floats, p: Floats) -> Floats:
    return _xlogy(k, p) + _xlogy(n - k, 1.0 - p)


def _pearson_poisson(counts: Floats, rate: float) -> float:
    return float(np.sum((counts - rate) ** 2) / rate) if rate > 0 else 0.0


def _pearson_binomial(hits: Floats, totals: Floats, share: float) -> float:
    if not 0.0 < share < 1.0:
        return 0.0
    return float(np.sum((hits - totals * share) ** 2 / (totals * share * (1.0 - share))))


def _dispersion(pearson_chi2: float, buckets: int) -> float:
    """Quasi-likelihood dispersion of a two-segment fit: χ²/dof, never below 1."""
    return max(1.0, pearson_chi2 / max(buckets - 2, 1))
