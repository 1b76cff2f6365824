"""When the time calls spend outside their callee's span (the link: network or queueing) grew.

Part of :mod:`tools.analysis.span_attribution`, which compares each caller → callee edge's
calls with its baseline (:func:`tools.analysis.surprise.values_rose`, p ≤ 0.001). Two rules
cover the edges whose own calls are too few for that test:

- **All callers of a callee together** (:func:`callees_slower_into`). Delay on a callee's
  network slows every call into it, and each caller alone may make too few calls to show it
  (5 normal calls against 5 of the incident cannot reach p ≤ 0.001 in a rank test, however far
  apart they lie); all callers together can. An edge into such a callee is then slower when its
  own calls are at the usual 5 % (:data:`FAMILY_MEMBER`: the family passed p ≤ 0.001 first, as
  in a closed test), so a caller whose calls did not slow is not named.
- **Every other link, for one with too few normal calls** (:func:`slower_than_links`). Network
  time is a property of the infrastructure more than of one link, so the calls over every
  other link say what is normal for one rarely called then (a one-minute reference; an
  operation called twice in it). Links differ (a larger payload, another node), so
  significance against that mixture alone would call a link that is always 5 ms slower than
  the 3 ms most take; its calls must also be slower, in their median, than all but one in a
  thousand of the healthy calls (``1 - SIGNIFICANCE``, the same bar as every test here): no
  usual link is that slow. The link's own few calls are not among them (:func:`other_links`,
  into other callees): too few to say what is normal for it, they would still set that bar, its
  slowest call being the slowest there is. Nezha's 2023-01-30 without its reference: the
  one call into ts-preserve-service in the 17 s of traces before the start already took 4 s
  outside its span, and the delay it was the start of went unseen. A link's calls are those
  its callee's span answered: a call into a callee that records no span (a database) is all
  its time, not a link's (``PeriodStats.link_ms``).
- **Other links at the same time, when no period had any** (:func:`other_links`). Traces that
  begin at the incident (a recording cut around it, a trace store's retention) leave no call
  of any link to say what is normal. The calls into every *other* callee in the incident do,
  by the same argument (network time belongs to the infrastructure) and by the same bar
  (slower than all but one in a thousand of them, and significantly): a link seconds slower
  than every other at the same time is the one that changed, and a delay on every link at
  once (the whole network) singles none out. The evidence says what it was compared with.
  Nezha's cases without their fault-free phase have traces from about a minute before the
  fault, and when the start lies before them (no onset confirmed) this is all the normal
  there is: ts-preserve-service's delay at 13:30 and ts-travel-service's at 13:15 on
  2023-01-30 had no comparison at all.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from tools.analysis.surprise import SIGNIFICANCE, values_rose

# an edge into a callee whose calls, all callers together, got significantly slower: its own
# calls need only the conventional 5 % (the family passed p <= 0.001 first)
FAMILY_MEMBER = 0.05
MIN_LINK_CALLS = 5  # normal calls over every link together, at least, to compare one with


Edge = tuple[str, str]


def callees_slower_into(
    calls: Mapping[Edge, tuple[Sequence[float], Sequence[float]]],
) -> set[str]:
    """Callees whose calls from all their callers together spend significantly more time
    outside their spans than normal. ``calls``: per caller → callee edge, its calls' time
    outside the callee's span in its baseline and in the incident."""
    pooled: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for (_, callee), (normal, now) in calls.items():
        pooled[callee][0].extend(normal)
        pooled[callee][1].extend(now)
    return {callee for callee, (normal, now) in pooled.items() if values_rose(now, normal)}


def other_links(gaps: Mapping[Edge, Sequence[float]], callee: str) -> list[float]:
    """The time outside the callee's span of every call in ``gaps`` (per caller → callee edge)
    into another callee than ``callee``: what the links around it took in the same period."""
    return [gap for (_, into), calls in gaps.items() if into != callee for gap in calls]


def slower_than_links(gaps: Sequence[float], links: Sequence[float]) -> bool:
    """Whether ``gaps`` (one link's calls in the incident) were slower than ``links`` (the
    calls over every other link, normal or at the same time): significantly (p ≤
    ``SIGNIFICANCE``), and with a median above all but ``SIGNIFICANCE`` of them."""
    if not gaps or len(links) < MIN_LINK_CALLS:
        return False
    slowest_usual = float(np.quantile(links, 1.0 - SIGNIFICANCE))
    return statistics.median(gaps) > slowest_usual and values_rose(gaps, links)
