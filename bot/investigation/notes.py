"""What the report says about how the comparison with normal went, besides the findings.

The helper tools (onsets, code paths) are not sources of their own: a failed backend is named
once, by its main tool, and a helper's own failure is a warning. A reference period shorter
than the incident is said, because it makes only larger changes significant. Metric episodes
over before the incident started are left out of the ranking and the evidence, and said, so
that an engineer who saw them on a dashboard knows they were seen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.investigation.scope import NOT_OWN_GROUPS
from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange
from tools.evidence import TimeWindow
from tools.formatting import hhmm
from tools.reference import window_text
from tools.result import ToolResult

MAX_EPISODES_NAMED = 5


def thin_reference_note(
    reference: TimeWindow | None, window: TimeWindow, start: datetime
) -> list[str]:
    """Say so when the reference period is shorter than the incident it stands for: the tests
    still hold (they account for how much of normal was seen), but only larger changes show."""
    incident = window.end - max(start, window.start)
    if reference is None or reference.duration >= incident:
        return []
    return [
        f"the reference period {window_text(reference)} "
        f"({reference.duration.total_seconds() / 60:.0f} min) is shorter than the incident "
        f"({incident.total_seconds() / 60:.0f} min): normal behaviour is thinly sampled, so "
        f"only larger changes count as significant"
    ]


def helper_warnings(helpers: list[ToolResult[Any]], main: list[ToolResult[Any]]) -> list[str]:
    """The helper tools' warnings, and their failures not already reported by a main tool."""
    failed = [r for r in main if r.error]
    sources = {r.source for r in failed}
    backends = {_backend(r.error) for r in failed if r.error}

    def known(r: ToolResult[Any]) -> bool:  # its main tool, or one on its backend, said it
        return r.source in sources or _backend(r.error or "") in backends

    found = [w for r in helpers for w in r.warnings]
    found += [f"{r.tool}: {r.error}" for r in helpers if r.error and not known(r)]
    return list(dict.fromkeys(found))


def _backend(error: str) -> str:
    """The backend a mapped error names first (``"elasticsearch: HTTP 503"``)."""
    return error.split(":", 1)[0].strip()


def past_episodes_note(changes: list[SeriesChange] | None, start: datetime) -> list[str]:
    """Name the services' own significant metric changes that were over before ``start``
    (``SeriesChange.over_before``), with when they were back to normal: left out of the ranking
    and the evidence as an earlier episode, not part of this incident. (Traffic, the calls a
    service makes and its host never count for it, over or not.)"""
    at = start.timestamp()
    ended: dict[str, list[SeriesChange]] = {}
    for c in changes or []:
        own = c.group not in NOT_OWN_GROUPS
        if own and c.score >= Z_THRESHOLD and c.effect > 0 and c.over_before(at):
            ended.setdefault(c.service, []).append(c)
    if not ended:
        return []
    named = []
    for service, past in sorted(ended.items())[:MAX_EPISODES_NAMED]:
        metrics = ", ".join(sorted({c.metric for c in past})[:2])
        back = max(c.normal_again for c in past if c.normal_again is not None)
        named.append(f"{service} ({metrics}; normal again by {hhmm(back)[:5]})")
    more = len(ended) - len(named)
    return [
        f"left out as earlier episodes, over before the incident started at "
        f"{hhmm(start)[:5]}: " + "; ".join(named) + (f"; and {more} more" if more > 0 else "")
    ]
