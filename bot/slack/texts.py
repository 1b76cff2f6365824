"""The short texts rcabot posts around an investigation: progress, usage, failures.

Kept apart from the report rendering because they are words, not layout: one place to read and
change what users see while they wait or when something goes wrong. Every text is mrkdwn, and
anything in it that came from outside (a parse problem, a backend's error) is escaped.
"""

from __future__ import annotations

from bot.slack import mrkdwn

FAILURE_CHARS = 1_000

_PROGRESS = {
    "load": "Loading the telemetry…",
    "scope": "Working out what to investigate…",
    "metrics": "Checking metrics for changes…",
    "gather": "Gathering logs, traces and recent changes…",
    "rank": "Ranking the likely causes…",
    "postmortems": "Looking for similar past incidents…",
    "write": "Writing the answer…",
    "validate": "Checking every statement against its evidence…",
    "model": "Asking the model to write the answer…",
}
_WORKING = "Investigating…"

USAGE = "\n".join(
    [
        "*Usage:* `/rca &lt;alert|service&gt; [window]`",
        "• `/rca HighErrorRate`: investigate an alert by name",
        "• `/rca checkout 2h`: a service over the last two hours (`30m`, `2h`, …)",
        "• `/rca checkout 2026-11-30T14:00Z/2026-11-30T15:00Z`: an exact UTC window",
        "The answer comes in a thread, each claim linked to the data behind it.",
    ]
)


def progress_line(stage: str) -> str:
    """What a user sees while ``stage`` (an engine stage name) runs; a generic line for a
    stage this does not know (never the raw name)."""
    return _PROGRESS.get(stage, _WORKING)


def usage_message(problem: str | None = None) -> str:
    """How to call ``/rca``, after what was wrong with the last try when there is a problem."""
    if not problem or not problem.strip():
        return USAGE
    said = mrkdwn.clip(mrkdwn.inert(problem, multiline=False), 500)
    return f"{said}\n\n{USAGE}"


def failure_message(what: str) -> str:
    """A short thread reply saying an investigation could not run or finish, and why."""
    why = mrkdwn.clip(mrkdwn.inert(what.strip() or "an unexpected error"), FAILURE_CHARS)
    return f":warning: rcabot could not investigate: {why}"
