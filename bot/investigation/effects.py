"""The size of a change in shares, in *doublings*: the unit every signal of the ranking uses.

A share of 0 or 1 is never certain from a sample, so each share is floored at
:data:`SHARE_FLOOR` before the ratio is taken: a line 29 of 40 spans wrote, then none, is
``log2((0.725 + 0.05) / 0.05)`` ≈ 3.95 doublings, not infinity.
"""

from __future__ import annotations

import math

from tools.analysis.code_paths import CodePathChange
from tools.analysis.ended_after import ended_share
from tools.analysis.span_attribution import EdgeFinding

# A share of 0 or 1 is never certain from a sample: the code-path effect is measured from 5 %.
SHARE_FLOOR = 0.05


def share_effect(normal: float, now: float) -> float:
    """Doublings between two shares, each floored at :data:`SHARE_FLOOR`."""
    high, low = max(normal, now), min(normal, now)
    return math.log2((high + SHARE_FLOOR) / (low + SHARE_FLOOR))


def code_path_effect(change: CodePathChange) -> float:
    """Doublings between the normal share of spans writing the line and the share since the
    change began (``CodePathChange.share_since``): a line that stopped a minute into the
    incident stopped, however much of the incident came before."""
    return share_effect(change.share_normal, change.share_since)


def stopped_call_effect(edge: EdgeFinding) -> float:
    """Doublings by which the share of the traces through the caller that make the call
    fell, when it stopped significantly (``EdgeFinding.call_stopped``); else 0."""
    if not edge.call_stopped:
        return 0.0
    return share_effect(edge.call_share(incident=False), edge.call_share(incident=True))


def ended_after_effect(edge: EdgeFinding) -> float:
    """Doublings by which the share of the traces through the caller that end with its call
    to the callee rose (``tools.analysis.ended_after``)."""
    return share_effect(ended_share(edge, incident=False), ended_share(edge, incident=True))
