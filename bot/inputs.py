"""Command-line inputs, checked at the edge: option times, ``--alert`` files, services, questions.

Each check raises :class:`InvestigationError` with one line naming the option and what is
wrong; the CLI prints it and exits 2. Limits are generous for real use and small enough that
nothing downstream has to think about hostile sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from tools.alerts import read_alertmanager_payload
from tools.bundle.files import read_json
from tools.bundle.timestamps import parse_timestamp
from tools.errors import InvestigationError
from tools.evidence import TimeWindow
from tools.records import Alert

MAX_SERVICE = 256  # characters in --service
MAX_QUESTION = 4_000  # characters in a question
MAX_CLOCK_SKEW = timedelta(minutes=5)  # an alert may start this far after "now"


@dataclass(frozen=True)
class AlertFile:
    """The first alert of an ``--alert`` file and what was skipped reading it."""

    alert: Alert
    warnings: list[str] = field(default_factory=list)


def parse_time(value: str, option: str) -> datetime:
    try:
        moment, _ = parse_timestamp(value)
    except ValueError as exc:
        raise InvestigationError(f"{option}: {exc}") from exc
    return moment


def read_alert_file(path: Path) -> AlertFile:
    """The Alertmanager webhook payload in ``path``; bad alerts among good ones are skipped
    (listed in ``warnings``)."""
    where = f"--alert {path}"
    payload = read_json(path, label=where, error=InvestigationError)
    try:
        parsed = read_alertmanager_payload(payload)
    except ValueError as exc:
        raise InvestigationError(f"{where}: {exc}") from exc
    return AlertFile(parsed.alerts[0], [f"--alert: {w}" for w in parsed.warnings])


def not_in_future(alert: Alert, now: datetime) -> None:
    """An alert that starts in the future has no telemetry to investigate yet."""
    if alert.starts_at > now + MAX_CLOCK_SKEW:
        raise InvestigationError(
            f"--alert: startsAt {alert.starts_at.isoformat()} is in the future "
            f"(now is {now.replace(microsecond=0).isoformat()}); check the sender's clock"
        )


def window_from(start: str | None, end: str | None, fallback: TimeWindow) -> TimeWindow | None:
    """The ``--from``/``--to`` window (either may be omitted: ``fallback`` fills it in)."""
    if start is None and end is None:
        return None
    lo = parse_time(start, "--from") if start else fallback.start
    hi = parse_time(end, "--to") if end else fallback.end
    if hi <= lo:
        raise InvestigationError(f"--to ({hi.isoformat()}) must be after --from ({lo.isoformat()})")
    return TimeWindow(start=lo, end=hi)


def check_service(service: str | None) -> None:
    if service is None:
        return
    if not service.strip():
        raise InvestigationError("--service is empty")
    if len(service) > MAX_SERVICE:
        raise InvestigationError(
            f"--service is {len(service)} characters long; at most {MAX_SERVICE}"
        )


def check_question(question: str) -> str:
    """The question, stripped; empty or over :data:`MAX_QUESTION` characters is an error."""
    text = question.strip()
    if not text:
        raise InvestigationError("the question is empty")
    if len(text) > MAX_QUESTION:
        raise InvestigationError(
            f"the question is {len(text)} characters long; at most {MAX_QUESTION}"
        )
    return text
