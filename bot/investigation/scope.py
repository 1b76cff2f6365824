"""Scope: which window to look at, where the baseline ends, when the incident started, and
which healthy period stands for normal behaviour.

The baseline must not contain the fault. An alert fires some minutes after symptoms start
(``for:`` clauses, evaluation intervals), so the conservative baseline ends ``ALERT_LOOKBACK``
before the alert; the incident start is then refined from the first persistent metric change
between the two.

Those minutes are a thin picture of normal and may already be faulty, so a *reference period*
is resolved here, once, for every tool: the request's own (``--reference-from/--reference-to``,
checked: at most :data:`MAX_REFERENCE` long), else the data's (a bundle's ``reference/``), else,
on live backends, the same window ``reference_offset_hours`` earlier. A reference must not
reach into the part of the window that may hold the incident (from the request's start, else
the alert, else the baseline's end: :func:`incident_part`); one from the data that does is not
used, and the scope says why. A reference may lie in the minutes before that part (a healthy
period declared just before the incident is the best normal there is): the window then starts
where the reference ends, so the incident's own queries never mix the two periods. With no
reference, the part of the window before the incident is the baseline, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from bot.investigation.request import InvestigationRequest
from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange
from tools.analysis.metric_kinds import SignalGroup
from tools.analysis.onset import MIN_SEGMENT, Onset, consistent_onset
from tools.errors import InvestigationError
from tools.evidence import EvidenceDraft, Source, TimeWindow
from tools.formatting import hhmm
from tools.reference import overlaps, window_text
from tools.settings import MAX_WINDOW_MINUTES, InvestigationSettings
from tools.text import SUMMARY_CHARS, TITLE_CHARS, TextPipeline

QUESTION_CHARS = SUMMARY_CHARS

ALERT_LOOKBACK = timedelta(minutes=10)
ALERT_LEAD = timedelta(minutes=2)  # assumed lead of symptoms over the alert when none is seen
TOP_CHANGES_FOR_ONSET = 5
NOT_OWN_GROUPS = frozenset({SignalGroup.TRAFFIC, SignalGroup.DOWNSTREAM, SignalGroup.NODE})
MAX_REFERENCE = timedelta(minutes=MAX_WINDOW_MINUTES)  # a week, as the longest window


@dataclass(frozen=True)
class Scope:
    window: TimeWindow
    baseline_end: datetime
    alert_time: datetime | None
    alert_service: str | None
    question: str
    label: str
    reference: TimeWindow | None = None  # normal behaviour; None: the window before the start
    reference_note: str = ""  # why the data's reference period was not used, when it was not


@dataclass(frozen=True)
class ReferenceSources:
    """Where the data offers a reference period when the request names none: a bundle's
    ``reference/`` (``stored``), or, on live backends, the same window ``offset`` earlier."""

    stored: TimeWindow | None = None
    offset: timedelta | None = None

    @classmethod
    def live(cls, settings: InvestigationSettings) -> ReferenceSources:
        """Live backends: the configured ``reference_offset_hours`` (``None``: no reference)."""
        hours = settings.reference_offset_hours
        return cls(offset=timedelta(hours=hours) if hours is not None else None)


NO_REFERENCE = ReferenceSources()


def incident_part(
    request: InvestigationRequest, window: TimeWindow, baseline_end: datetime
) -> TimeWindow:
    """The part of ``window`` that may hold the incident: from the request's incident start,
    else the alert's start, else the baseline's end, to the window's end."""
    start = request.incident_start or (request.alert.starts_at if request.alert else None)
    start = min(max(start or baseline_end, window.start), window.end - timedelta(seconds=1))
    return TimeWindow(start=start, end=window.end)


def check_reference(reference: TimeWindow, incident: TimeWindow) -> None:
    """:class:`InvestigationError` unless ``reference`` can stand for normal behaviour: at
    most :data:`MAX_REFERENCE` long, and not overlapping the ``incident`` part of the window."""
    if reference.duration > MAX_REFERENCE:
        raise InvestigationError(
            f"the reference period {window_text(reference)} is "
            f"{reference.duration.total_seconds() / 3600:.0f} h long; at most "
            f"{MAX_REFERENCE.total_seconds() / 3600:.0f} h"
        )
    if overlaps(reference, incident):
        raise InvestigationError(
            f"the reference period {window_text(reference)} overlaps the incident "
            f"{window_text(incident)}: give a healthy period before or after it"
        )


def resolve_reference(
    request: InvestigationRequest,
    window: TimeWindow,
    sources: ReferenceSources,
    incident: TimeWindow | None = None,
) -> tuple[TimeWindow | None, str]:
    """The reference period (the request's, else the data's, else the offset one) and, when
    the data offered one that cannot be used, why. ``incident`` is the part of ``window``
    a reference must not reach into (default: all of it)."""
    incident = incident or window
    if request.reference is not None:
        check_reference(request.reference, incident)
        return request.reference, ""
    if sources.stored is not None:
        if overlaps(sources.stored, incident):
            return None, (
                f"the bundle's reference period {window_text(sources.stored)} overlaps the "
                f"incident {window_text(incident)}: not used; compared with the part of "
                f"the window before the incident"
            )
        return sources.stored, ""
    if sources.offset is not None:
        shifted = TimeWindow(start=window.start - sources.offset, end=window.end - sources.offset)
        if overlaps(shifted, window):
            hours = sources.offset.total_seconds() / 3600
            return None, (
                f"reference_offset_hours ({hours:g}) is shorter than the investigated window "
                f"({window.duration.total_seconds() / 3600:g} h): no reference period; compared "
                f"with the part of the window before the incident"
            )
        return shifted, ""
    return None, ""


def after_reference(window: TimeWindow, reference: TimeWindow | None) -> TimeWindow:
    """``window``, starting where ``reference`` ends when the reference lies in its first
    part: the reference stands for those minutes, and the incident's queries do not mix it
    with the telemetry after it."""
    if reference is None or not window.start < reference.end < window.end:
        return window
    return TimeWindow(start=reference.end, end=window.end)


def _baseline_end(request: InvestigationRequest, window: TimeWindow) -> datetime:
    if request.incident_start is not None:
        baseline_end = request.incident_start
    elif request.alert is not None:
        baseline_end = request.alert.starts_at - ALERT_LOOKBACK
    else:
        baseline_end = window.start + window.duration / 2
    earliest = window.start + window.duration / 10
    return min(max(baseline_end, earliest), window.end - timedelta(seconds=1))


def resolve_scope(
    request: InvestigationRequest,
    data_window: TimeWindow | None,
    default_window: timedelta,
    text: TextPipeline,
    references: ReferenceSources = NO_REFERENCE,
) -> Scope:
    """The window, baseline, incident start and reference period; the question and label as
    safe text (``text`` is the investigation's pipeline, ``deps.text``, so operator patterns
    apply too). A request's reference that cannot be used raises :class:`InvestigationError`."""
    alert = request.alert
    window = request.window or data_window
    if window is None and alert is not None:
        window = TimeWindow(
            start=alert.starts_at - default_window, end=alert.starts_at + timedelta(minutes=15)
        )
    if window is None:
        raise InvestigationError("no time window: pass --from/--to, an alert, or a bundle")
    incident = incident_part(request, window, _baseline_end(request, window))
    reference, reference_note = resolve_reference(request, window, references, incident)
    window = after_reference(window, reference)
    baseline_end = _baseline_end(request, window)
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
        reference,
        reference_note,
    )


def incident_start(
    scope: Scope,
    request: InvestigationRequest,
    changes: list[SeriesChange] | None,
    onsets: Sequence[Onset] = (),
    fine_data: TimeWindow | None = None,
) -> datetime:
    """When the symptoms began.

    The explicit start if given; else the earliest *consistent* onset near the alert (from
    ``ALERT_LOOKBACK`` before it to the alert, or anywhere in the window without one): a
    change point that another modality confirms at about the same time (``consistent_onset``)
    among the log and trace ``onsets`` and the onsets of the strongest own metric changes.
    A metric change that was over before the alert's lead (``SeriesChange.over_before``
    ``ALERT_LEAD`` before it: back to normal while the alert's condition had to hold) is an
    earlier episode in the window, not the onset of what fires; it places nothing. Nor does
    the first run of a series that was back to normal before the alert's lead and changed
    again: the run begun by the alert is what fires, placed at its own onset.
    Without one, the older rules: the onset of the alerting service's own symptom (the alert
    *is* that symptom); else the latest onset before the alert among the strongest changes
    (chronically noisy series change early, the incident's changes cluster just before the
    alert); else shortly before the alert, or the end of the baseline.

    ``fine_data`` is the span the log and trace data of the window covers. "Shortly before the
    alert" must leave the incident some of it: when that time lies within ``MIN_SEGMENT``
    buckets of the data's end (a recording cut before the alert, a lagging log pipeline), the
    start is the middle of the data after the window's start instead, the split that leaves
    most data on both sides when nothing says where the change is.
    """
    if request.incident_start is not None:
        return request.incident_start
    alert_time = scope.alert_time
    significant = [c for c in (changes or []) if c.onset is not None and c.score >= Z_THRESHOLD]
    # what fires is going on: an episode over before the alert's lead is not its onset
    over = (alert_time - ALERT_LEAD).timestamp() if alert_time is not None else None
    fires = alert_time.timestamp() if alert_time is not None else None
    if alert_time is not None:
        lo, hi = max(alert_time - ALERT_LOOKBACK, scope.window.start), alert_time
    else:
        lo, hi = scope.window.start, scope.window.end
    found = consistent_onset(
        [*onsets, *metric_onsets(significant, over, fires)],
        not_before=lo.timestamp(),
        not_after=hi.timestamp(),
        confirmed_only=bool(onsets),  # logs or traces were looked at: they must agree
        strongest_single=False,  # one series alone does not place the start
    )
    if found is not None:
        return datetime.fromtimestamp(found.at, UTC)
    if alert_time is not None and onsets:
        # logs or traces at hand and no change they confirm: their seconds-resolution data
        # saw nothing a 1-minute metric can place better than the alert's usual lead
        lead = max(alert_time - ALERT_LEAD, scope.window.start)
        return _within_data(lead, scope.window, fine_data, max(o.resolution_s for o in onsets))
    if alert_time is not None:
        cutoff = alert_time.timestamp()
        before = [c for c in significant if c.onset is not None and c.onset <= cutoff]
        own = [
            o
            for c in before
            if c.service == scope.alert_service and (o := _firing_onset(c, over, fires))
        ]
        latest = max(alert_time - ALERT_LEAD, scope.window.start)
        if own:
            return min(datetime.fromtimestamp(min(own), UTC), latest)
        strongest = before[:TOP_CHANGES_FOR_ONSET]  # chosen first: an episode over promotes none
        onsets_ = [o for c in strongest if (o := _firing_onset(c, over, fires)) is not None]
        if onsets_:
            return min(datetime.fromtimestamp(max(onsets_), UTC), latest)
        return latest
    firsts = [c.onset for c in significant[:TOP_CHANGES_FOR_ONSET] if c.onset is not None]
    return datetime.fromtimestamp(min(firsts), UTC) if firsts else scope.baseline_end


def _firing_onset(change: SeriesChange, over: float | None, fires: float | None) -> float | None:
    """The onset of ``change``'s episode that goes on when the alert ``fires``: None when it
    was over by ``over`` (the alert's lead). A series back to normal between two runs had two
    episodes (:meth:`SeriesChange.episode_begun_by`): the one begun by the alert counts, so
    an earlier incident's run neither places the onset nor is kept alive by a blip after the
    alert. Without an alert, the change's first onset."""
    if change.onset is None or (over is not None and change.over_before(over)):
        return None
    episode = change.episode_begun_by(fires) if fires is not None else None
    if over is None or episode is None:
        return change.onset
    onset, last = episode
    return None if last is not None and change.normal_after(last) <= over else onset


def _within_data(
    start: datetime, window: TimeWindow, data: TimeWindow | None, bucket_s: float
) -> datetime:
    """``start``, or the middle of ``data`` after ``window.start`` when ``start`` leaves fewer
    than ``MIN_SEGMENT`` buckets of it (see :func:`incident_start`), a bucket being
    ``bucket_s``: the coarsest resolution the onsets were placed at."""
    if data is None or start <= data.end - timedelta(seconds=MIN_SEGMENT * bucket_s):
        return start
    first = max(data.start, window.start)
    return first + (data.end - first) / 2 if data.end > first else start


def metric_onsets(
    changes: list[SeriesChange], over: float | None = None, fires: float | None = None
) -> list[Onset]:
    """Onsets of the strongest changes of services' own metrics (``TOP_CHANGES_FOR_ONSET``,
    largest effect first; traffic, callees' latency and host figures move with any symptom),
    less those of them that were over by ``over`` (``SeriesChange.over_before``): an earlier
    episode is not this incident's onset, nor does it make a weaker change one of the
    strongest. Each onset is that of the series' episode begun by the alert (``fires``,
    :func:`_firing_onset`).

    A metric sample stands for the step before it, so the onset is placed one step before the
    first sample that changed; its strength is the Gaussian log-likelihood ratio of a shift
    of ``z`` noise widths, ``z²/2``, on the scale of the log and trace change points."""
    own = [c for c in changes if c.effect > 0 and c.group not in NOT_OWN_GROUPS]
    own.sort(key=lambda c: -c.effect)
    found = []
    for c in own[:TOP_CHANGES_FOR_ONSET]:
        first = _firing_onset(c, over, fires)
        if first is None:
            continue
        step = _step(c)
        found.append(
            Onset(
                at=first - step,
                source="metrics",
                what=f"{c.service} {c.metric}",
                before=c.baseline_median,
                after=c.incident_median,
                unit="",
                strength=c.score**2 / 2,
                resolution_s=step,
            )
        )
    return found


def _step(change: SeriesChange) -> float:
    """The series' sampling step (60 s when unknown)."""
    return change.step if change.step > 0 else 60.0


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
