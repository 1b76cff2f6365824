"""How finely a share of failed requests is measured: one request's share of a sample.

A share of requests that failed (``error_ratio``; a call edge's ``call_failed_ratio``) moves in
steps of one request: in a sample of n requests, one failure is 1/n of it. Where the series was 0
through most of its baseline its spread (a MAD) is 0, and the noise a change is measured against
is the floor the scorer believes in (:func:`tools.analysis.change_scores.score_series`). A fixed
floor for every share (a percentage point) ignores how many requests a sample holds: at eight
requests a second a minute holds about 500, and ten failures a minute, sustained after twenty
minutes of none, is a new failure (2 % of requests, z = 10 against one request), which a
one-point floor scores 2, below notice. One request's share, from the rate of the same requests
(:data:`REQUESTS_OF`) and the series' sampling step, is the finer floor the measurement itself
sets where a sample holds more than a hundred requests.

Never a coarser one: in a sample of a few requests one failure is a large share, yet what the
scorer calls a change is failures sustained over several samples (a rolling median of three, its
second-highest point), which is evidence however few requests each sample holds. A floor of one
request hid every failure of calls made a few times a minute: TrainTicket's calls measured from
spans, ts-food-service's error returns on 2023-01-29 at 09:30 among them.

Only what a change's significance is measured against: how big it is (its effect, the doublings
that rank it) is still against the fixed floor, so a busy service's 0.05 % of failures, however
certain, stays a small change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tools.records import MetricSeries

# A share of failed requests → the rate of the requests it is a share of (rcabot's metric names:
# tools/bundle/FORMAT.md, the PromQL defaults, the importers). Both series carry the same
# service and labels, or the share is the service's and the rates are its instances'.
REQUESTS_OF: dict[str, str] = {
    "error_ratio": "requests_per_second",
    "call_failed_ratio": "call_requests_per_second",
}


def sampling_step(timestamps: Sequence[float] | np.ndarray) -> float:
    """Seconds between samples taken at ``timestamps`` (the median spacing); 0 when fewer
    than two."""
    if len(timestamps) < 2:
        return 0.0
    return float(np.median(np.diff(np.asarray(timestamps, dtype=float))))


def requests_of(share: MetricSeries, series: Sequence[MetricSeries]) -> list[MetricSeries]:
    """The series in ``series`` that count the requests ``share`` is a share of: the same
    service's rate of them with the share's labels, or, for a share of the whole service, each
    of its instances' (labels that include the share's). Empty for a metric not in
    :data:`REQUESTS_OF`."""
    wanted = REQUESTS_OF.get(share.metric)
    if wanted is None:
        return []
    labels = share.labels.items()
    same = [s for s in series if s.metric == wanted and s.service == share.service]
    exact = [s for s in same if s.labels == share.labels]
    return exact or [s for s in same if labels <= s.labels.items()]


def one_request(share: MetricSeries, requests: Sequence[MetricSeries]) -> float | None:
    """The share one request makes of a sample of ``share``: 1 / (the requests' typical rate,
    the median of each summed, × the share's sampling step). ``None`` when unknown (no rate,
    no traffic, a single sample)."""
    medians = [
        float(np.nanmedian(values))
        for r in requests
        if (values := np.asarray(r.values, dtype=float)).size and not np.isnan(values).all()
    ]
    per_sample = sum(medians) * sampling_step(share.timestamps)
    return 1.0 / per_sample if per_sample > 0 else None
