"""A share compared at the incident's mix of callers: the arithmetic both comparisons share.

A service does what its callers ask, so the share of its traces that make a call
(``tools.analysis.call_shares``) or of an operation's spans that write a line
(``tools.analysis.code_path_events``) moves when who calls it changes, with no change of its
own. Both compare the incident with normal twice, as normal was and at the incident's mix of
callers (:func:`share_at_mix`, an indirect standardisation), and keep the less surprising of
the two, in the same direction (:func:`least_surprise`): the mix may explain a change, and a
group of a few normal samples is no evidence of one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tools.analysis.surprise import change_score


def share_at_mix(
    incident: Mapping[str, int],
    normal: Mapping[str, int],
    showing: Mapping[str, int],
    overall: float,
    min_seen: int,
) -> float:
    """The share normal would give at the ``incident``'s mix of callers: each caller's normal
    share (``showing`` of ``normal``) weighted by its ``incident`` count, one normal saw fewer
    than ``min_seen`` times at the ``overall`` normal share. ``incident`` must not be empty."""
    expected = sum(
        n * (showing.get(who, 0) / normal[who] if normal.get(who, 0) >= min_seen else overall)
        for who, n in incident.items()
    )
    return expected / sum(incident.values())


def least_surprise(
    normals: Sequence[float], normal_total: int, incident_with: int, incident_total: int
) -> float | None:
    """``-log10`` of the beta-binomial tail of ``incident_with`` of ``incident_total`` against
    each of the ``normals`` shares (of ``normal_total`` samples), the least surprising of them
    (:func:`tools.analysis.surprise.change_score`); ``None`` when the incident's share equals
    one of them or lies above one and below another: no move in the same direction."""
    now = incident_with / incident_total
    first = now - normals[0]
    if any((now - normal) * first <= 0 for normal in normals):
        return None
    return min(
        change_score(round(normal * normal_total), normal_total, incident_with, incident_total)
        for normal in normals
    )
