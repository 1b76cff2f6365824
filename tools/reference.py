"""The reference period as the analysis tools use it, and how they say where it fell short.

A reference period is healthy telemetry from another time (a bundle's ``reference/``, an
explicit window, the same window a day earlier on live backends) that the tools compare the
incident against instead of the minutes before it. A reference may lack some services (new
since then, renamed, quiet): those keep the part of the window before the incident as their
baseline, and the tool says which in one warning line, so the report shows what could not be
compared against normal.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from tools.evidence import TimeWindow
from tools.formatting import hhmm

MAX_NAMED = 8  # services named in one warning


def overlaps(a: TimeWindow, b: TimeWindow) -> bool:
    """Whether the closed-open windows share an instant."""
    return a.start < b.end and b.start < a.end


def window_text(window: TimeWindow) -> str:
    """``start..end`` in ISO 8601, as warnings name a window."""
    return f"{window.start.isoformat()}..{window.end.isoformat()}"


def fallback_warning(
    what: str, reference: TimeWindow, missing: Collection[str], services: int
) -> list[str]:
    """The line saying that ``missing`` services (of ``services`` compared) had no ``what`` in
    ``reference`` and were compared with the part of the window before the incident."""
    if not missing:
        return []
    return [
        f"reference {window_text(reference)} has no {what} of {len(missing)} of {services} "
        f"services ({_named(missing)}): they were compared with the part of the window before "
        f"the incident"
    ]


def unhealthy_warning(what: str, reference: TimeWindow, services: Collection[str]) -> list[str]:
    """The line saying that the reference period was less healthy than the minutes before the
    incident for ``services`` (more errors), so those were compared with the minutes before."""
    if not services:
        return []
    return [
        f"reference {window_text(reference)} shows more errors in its {what} than the minutes "
        f"before the incident for {len(services)} service(s) ({_named(services)}): not normal "
        f"behaviour for them; they were compared with the part of the window before the incident"
    ]


def doubted_warning(reference: TimeWindow, services: Collection[str]) -> list[str]:
    """The line saying that ``services`` failed in more of their requests in the reference
    than before the incident, so their code paths were compared both with the reference's
    requests that did not fail and with the minutes before (``code_paths``)."""
    if not services:
        return []
    return [
        f"reference {window_text(reference)} shows more failing requests than the minutes "
        f"before the incident for {len(services)} service(s) ({_named(services)}): their code "
        f"paths were compared with the reference's requests that did not fail and with the "
        f"part of the window before the incident"
    ]


def no_baseline_warning(what: str, start: datetime, services: int) -> list[str]:
    """The line saying that the data holds no ``what`` before the incident ``start``, so those
    of ``services`` services (the ones no reference covers) were compared with nothing: data
    that begins at the incident (a recording cut around it, a collector just started)."""
    if services <= 0:
        return []
    return [
        f"no {what} before the incident start at {hhmm(start)}: the {what} of {services} "
        "service(s) could not be compared with normal"
    ]


def _named(services: Collection[str]) -> str:
    """The first :data:`MAX_NAMED` services, sorted, and "…" when there are more."""
    names = sorted(services)
    return ", ".join(names[:MAX_NAMED]) + (" …" if len(names) > MAX_NAMED else "")
