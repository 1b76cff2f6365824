"""The share of the traces through a caller that make a call: normal, and at the incident's mix.

Part of :mod:`tools.analysis.span_attribution`: a call a caller stops (or starts) making is a
change of its code path (``EdgeFinding.call_surprise``), unless who called the caller changed.
A service does what its callers ask: ts-seat-service calls ts-order-service for the trains
ts-travel-service asks about and ts-order-other-service for ts-travel2-service's, so when travel
failed before calling it (2023-01-29 10:04 on the Nezha day) its calls to order fell from most
of its traces to a few, and it had ranked first as an exception of its own. The normal share at
the incident's mix of callers (:func:`share_at_callers_mix`, an indirect standardisation, as a
rate is compared across populations of another make-up) says what normal would have been for
the requests the incident brought.

The mix may explain a change; it is no evidence of one: a group of callers normal saw in seven
traces (ts-travel-service called through the gateway, on a fault-free phase of 2023-01-30) is a
thin estimate of its share, and standing in for the whole baseline it made a chance dip look
certain. So a call counts as stopped or started only when it is surprising both against the
baseline as it was and at the incident's mix (:func:`call_change`, the less surprising of the
two, the same direction in both).
"""

from __future__ import annotations

from tools.analysis.callers_mix import least_surprise, share_at_mix
from tools.analysis.code_path_events import moved_largely
from tools.analysis.trace_periods import MIN_SAMPLES, PeriodStats


def share_at_callers_mix(
    normal: PeriodStats, incident: PeriodStats, caller: str, callee: str
) -> float | None:
    """The share of the traces through ``caller`` that call ``callee`` that ``normal`` would
    give at the ``incident``'s mix of who called ``caller`` (each such group's normal share,
    weighted by its incident traces; a group normal saw in fewer than :data:`MIN_SAMPLES`
    traces at the caller's overall normal share). ``None`` when either period has no trace
    through ``caller``. A service does what its callers ask: one that calls ts-order-service
    for the trains ts-travel-service asks about and ts-order-other-service for ts-travel2's
    makes fewer of the first calls when travel fails before calling it, with no change of its
    own."""
    through = normal.service_traces[caller]
    groups = {w: n for (service, w), n in incident.through_by_caller.items() if service == caller}
    total = sum(groups.values())
    if not through or not total:
        return None
    overall = normal.edge_traces[(caller, callee)] / through
    seen = {who: normal.through_by_caller[(caller, who)] for who in groups}
    made = {who: normal.with_by_caller[(caller, callee, who)] for who in groups}
    return share_at_mix(groups, seen, made, overall, MIN_SAMPLES)


def normal_share(
    baseline_with: int, baseline_through: int, mixed: float | None, incident_share: float
) -> float:
    """The baseline's share of the traces through the caller that make the call: of the share
    as it was and at the incident's mix (``mixed``), the one nearer ``incident_share``."""
    plain = baseline_with / baseline_through if baseline_through else 0.0
    if mixed is None or not baseline_through:
        return plain
    return min((plain, mixed), key=lambda normal: abs(incident_share - normal))


def call_change(
    baseline_with: int,
    baseline_through: int,
    mixed: float | None,
    incident_with: int,
    incident_through: int,
) -> float:
    """``-log10`` of the beta-binomial tail of ``incident_with`` of ``incident_through`` against
    the baseline as it was and at the incident's mix (``mixed``), the larger tail of the two:
    0 when either moved too little (:func:`moved_largely`) or they moved in opposite
    directions, or when the baseline saw the caller in fewer than :data:`MIN_SAMPLES` traces
    (no estimate of its normal share) or the incident in none. The incident needs no more: the
    tail says how few traces are too few (0 of 4 where 10 of 10 made the call is p < 0.001;
    checkoutservice's exception at 2022-08-23 13:02, traced for 18 s after it)."""
    if baseline_through < MIN_SAMPLES or not incident_through:
        return 0.0
    now = incident_with / incident_through
    normals = [baseline_with / baseline_through]
    if mixed is not None:
        normals.append(mixed)
    if not all(moved_largely(now, normal) for normal in normals):
        return 0.0
    score = least_surprise(normals, baseline_through, incident_with, incident_through)
    return 0.0 if score is None else score  # None: fewer than as it was, more at the mix
