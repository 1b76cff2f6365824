"""Where in a run of yes/no outcomes a change began: the Bernoulli CUSUM change point.

A log line an operation stops writing when an exception is injected stops *at* the injection,
which the incident start only approximates: it comes from other signals, at their resolution,
and on the Nezha day ts-travel2-service kept writing its line for 70 s after the start the
logs and traces placed (11 of 11 spans before, 11 of 26 after the start, 0 of the last 15).
The size of such a change is the share since it began, not the share over a window that mixes
before and after. The point is where the log-likelihood ratio of the outcomes from there on,
at their own share, against the normal share is largest (Page's CUSUM, with the end fixed at
the last outcome); the run must be long enough to be a share at all. Whether there is a change
is decided elsewhere, on the whole incident, so choosing the point does not make one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def run_start(outcomes: Sequence[bool], normal: float, min_run: int) -> int:
    """Index of the first outcome of the final run (at least ``min_run`` long, or the whole
    sequence when it is shorter) least like ``normal`` (the share of ``True`` in normal
    times, strictly between 0 and 1). The earliest such run wins ties."""
    if not 0.0 < normal < 1.0:
        raise ValueError(f"normal share must be strictly between 0 and 1, got {normal}")
    n = len(outcomes)
    if n <= min_run:
        return 0
    suffix = [0] * (n + 1)  # True outcomes from each position on
    for k in range(n - 1, -1, -1):
        suffix[k] = suffix[k + 1] + bool(outcomes[k])
    best, start = -math.inf, 0
    for k in range(n - min_run + 1):
        ratio = log_likelihood_ratio(suffix[k], n - k, normal)
        if ratio > best:
            best, start = ratio, k
    return start


def log_likelihood_ratio(hits: int, total: int, normal: float) -> float:
    """``hits`` of ``total`` at their own share against share ``normal``: how much better
    their own share explains them (0 when it is ``normal``)."""
    share = hits / total
    out = hits * math.log(share / normal) if hits else 0.0
    if total > hits:
        out += (total - hits) * math.log((1 - share) / (1 - normal))
    return out
