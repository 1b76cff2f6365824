"""Is a count different from normal, given how much of normal we saw? Exact tests, one place.

Every modality compares an incident period with a normal one, and the normal one is often thin
(a minute of traces before the start, three minutes of a reference phase). A ratio alone cannot
tell "3 errors where 0 were seen in 10 s" from "300 where 0 were seen in an hour"; these tests
can. Each modality then reports the *size* of a change (doublings) only when it is significant
at :data:`SIGNIFICANCE`, so a thin baseline yields "no evidence of change" rather than "new!".

- Two rates (log lines per minute in two periods): the exact conditional test for Poisson
  rates: given the total, the incident's share is binomial with the incident's share of time.
- Two shares (traces whose errors originate in a service, or fail there): Fisher's exact test,
  the hypergeometric tail of the incident's hits given both periods' totals (:func:`share_rose`),
  so a normal period counts as the sample it is. 9 failing traces of 138 against 0 of 62 is
  p ≈ 0.03: given 9 failures in all, each falls in the incident's 138 traces by chance with
  probability 0.69. Taking the normal share as known instead (0 of 62, smoothed to 0.008) would
  make it p ≈ 2e-6, and the fault-free phases Nezha recorded of TrainTicket hold exactly such
  bursts (6 to 8 "No instances available" errors in a minute of one service, none in the
  minute before), which that test called significant in 4 of the 6 TrainTicket splits and this
  one in none
  (``bench/false_findings.py``).
- Whether one of two normal periods is less healthy than the other (a reference that caught
  another incident): the binomial tail at the other period's share, smoothed with Jeffreys'
  prior (:func:`share_above`, half a success, so 0 out of 3 is not a share of exactly 0). It is
  quick to distrust on purpose: either period is a normal one, so doubt costs little, while
  keeping a faulty reference hides the fault it caught.
- Two samples of durations (the time on a call outside the callee's span): the one-sided
  Mann–Whitney U test. It assumes no distribution (latencies are skewed and multimodal) and
  asks whether incident values tend to be larger, so 8 calls whose median is twice a
  reference median of 4 ms are a change only if most of them are above most of the
  reference's, not because a median of 8 moved.
- Two shares where normal is itself a sample (the share of an operation's spans writing a
  line): the beta-binomial tail over the normal share's posterior (:func:`change_score`), so
  6 of 9 spans is taken as the uncertain estimate it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy.stats import betabinom, binom, hypergeom, mannwhitneyu

SIGNIFICANCE = 1e-3  # one false alarm per thousand series/templates/services compared
MAX_SCORE = 30.0  # -log10 p is capped here: beyond 1e-30 the number says nothing more


def smoothed_share(hits: int, total: int) -> float:
    """The share of ``hits`` in ``total`` with half a hit and half a miss of prior (Jeffreys)."""
    return (hits + 0.5) / (total + 1.0)


def share_rose(
    hits: int,
    total: int,
    normal_hits: int,
    normal_total: int,
    significance: float = SIGNIFICANCE,
) -> bool:
    """``hits`` of ``total`` is a significantly larger share than ``normal_hits`` of
    ``normal_total`` (Fisher's exact test, one-sided: the chance that ``hits`` or more of all
    the hits fall among the ``total`` by chance). No normal period: against an even share
    (nothing seen, no opinion)."""
    if total <= 0 or hits <= 0:
        return False
    if normal_total <= 0:
        return bool(binom.sf(hits - 1, total, smoothed_share(0, 0)) <= significance)
    everyone, hit = total + normal_total, hits + normal_hits
    return bool(hypergeom.sf(hits - 1, everyone, hit, total) <= significance)


def share_above(hits: int, total: int, normal_hits: int, normal_total: int) -> bool:
    """``hits`` of ``total`` is significantly more than the normal share, taken as known
    (smoothed), allows: the sensitive test, for choosing between two normal periods."""
    if total <= 0 or hits <= 0:
        return False
    p = smoothed_share(normal_hits, normal_total)
    return bool(binom.sf(hits - 1, total, p) <= SIGNIFICANCE)


def rate_rose(count: int, minutes: float, normal_count: int, normal_minutes: float) -> bool:
    """``count`` events in ``minutes`` is significantly more than ``normal_count`` in
    ``normal_minutes`` allows (exact conditional test; no normal period: not significant)."""
    if count <= 0 or minutes <= 0 or normal_minutes <= 0:
        return False
    total = count + normal_count
    share_of_time = minutes / (minutes + normal_minutes)
    return bool(binom.sf(count - 1, total, share_of_time) <= SIGNIFICANCE)


def values_rose(
    values: Sequence[float], normal: Sequence[float], significance: float = SIGNIFICANCE
) -> bool:
    """``values`` tend to be significantly larger than ``normal`` (one-sided Mann–Whitney U,
    p <= ``significance``; either sample empty: not significant)."""
    if not values or not normal:
        return False
    result = mannwhitneyu(values, normal, alternative="greater")
    return bool(result.pvalue <= significance)


def change_score(
    normal_with: int, normal_spans: int, incident_with: int, incident_spans: int
) -> float:
    """``-log10`` of the chance of ``incident_with`` or more extreme in ``incident_spans``, in
    the direction the share moved (P(X <= k) when it fell, P(X >= k) when it rose), when the
    normal share is what ``normal_with`` of ``normal_spans`` says of it: X is beta-binomial over
    the share's posterior under Jeffreys' prior, Beta(with + ½, without + ½). Capped at
    :data:`MAX_SCORE`; 0 when the share did not move."""
    if incident_spans <= 0 or normal_spans <= 0:
        return 0.0
    share, normal = incident_with / incident_spans, normal_with / normal_spans
    if share == normal:
        return 0.0
    expected = betabinom(incident_spans, normal_with + 0.5, normal_spans - normal_with + 0.5)
    if share > normal:
        tail = float(expected.sf(incident_with - 1))
    else:
        tail = float(expected.cdf(incident_with))
    return min(MAX_SCORE, -math.log10(max(tail, 10.0**-MAX_SCORE)))


def p_value_text(score: float) -> str:
    """A score of :func:`change_score` as the p-value it stands for: ``p ≈ 2e-05``, or
    ``p < 1e-30`` where the score is capped at :data:`MAX_SCORE`."""
    if score >= MAX_SCORE:
        return f"p < 1e-{MAX_SCORE:.0f}"
    return f"p ≈ {10**-score:.0e}"
