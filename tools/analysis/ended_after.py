"""Requests that end right after a call: a callee that answers with a failure no span shows.

Where spans carry no error status (OnlineBoutique's traces in the Nezha data; many
instrumentations mark only what threw inside their own process), a callee that answers with an
error leaves no failing span. Its callers do show it: they stop handling the request right after
the call (an error check, a thrown status) and the calls they make after it in every normal
request stop. On the Nezha OnlineBoutique day (2022-08-23, 14:47), a ``return`` fault in
productcatalogservice left the frontend's requests ending at their call to it in 668 of the
bundle's 888 traces through it (0 of 502 in the reference period), and the checkout's in 15 of
36 (0 of 18); their calls to the cart, the currency and the recommender stopped.

One caller alone cannot say whose fault it is: it may have failed itself, on the answer, right
after the call (an injected ``return`` in checkoutservice ended its requests at their call to
the payment service, which answered as always). Two callers that both stop right after calling
the same service, each having stopped calls it makes when healthy, share only that service:
it is the one failing them (:func:`stopped_after`). Each caller's share of the traces through it
in which its last call went to the callee is compared with normal by the same test and bars as
a call that stops (``EdgeFinding.call_surprise``: p ≤ 0.001, a move of at least
:func:`~tools.analysis.code_path_events.moved_largely`); the other callers need only the
conventional 5 % (:data:`CONFIRMING`), as in a closed test's second step (the callee passed
p ≤ 0.001 with one of them first; ``tools.analysis.link_time`` decides a family of calls the
same way). A rarely used caller cannot reach 0.001 in a sample of traces: the checkout made 11
of the 400 traces sampled at 14:47, 4 of them ending at the catalog (0 of 10 normally; p ≈ 0.02).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tools.analysis.call_shares import call_change
from tools.analysis.code_path_events import MIN_SCORE
from tools.analysis.span_attribution import EdgeFinding

MIN_CALLERS = 2  # callers that must stop after the same callee: one alone may be at fault itself
CONFIRMING = -math.log10(0.05)  # the bar of the callers after the first (p <= 0.05)


def ended_after_score(edge: EdgeFinding) -> float:
    """How surprising the rise of the share of the traces through the caller whose last call
    went to this callee is (``-log10`` of its beta-binomial tail, as ``call_surprise``), when
    that share rose largely (``moved_largely``) and the baseline saw the caller in
    ``MIN_SAMPLES`` traces (:func:`tools.analysis.call_shares.call_change`); else 0."""
    if ended_share(edge, incident=True) <= ended_share(edge, incident=False):
        return 0.0
    return call_change(
        edge.baseline_last, edge.baseline_through, None, edge.incident_last, edge.incident_through
    )


def stopped_after(edges: Iterable[EdgeFinding]) -> dict[str, list[EdgeFinding]]:
    """Per callee, the edges of the callers whose requests now end right after calling it
    (:func:`ended_after_score`) and who stopped making a call they make when healthy
    (:func:`_stop_score`), the most surprising first: only callees at least
    :data:`MIN_CALLERS` such callers share, one of them at :data:`MIN_SCORE` (p ≤ 0.001) on
    both counts and the others at :data:`CONFIRMING` (p ≤ 0.05)."""
    edges = list(edges)
    stops: dict[str, float] = {}
    for edge in edges:
        stops[edge.caller] = max(stops.get(edge.caller, 0.0), _stop_score(edge))
    found: dict[str, list[tuple[float, EdgeFinding]]] = {}
    for edge in edges:
        # the weaker of the two counts: its requests end here, it stopped a call
        strength = min(ended_after_score(edge), stops[edge.caller])
        if edge.caller != edge.callee and strength >= CONFIRMING:
            found.setdefault(edge.callee, []).append((strength, edge))
    out = {}
    for callee, callers in sorted(found.items()):
        callers.sort(key=lambda found: (-found[0], found[1].caller))
        if len({e.caller for _, e in callers}) >= MIN_CALLERS and callers[0][0] >= MIN_SCORE:
            out[callee] = [e for _, e in callers]
    return out


def _stop_score(edge: EdgeFinding) -> float:
    """How surprising it is that the caller makes this call in fewer of its traces (its
    ``call_surprise``), unless it makes more, or the call moved to the other arm of a choice
    the caller always made (``EdgeFinding.other_arm``: other input, not a failure)."""
    fewer = edge.call_share(incident=True) < edge.call_share(incident=False)
    return edge.call_surprise if fewer and edge.other_arm is None else 0.0


def ended_share(edge: EdgeFinding, *, incident: bool) -> float:
    """Share of the traces through the caller whose last call went to the callee."""
    through, last = (
        (edge.incident_through, edge.incident_last)
        if incident
        else (edge.baseline_through, edge.baseline_last)
    )
    return last / through if through else 0.0
