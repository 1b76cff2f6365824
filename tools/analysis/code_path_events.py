"""The events of a code path (a log line an operation writes, a call it makes inside its
service) and the spans that showed each, per period; whether an event's share of its
operation's spans moved, largely and surprisingly; and the rules by which such a move is not
a code path that changed: the statement still writes (another text), the operation took the
other branch of a choice it always made (other input), the event belonged to the failure path.

Part of :mod:`tools.analysis.code_paths`, which says why each rule is what it is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from tools.analysis.callers_mix import least_surprise, share_at_mix
from tools.analysis.change_point import run_start
from tools.analysis.code_path_spans import INCIDENT, MIN_SPANS, REFERENCE, SpanIndex, same_id
from tools.analysis.surprise import SIGNIFICANCE, change_score
from tools.records import LogLevel

MIN_SCORE = -math.log10(SIGNIFICANCE)  # 3: p <= 0.001
MIN_SHARE_CHANGE = 0.3


def share_distance(share: float, other: float) -> float:
    """How far apart two shares are on the arcsine scale, which makes a share's sampling
    spread the same wherever it lies (Cohen's h, ``|2 asin √a − 2 asin √b|``): 50 % → 45 % is
    0.10, 18 % → 0 % is 0.88."""
    return abs(2 * math.asin(math.sqrt(share)) - 2 * math.asin(math.sqrt(other)))


# a share that moved by MIN_SHARE_CHANGE where shares vary most (50 % → 20 %) moved this far;
# so has any move at least as large on that scale: a call made in 18 % of spans that stops
# altogether, or a path that 19 % of spans no longer reach, is as large a change as 50 % → 20 %
MIN_SHARE_DISTANCE = share_distance(0.5, 0.5 - MIN_SHARE_CHANGE)


def moved_largely(share: float, normal: float) -> bool:
    """A share moved far enough to matter (:data:`MIN_SHARE_DISTANCE`), whether or not it was
    surprising: significance alone flags 50 % → 45 % on a busy operation."""
    return share_distance(share, normal) >= MIN_SHARE_DISTANCE - 1e-12


@dataclass(eq=False)
class EventSpans:
    """One event (a line, a call) of one operation: the spans that showed it, per period. Each
    is one event: equal and hashed by identity."""

    spans: tuple[set[int], set[int], set[int]] = field(
        default_factory=lambda: (set(), set(), set())
    )
    level: LogLevel = LogLevel.TRACE
    examples: dict[int, str] = field(default_factory=dict)  # period → first message
    call: bool = False  # a call the operation makes (a child span), not a log line


def share_moved(
    index: SpanIndex, group: int, base: int, entry: EventSpans, tests: int = 1
) -> tuple[float, float] | None:
    """How far the share of the group's spans showing ``entry`` moved from normal to the
    incident, and the score of that move, when it is both large and surprising (at
    p ≤ :data:`SIGNIFICANCE` / ``tests``: the event is compared with that many normals);
    else None."""
    normal_spans, incident_spans = index.counts[group][base], index.counts[group][INCIDENT]
    normal_with, incident_with = len(entry.spans[base]), len(entry.spans[INCIDENT])
    now = incident_with / incident_spans
    moved = now - normal_with / normal_spans
    if moved == 0:
        return None
    # as it was, and at the incident's mix of callers where they differ (the less surprising)
    normals = [normal_with / normal_spans]
    if (mixed := share_at_callers_mix(index, group, base, entry.spans[base])) is not None:
        normals.append(mixed)
    score = least_surprise(normals, normal_spans, incident_with, incident_spans)
    if score is None or score < MIN_SCORE + math.log10(tests):
        return None  # None: no move at the incident's mix of callers, or the other way
    large = all(moved_largely(now, normal) for normal in normals)
    if large or _large_since(index, group, base, entry, moved > 0):
        return moved, score
    return None


def share_at_callers_mix(
    index: SpanIndex, group: int, base: int, showing: Collection[int]
) -> float | None:
    """The share of the group's ``base`` spans ``showing`` an event that normal would give at
    the incident's mix of who called the service (``SpanIndex.who_called``; each caller's
    normal share weighted by its incident spans, one normal saw in fewer than
    :data:`MIN_SPANS` at the overall share), as for a call (``tools.analysis.call_shares``):
    an operation does what its callers ask. ``None`` where one caller (the same) called it in
    both periods: nothing to mix."""
    incident, normal = index.callers_mix(group, INCIDENT), index.callers_mix(group, base)
    if len(incident) <= 1 and set(incident) == set(normal):
        return None
    shown = Counter(index.who_called(i) for i in showing)
    overall = len(showing) / max(1, sum(normal.values()))
    return share_at_mix(incident, normal, shown, overall, MIN_SPANS)


def _large_since(
    index: SpanIndex, group: int, base: int, entry: EventSpans, appeared: bool
) -> bool:
    """Whether a surprising move too small over the whole incident is large since it began.

    The incident start is an estimate: a line that stopped half a minute after it is diluted
    by the spans of that half minute, which still wrote it. Since the change began (the run of
    the last incident spans least like normal, ``change_point``) its size is its own, when that
    run alone is surprising even allowing for where it was placed: ``-log10 p`` at least
    :data:`MIN_SCORE` plus ``log10`` of the places it could start (Bonferroni), so a run picked
    among the spans of a busy operation whose share barely moved does not pass by chance."""
    normal_spans, normal_with = index.counts[group][base], len(entry.spans[base])
    wrote = entry.spans[INCIDENT]
    run = since_began(index, group, wrote, appeared, normal_with, normal_spans)
    run_with = sum(i in wrote for i in run)
    if not moved_largely(run_with / len(run), normal_with / normal_spans):
        return False
    score = change_score(normal_with, normal_spans, run_with, len(run))
    return score >= MIN_SCORE + math.log10(index.counts[group][INCIDENT])


def since_began(
    index: SpanIndex,
    group: int,
    wrote: Collection[int],
    appeared: bool,
    normal_with: int,
    normal_spans: int,
) -> list[int]:
    """The group's incident spans since a change began (``change_point``): the run of its last
    spans least like normal, at least :data:`MIN_SPANS` long. The event showed in ``wrote`` of
    the incident spans and in ``normal_with`` of ``normal_spans`` normally; ``appeared``: its
    share rose (else it fell)."""
    order = index.incident_by_start(group)
    normal_showing = normal_with if appeared else normal_spans - normal_with
    normal = (normal_showing + 0.5) / (normal_spans + 1)  # Jeffreys: never 0 or 1
    return order[run_start([(i in wrote) == appeared for i in order], normal, MIN_SPANS) :]


def still_written(index: SpanIndex, group: int, base: int, statement: EventSpans) -> bool:
    """Whether a statement still writes in the incident's spans about as often as normally,
    whatever its text: a template of it that vanished was a value in the message (another
    train type, another result), not a code path that stopped."""
    found = share_moved(index, group, base, statement)
    return found is None or found[0] > 0


def taken_instead(
    index: SpanIndex, group: int, base: int, gone: EventSpans, others: list[EventSpans]
) -> EventSpans | None:
    """Whether the spans that stopped showing ``gone`` took the other branch of a choice the
    operation made all along: an event (line or call) that normally never showed in the same
    span as ``gone`` and showed in most of the spans without it, and still shows in as many of
    the incident's spans without it. ts-train-service's ``retrieveByName`` looks a train type up
    with ``findByName`` or ``findByNames`` (18 and 25 of 43 spans, never both); on 2023-01-30 at
    13:52 every request took the second: the input mix changed, the code did not. An exception
    or an early return cuts a path short: what follows is a new event (an error line, a
    handler) or none, not the other arm of a choice made in every normal span (a new event still
    counts). Returns that event, if any."""
    normal_with = gone.spans[base]
    incident_with = gone.spans[INCIDENT]
    normal_without = index.counts[group][base] - len(normal_with)
    incident_without = index.counts[group][INCIDENT] - len(incident_with)
    if normal_without <= 0 or incident_without <= 0:
        return None
    for other in others:
        if other is gone or other.spans[base] & normal_with:
            continue  # the same event, or one that also shows beside it: not an alternative
        if not _common_arm(index, base, other):
            continue
        instead_normal = len(other.spans[base]) / normal_without
        instead_incident = len(other.spans[INCIDENT] - incident_with) / incident_without
        if instead_normal > 0.5 and instead_incident >= instead_normal:
            return other
    return None


def _common_arm(index: SpanIndex, base: int, event: EventSpans) -> bool:
    """An arm the operation took as a rule: in :data:`MIN_SPANS` normal spans or more, and not
    the failure path (a WARN+ line, an event of failing spans: ts-basic-service's ``Get Route
    By Ids Failed``, written in 1 of 33 spans before a fault made it the rule). However rare
    the arm: adservice's ``getAds`` asks ``getAdsByCategory`` when the page names categories
    and ``getRandomAds`` when not (92 and 23 of 115 reference spans, never both); when
    productcatalogservice failed (Nezha 2022-08-23 14:47 and 15:04) the pages named none and
    all 22 spans took the rarer arm, which had ranked adservice first with an exception."""
    spans = event.spans[base]
    return not (event.level >= LogLevel.WARN or on_failures(index, spans) or len(spans) < MIN_SPANS)


def on_failures(index: SpanIndex, spans: set[int]) -> bool:
    """Most of ``spans`` (those that showed an event normally) failed: it is how they fail."""
    return sum(index.spans[i].error for i in spans) * 2 > len(spans)


def add_calls(
    index: SpanIndex, bases: list[tuple[int, ...]], stats: dict[tuple[int, int], EventSpans]
) -> dict[int, str]:
    """Count the calls each span makes like the lines it writes: a child span's service and
    operation is one more event of the parent's code path (an exception cut short before a
    call no longer makes it). Calls get negative ids beside the templates'; returns their
    names by id."""
    ids: dict[str, int] = {}
    parents: dict[int, int] = {}
    for child, span in enumerate(index.spans):
        if span.parent_id:
            reference = index.period[child] == REFERENCE
            found = index.by_id[reference].get((same_id(span.trace_id), same_id(span.parent_id)))
            if found is not None:
                parents[child] = found
    # spans that call another service: their callee, not the caller's code, decides what
    # happens under them (and an outbound call that stops is the caller's reaction as often)
    crossing = {p for c, p in parents.items() if index.spans[c].service != index.spans[p].service}
    for child, parent in parents.items():
        span = index.spans[child]
        if child in crossing or span.service != index.spans[parent].service:
            continue
        group, period = index.group[parent], index.period[parent]
        if not index.compared(parent, bases[group]):
            continue
        name = span.operation
        call = ids.setdefault(name, -1 - len(ids))
        entry = stats.setdefault((group, call), EventSpans(call=True))
        entry.spans[period].add(parent)
        entry.examples.setdefault(period, name)
    return {call: name for name, call in ids.items()}
