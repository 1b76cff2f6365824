"""What the report says about how the comparison with normal went, besides the findings.

The helper tools (onsets, code paths) are not sources of their own: a failed backend is named
once, by its main tool, and a helper's own failure is a warning. A reference period shorter
than the incident is said, because it makes only larger changes significant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tools.evidence import TimeWindow
from tools.reference import window_text
from tools.result import ToolResult


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
