"""Calls between services from metrics alone: each call edge compared with normal.

Many teams have no traces to hand but do have the *service graph* in Prometheus: the OpenTelemetry
Collector's ``servicegraph`` connector and Tempo's metrics-generator count the calls between
every client and server (``traces_service_graph_request_total{client, server}``, its failures,
and the call's duration as each side measured it); a service mesh (Istio's
``istio_request_duration_milliseconds{reporter="source"|"destination"}``,
``tools/prometheus/service_graphs.py``) has the same figures.
A bundle carries them as series of the client labelled with the ``server`` they call
(``tools/bundle/FORMAT.md``). Per edge they say what a service's own series cannot:

- **time on the call that neither side spent** (the client's median duration less the
  server's): the network or a queue on that edge, where a slow link shows and the server's own
  latency does not. Medians, not means (sum / count): one call stalled for a second moves a
  mean of a few calls tenfold, and on TrainTicket's traces turned into a service graph, means
  read as slow links on many edges where medians saw none;
- **failed calls**, counted at the client: the server's failures, or the link's when the server
  answered everything it got as well as before (calls lost on the way, or refused);
- **who calls whom**, so a caller that only waits on a callee can be told from the callee.

Each edge series is scored against normal exactly as every metric is
(:func:`tools.analysis.change_scores.score_series`: robust z against the reference, else the
samples before the start; size in doublings). The ranking reads these as it reads the same
facts measured from spans (``bot.investigation.signals``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tools.analysis.change_scores import MIN_BASELINE, Z_THRESHOLD, SeriesChange, score_series
from tools.analysis.metric_kinds import Direction
from tools.analysis.request_shares import REQUESTS_OF, one_request
from tools.records import MetricSeries

SERVER_LABEL = "server"  # an edge series is the client's, labelled with the server it calls
CALLS = "call_requests_per_second"  # calls the client made to the server
FAILED = "call_failed_ratio"  # failed calls / all calls, at the client
CLIENT_TIME = "call_client_latency_p50_seconds"  # median duration of a call, at the client
SERVER_TIME = "call_server_latency_p50_seconds"  # median duration of the same calls, at the server
LINK_TIME = "call_link_latency_seconds"  # derived: client less server, the time between them
LINK_RATIO = "call_client_over_server_doublings"  # derived: log2(client / server)
# The least spread a ratio of two histograms' medians is trusted to: a third of a doubling, so
# that a significant rise (Z_THRESHOLD spreads) is a doubling at least, the time outside the
# server grown as long as the time inside it. Identical quantiles when healthy (both sides'
# medians interpolated in one bucket) would otherwise make any disagreement significant.
RATIO_FLOOR = 1.0 / Z_THRESHOLD
EDGE_SIGNALS = (CALLS, FAILED, CLIENT_TIME, SERVER_TIME)
EdgeKey = tuple[str, tuple[tuple[str, str], ...]]  # the client and the series' labels


def is_edge_series(series: MetricSeries) -> bool:
    """A series of calls from its service to another (it names the ``server``): the edge's,
    not the client's own behaviour."""
    return bool(series.labels.get(SERVER_LABEL))


@dataclass(frozen=True)
class CallEdgeChange:
    """One client → server edge compared with normal; a change is ``None`` where that series
    is missing or too short to score, and counts only when significant (:meth:`rose`)."""

    client: str
    server: str
    link: SeriesChange | None  # time on the call outside the server (client less server)
    server_time: SeriesChange | None  # the call's duration at the server
    failed: SeriesChange | None  # share of the calls that failed
    answered: bool  # the server measured calls in the incident (it was there to answer)
    called: bool = True  # the client made (measured) calls to it in the incident
    client_time: SeriesChange | None = None  # the call's duration at the client
    link_ratio: SeriesChange | None = None  # how many times longer at the client (log2)

    def waited_more(self, at: float) -> bool:
        """Whether the client's calls to the server took longer or failed more (significantly,
        still by ``at``): the client waited on it, and its own slowness or errors may be the
        server's."""
        return bool(self.rose(self.client_time, at) or self.rose(self.failed, at))

    @staticmethod
    def rose(change: SeriesChange | None, at: float) -> float:
        """Doublings by which ``change`` significantly rose and still went on at ``at`` (the
        incident start); 0 when it did not."""
        if change is None or not change.going_on(at):
            return 0.0
        return change.effect

    def link_rose(self, at: float) -> float:
        """Doublings of the time outside the server's spans, when that grew and the server's
        own time did not grow as much: the link's (network, queue), not the server's."""
        link = self.rose(self.link, at)
        if self.link_ratio is not None and not self.link_ratio.going_on(at):
            return 0.0  # the two sides' usual disagreement, on a call slow at both
        return link if link > self.rose(self.server_time, at) else 0.0


def _key(series: MetricSeries) -> EdgeKey:
    return series.service, tuple(sorted(series.labels.items()))


def link_series(client: MetricSeries, server: MetricSeries) -> MetricSeries:
    """The client's median duration less the server's at each moment both have a sample
    (never below 0: the two are measured on different clocks and histograms)."""
    at_server = dict(zip(server.timestamps, server.values, strict=True))
    pairs = [
        (t, max(v - at_server[t], 0.0))
        for t, v in zip(client.timestamps, client.values, strict=True)
        if t in at_server
    ]
    return MetricSeries.of_samples(LINK_TIME, client.service, pairs, client.labels)


def disagreement(client: MetricSeries, server: MetricSeries, before: float) -> float | None:
    """How far the client's and the server's medians of the same calls differ when nothing is
    wrong: the robust spread (1.4826 × MAD) of their difference, not clipped at 0, over the
    samples before ``before``; ``None`` with fewer than :data:`MIN_BASELINE` pairs.

    The two are quantiles of two histograms, interpolated inside buckets that widen with the
    duration, so they disagree more on a slow call than on a fast one: on Nezha's
    OnlineBoutique days by under 5 ms on calls of a few milliseconds, but by ±20 % at the
    quartiles on calls over 20 ms. The link time (:func:`link_series`) is clipped at 0, which
    hides that spread; scored without it, 30 ms outside a 700 ms call read as a slow link
    rising "from zero"."""
    at_server = dict(zip(server.timestamps, server.values, strict=True))
    gaps = [
        v - at_server[t]
        for t, v in zip(client.timestamps, client.values, strict=True)
        if t < before and t in at_server
    ]
    if len(gaps) < MIN_BASELINE:
        return None
    values = np.asarray(gaps)
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def ratio_series(client: MetricSeries, server: MetricSeries) -> MetricSeries:
    """log2 of the client's median duration over the server's, at each moment both measured
    one above 0: how many doublings longer the call took where it was made than where it was
    served. Unlike the link time it is scale-free: the two histograms' quantiles disagree in
    proportion to the call's duration (:func:`disagreement`), and so a slow call that got
    slower at both ends moves it no more than it moves when healthy."""
    at_server = dict(zip(server.timestamps, server.values, strict=True))
    pairs = [
        (t, math.log2(v / at_server[t]))
        for t, v in zip(client.timestamps, client.values, strict=True)
        if v > 0 and at_server.get(t, 0.0) > 0
    ]
    return MetricSeries.of_samples(LINK_RATIO, client.service, pairs, client.labels)


def _by_edge(series: Sequence[MetricSeries], metric: str) -> dict[EdgeKey, MetricSeries]:
    return {_key(s): s for s in series if s.metric == metric and is_edge_series(s)}


def _sides(series: Sequence[MetricSeries]) -> dict[EdgeKey, tuple[MetricSeries, MetricSeries]]:
    """Each edge's (client's, server's) median duration series, where both were measured."""
    servers = _by_edge(series, SERVER_TIME)
    return {
        key: (client, servers[key])
        for key, client in _by_edge(series, CLIENT_TIME).items()
        if key in servers
    }


def edge_changes(
    series: Sequence[MetricSeries],
    baseline_end: float,
    reference: Sequence[MetricSeries] = (),
) -> list[CallEdgeChange]:
    """Every call edge in ``series`` scored against normal: ``reference`` (a healthy period's
    series of the same edges) where it has them, else the samples before ``baseline_end``.
    Series that are not edges' (no ``server`` label) are ignored."""
    normal = {metric: _by_edge(reference, metric) for metric in (CLIENT_TIME, SERVER_TIME, FAILED)}
    now = {metric: _by_edge(series, metric) for metric in EDGE_SIGNALS}
    normal_sides, now_sides = _sides(reference), _sides(series)
    for found, sides in ((normal, normal_sides), (now, now_sides)):
        found[LINK_TIME] = {key: link_series(*pair) for key, pair in sides.items()}
        found[LINK_RATIO] = {key: ratio_series(*pair) for key, pair in sides.items()}
    keys = sorted({key for found in now.values() for key in found})

    def healthy_disagreement(key: EdgeKey) -> float:
        """:func:`disagreement` of the edge in the reference, else before the incident."""
        spreads = (
            disagreement(*sides[key], end)
            for sides, end in ((normal_sides, math.inf), (now_sides, baseline_end))
            if key in sides
        )
        return next((s for s in spreads if s is not None), 0.0)

    def noise_floor(metric: str, key: EdgeKey) -> float:
        if metric == LINK_TIME:
            return healthy_disagreement(key)
        return RATIO_FLOOR if metric == LINK_RATIO else 0.0

    def scored(metric: str, key: EdgeKey) -> SeriesChange | None:
        found = now[metric].get(key)
        if found is None:
            return None
        # a failed share is measured against one of the edge's calls (REQUESTS_OF)
        wanted = REQUESTS_OF.get(metric)
        requests = now[wanted].get(key) if wanted is not None else None
        return score_series(
            found,
            baseline_end,
            normal.get(metric, {}).get(key),
            resolution=one_request(found, [requests]) if requests is not None else None,
            bad=Direction.UP if metric == LINK_RATIO else None,
            noise_floor=noise_floor(metric, key),
        )

    def measured(metrics: tuple[str, ...], key: EdgeKey) -> bool:
        """Whether any of ``metrics`` has a sample of the edge in the incident."""
        found = (now[m].get(key) for m in metrics)
        return any(t >= baseline_end for s in found if s is not None for t in s.timestamps)

    out = []
    for key in keys:
        client, labels = key
        out.append(
            CallEdgeChange(
                client=client,
                server=dict(labels)[SERVER_LABEL],
                link=scored(LINK_TIME, key),
                server_time=scored(SERVER_TIME, key),
                failed=scored(FAILED, key),
                answered=measured((SERVER_TIME,), key),
                called=measured((CALLS, FAILED, CLIENT_TIME), key),
                client_time=scored(CLIENT_TIME, key),
                link_ratio=scored(LINK_RATIO, key),
            )
        )
    return out
