"""Scope: which window to look at, where the baseline ends, and when the incident started.

The baseline must not contain the fault. An alert fires some minutes after symptoms start
(``for:`` clauses, evaluation intervals), so the conservative baseline ends ``ALERT_LOOKBACK``
before the alert; the incident start is then refined from the first persistent metric change
between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from bot.investigation.request import InvestigationRequest
from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange
from tools.errors import InvestigationError
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import hhmm
from tools.text import SUMMARY_CHARS, TITLE_CHARS, TextPipeline

QUESTION_CHARS = SUMMARY_CHARS

ALERT_LOOKBACK = timedelta(minutes=10)
ALERT_LEAD = timedelta(minutes=2)  # assumed lead of symptoms over the alert when none is seen
TOP_CHANGES_FOR_ONSET = 5


@dataclass(frozen=True)
class Scope:
    window: TimeWindow
    baseline_end: datetime
    alert_time: datetime | None
    alert_service: str | None
    question: str
    label: str


def resolve_scope(
    request: InvestigationRequest,
    data_window: TimeWindow | None,
    default_window: timedelta,
    text: TextPipeline,
) -> Scope:
    """The window, baseline and incident start; the question and label as safe text (``text`` is
    the investigation's pipeline, ``deps.text``, so operator patterns apply too)."""
    alert = request.alert
    window = request.window or data_window
    if window is None and alert is not None:
        window = TimeWindow(
            start=alert.starts_at - default_window, end=alert.starts_at + timedelta(minutes=15)
        )
    if window is None:
        raise InvestigationError("no time window: pass --from/--to, an alert, or a bundle")
    if request.incident_start is not None:
        baseline_end = request.incident_start
    elif alert is not None:
        baseline_end = alert.starts_at - ALERT_LOOKBACK
    else:
        baseline_end = window.start + window.duration / 2
    earliest = window.start + window.duration / 10
    baseline_end = min(max(baseline_end, earliest), window.end - timedelta(seconds=1))
    if alert is not None:
        label = f"alert {alert.name}" + (f" ({alert.service})" if alert.service else "")
        question = request.question or f"Why is {alert.name} firing? {alert.summary}"
    elif request.service:
        label = f"service {request.service}"
        question = request.question or f"What is wrong with {request.service}?"
    else:
        label = "whole window"
        question = request.question or "What went wrong in this window?"
    return Scope(
        window,
        baseline_end,
        alert.starts_at if alert else None,
        alert.service if alert else None,
        text(question, QUESTION_CHARS),
        text.line(label, TITLE_CHARS),
    )


def incident_start(
    scope: Scope, request: InvestigationRequest, changes: list[SeriesChange] | None
) -> datetime:
    """When the symptoms began.

    The explicit start if given; else the onset of the alerting service's own symptom (the alert
    *is* that symptom); else the latest onset before the alert among the strongest changes
    (chronically noisy series change early, the incident's changes cluster just before the
    alert); else shortly before the alert, or the end of the baseline.
    """
    if request.incident_start is not None:
        return request.incident_start
    alert_time = scope.alert_time
    significant = [c for c in (changes or []) if c.onset is not None and c.score >= Z_THRESHOLD]
    if alert_time is not None:
        cutoff = alert_time.timestamp()
        before = [c for c in significant if c.onset is not None and c.onset <= cutoff]
        own = [c.onset for c in before if c.service == scope.alert_service and c.onset]
        latest = max(alert_time - ALERT_LEAD, scope.window.start)
        if own:
            return min(datetime.fromtimestamp(min(own), UTC), latest)
        onsets = [c.onset for c in before[:TOP_CHANGES_FOR_ONSET] if c.onset is not None]
        if onsets:
            return min(datetime.fromtimestamp(max(onsets), UTC), latest)
        return latest
    onsets = [c.onset for c in significant[:TOP_CHANGES_FOR_ONSET] if c.onset is not None]
    return datetime.fromtimestamp(min(onsets), UTC) if onsets else scope.baseline_end


def alert_evidence(request: InvestigationRequest) -> EvidenceDraft | None:
    alert = request.alert
    if alert is None:
        return None
    labels = ", ".join(f'{k}="{v}"' for k, v in sorted(alert.labels.items()))
    query = _expr_from_generator_url(alert.generator_url) or f"ALERTS{{{labels}}}"
    return EvidenceDraft(
        key=f"alert:{alert.name}",
        source=Source.ALERT,
        title=f"{alert.name} {alert.status} since {hhmm(alert.starts_at)}",
        summary=f"Alert {alert.name} ({labels}) {alert.status} since "
        f"{alert.starts_at.isoformat()}: {alert.summary}",
        query=query,
        link=alert.generator_url,
        window=TimeWindow(start=alert.starts_at, end=alert.starts_at + timedelta(seconds=1)),
        service=alert.service,
        score=1.0,
        excerpt=alert.annotations.get("description", ""),
    )


def _expr_from_generator_url(url: str | None) -> str | None:
    if not url or "g0.expr=" not in url:
        return None
    values = parse_qs(urlsplit(url).query).get("g0.expr")
    return values[0] if values else None
