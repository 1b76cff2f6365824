"""The investigation: scope → metrics (onset) → gather → rank → write → validate → Report.

The rank stage may query once more: the traces through a lead candidate the trace sample held
too few of (``bot.investigation.focused_traces``).

Every source is queried independently and time-bounded; a failed or missing source is recorded
in the report and the investigation goes on with the rest.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import aclosing, contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.investigation.candidates import Findings, rank_candidates
from bot.investigation.compact import compact_evidence, estimate_tokens
from bot.investigation.declared_calls import declared_note, untraced_note
from bot.investigation.focused_traces import second_look
from bot.investigation.late_metrics import scored_before_start, unscored_metrics
from bot.investigation.notes import helper_warnings, past_episodes_note, thin_reference_note
from bot.investigation.past_incidents import SIMILAR_K, seen_before, similar_incident_query
from bot.investigation.progress import Progress
from bot.investigation.question import LogSearch
from bot.investigation.ranking import RankedService
from bot.investigation.report import Candidate, Report, SourceStatus, StageTiming, TokenCounts
from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import (
    NO_REFERENCE,
    ReferenceSources,
    alert_evidence,
    incident_start,
    resolve_scope,
)
from bot.investigation.validate import validate_answer
from bot.investigation.writer import hypothesis, write_answer
from bot.llm.answer import render_statement
from bot.llm.model import ChatModel
from bot.llm.writer import WriteLimits, stream_with_model
from tools.call_edge_changes import call_edge_changes
from tools.code_path_changes import code_path_changes
from tools.concurrency import gather_all
from tools.deps import Deps
from tools.evidence import Evidence, EvidenceDraft, TimeWindow
from tools.gateway import ToolGateway
from tools.log_patterns import log_patterns
from tools.metric_changes import metric_changes
from tools.onsets import covered, log_onsets, trace_onsets
from tools.recent_changes import recent_changes
from tools.result import ToolResult
from tools.search_logs import search_logs
from tools.similar_postmortems import similar_postmortems
from tools.trace_attribution import trace_attribution


class Stopwatch:
    def __init__(self) -> None:
        self.stages: list[StageTiming] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages.append(
                StageTiming(stage=name, ms=round((time.perf_counter() - started) * 1000, 1))
            )


def _status(result: ToolResult[Any]) -> SourceStatus:
    detail = result.error or "; ".join(result.warnings)
    return SourceStatus(
        source=result.source,
        backend=result.backend,
        ok=result.ok,
        detail=detail,
        evidence_count=len(result.evidence),
        elapsed_ms=round(result.elapsed_ms, 1),
    )


# Evidence numbered right after the candidates': log lines the question asked for, and past
# incidents both retrievers agree resemble this one (see ``seen_before``).
PRIORITY_KEYS = ("logs:search:", "postmortem:")


def number_evidence(
    alert: EvidenceDraft | None,
    ranked: list[RankedService],
    drafts: list[EvidenceDraft],
    limit: int,
) -> list[Evidence]:
    """Number evidence by relevance: the alert, then each candidate's items, then the rest.

    The drafts come from the gateway (already through the text pipeline); so must ``alert``.
    """
    by_key = {d.key: d for d in drafts}
    order: list[str] = [alert.key] if alert else []
    for candidate in ranked:
        order += [k for k in candidate.evidence_keys[:4] if k not in order]
    order += [d.key for d in drafts if d.key.startswith(PRIORITY_KEYS) and d.key not in order]
    order += [d.key for d in sorted(drafts, key=lambda d: -d.score) if d.key not in order]
    if alert:
        by_key[alert.key] = alert
    return [Evidence.number(by_key[k], i + 1) for i, k in enumerate(order[:limit])]


async def investigate(
    request: InvestigationRequest,
    deps: Deps,
    data_window: TimeWindow | None = None,
    *,
    searches: Sequence[LogSearch] = (),
    source_warnings: Sequence[str] = (),
    load_ms: float | None = None,
    model: ChatModel | None = None,
    limits: WriteLimits | None = None,
    references: ReferenceSources = NO_REFERENCE,
) -> Report:
    """Investigate ``request`` with the backends in ``deps``; never raises for a failed source.

    The deterministic pipeline, then (when ``model`` is given) one model call that re-explains
    the result (``bot.llm.writer``): this is ``/rca`` and the alert summary. Without a model
    the answer is deterministic. See :func:`investigate_stream` for the arguments.
    """
    report: Report | None = None
    run = _run(
        request,
        deps,
        data_window,
        searches,
        source_warnings,
        load_ms,
        model,
        limits,
        False,
        references,
    )
    async with aclosing(run) as events:
        async for event in events:
            if event.report is not None:
                report = event.report
    assert report is not None  # _run always ends with a report
    return report


def investigate_stream(
    request: InvestigationRequest,
    deps: Deps,
    data_window: TimeWindow | None = None,
    *,
    searches: Sequence[LogSearch] = (),
    source_warnings: Sequence[str] = (),
    load_ms: float | None = None,
    model: ChatModel | None = None,
    limits: WriteLimits | None = None,
    references: ReferenceSources = NO_REFERENCE,
) -> AsyncGenerator[Progress, None]:
    """:func:`investigate` as progress events (``bot.investigation.progress``): stages, the
    model's grounded statements as they complete, and last the report.

    Every tool is called through one :class:`ToolGateway` (time limit, error mapping, text
    pipeline), the same path the agent uses. ``searches`` are extra log searches (from a
    question's quoted phrases or trace ids); ``source_warnings`` are notes from reading the data
    (bad bundle lines) for the report; ``load_ms`` is how long reading that data took, reported
    as the ``load`` stage; ``model`` writes the answer within ``limits`` (the deterministic
    answer when it is ``None`` or fails); ``references`` is where the data offers a reference
    period of normal behaviour when the request names none (a bundle's, the live offset).
    """
    return _run(
        request,
        deps,
        data_window,
        searches,
        source_warnings,
        load_ms,
        model,
        limits,
        True,
        references,
    )


async def _run(
    request: InvestigationRequest,
    deps: Deps,
    data_window: TimeWindow | None,
    searches: Sequence[LogSearch],
    source_warnings: Sequence[str],
    load_ms: float | None,
    model: ChatModel | None,
    limits: WriteLimits | None,
    stream: bool,
    references: ReferenceSources,
) -> AsyncGenerator[Progress, None]:
    watch = Stopwatch()
    gateway = ToolGateway(deps)
    if load_ms is not None:
        watch.stages.append(StageTiming(stage="load", ms=round(load_ms, 1)))
    limits_ = deps.limits
    yield Progress("stage", stage="scope")
    with watch.stage("scope"):
        scope = resolve_scope(
            request,
            data_window,
            timedelta(minutes=limits_.default_window_minutes),
            deps.text,
            references,
        )
    yield Progress("stage", stage="metrics")
    with watch.stage("metrics"):
        metrics, calls, log_onset, trace_onset = await gather_all(
            gateway.call(
                metric_changes,
                window=scope.window,
                baseline_end=scope.baseline_end,
                reference=scope.reference,
            ),
            gateway.call(
                call_edge_changes,
                window=scope.window,
                baseline_end=scope.baseline_end,
                reference=scope.reference,
            ),
            gateway.call(log_onsets, window=scope.window),
            gateway.call(trace_onsets, window=scope.window),
        )
    scans = [r.data for r in (log_onset, trace_onset) if r.data is not None]
    onsets = [o for scan in scans for o in scan.onsets]
    start = incident_start(scope, request, metrics.data, onsets, covered(scans))
    yield Progress("stage", stage="gather")
    with watch.stage("gather"):
        core = gather_all(
            gateway.call(
                log_patterns, window=scope.window, incident_start=start, reference=scope.reference
            ),
            gateway.call(
                trace_attribution,
                window=scope.window,
                incident_start=start,
                reference=scope.reference,
            ),
            gateway.call(recent_changes, window=scope.window, incident_start=start),
            gateway.call(
                code_path_changes,
                window=scope.window,
                incident_start=start,
                reference=scope.reference,
            ),
        )
        extra = gather_all(
            *(
                gateway.call(
                    search_logs,
                    window=s.window,
                    services=s.services,
                    text=s.text,
                    trace_id=s.trace_id,
                )
                for s in searches
            )
        )
        # metrics that begin after the baseline's end: scored again, alongside; metrics that
        # were scored: scored again knowing the start, where it can change them (an earlier
        # episode cited, or held in the baseline)
        rescored = scored_before_start(
            gateway, scope.window, scope.baseline_end, scope.reference, start, (metrics, calls)
        )
        (logs, traces, changes, paths), found, ((metrics, calls), late) = await gather_all(
            core, extra, rescored
        )
    results: list[ToolResult[Any]] = [metrics, logs, traces, changes, *found]
    # helpers of the ones above (call edges, onsets, code paths): their evidence counts, and
    # their failures are warnings, not sources (a failed backend is already named by its main
    # tool)
    helpers: list[ToolResult[Any]] = [calls, log_onset, trace_onset, paths]
    drafts = [d for r in [*results, *helpers] for d in r.evidence]
    yield Progress("stage", stage="rank")
    with watch.stage("rank"):
        data = Findings(metrics.data, logs.data, traces.data, changes.data, paths.data, calls.data)
        ranking_args = (start, deps.service_map, limits_.max_candidates, scope.alert_service)
        ranking = rank_candidates(data, drafts, *ranking_args)
        # the lead candidates the trace sample held too few of: their own traces, then again
        looked = await second_look(
            gateway, scope.window, start, scope.reference, ranking.ranked, traces.data
        )
        if looked.analysis is not traces.data:
            data = replace(data, traces=looked.analysis)
            ranking = rank_candidates(data, looked.cited_with(drafts), *ranking_args)
        ranked, drafts = ranking.ranked, ranking.drafts
        declared, untraced = ranking.declared, ranking.untraced
    yield Progress("stage", stage="postmortems")
    with watch.stage("postmortems"):
        past = await gateway.call(
            similar_postmortems, similar_incident_query(request, ranked, drafts), k=SIMILAR_K
        )
    results.append(past)
    similar = seen_before(past)
    found_alert = alert_evidence(request)
    alert = deps.text.evidence(found_alert) if found_alert else None
    evidence = number_evidence(alert, ranked, drafts + similar, limits_.max_evidence)
    ids = {e.key: e.id for e in evidence}
    by_id = {e.id: e for e in evidence}
    yield Progress("stage", stage="write")
    with watch.stage("write"):
        candidates = []
        for i, r in enumerate(ranked, start=1):
            cited = [ids[k] for k in r.evidence_keys if k in ids]
            candidates.append(
                Candidate(
                    rank=i,
                    service=r.service,
                    fault_type=r.fault_type,
                    score=r.score,
                    hypothesis=hypothesis(r.service, r.fault_type, [by_id[c] for c in cited[:4]]),
                    evidence_ids=cited,
                    signals=r.signals,
                    propagated=r.propagated,
                )
            )
        alert_item = by_id.get(ids[alert.key]) if alert else None
        matches = [by_id[ids[d.key]] for r in found for d in r.evidence if d.key in ids]
        known = [by_id[ids[d.key]] for d in similar if d.key in ids]
        telemetry = (metrics, logs, traces, changes)
        unread = [
            f"{r.source} could not be read ({r.error})" for r in telemetry if not r.ok and r.error
        ]
        unread += unscored_metrics(metrics)
        draft_answer = write_answer(
            scope.label, alert_item, candidates, by_id, matches, known, unread
        )
    yield Progress("stage", stage="validate")
    with watch.stage("validate"):
        validated = validate_answer(draft_answer, by_id.keys())
    notes = [scope.reference_note] if scope.reference_note else []
    notes += late
    notes += thin_reference_note(scope.reference, scope.window, start)
    notes += past_episodes_note(metrics.data, start)
    notes += looked.notes
    notes += declared_note(declared, deps.service_map)
    notes += untraced_note(untraced, (c.service for c in ranked))
    warnings = [
        *source_warnings,
        *deps.warnings,
        *notes,
        *(w for r in results for w in r.warnings),
        *helper_warnings(helpers, results),
    ]
    report = Report(
        question=scope.question,
        scope=scope.label,
        window=scope.window,
        incident_start=start.isoformat(),
        reference=scope.reference,
        candidates=candidates,
        evidence=evidence,
        answer=validated.text,
        answer_by="deterministic",
        answer_note="no model configured" if model is None else "",
        dropped_statements=validated.dropped,
        sources=[_status(r) for r in results],
        warnings=warnings,
        timings=watch.stages,
        tokens=TokenCounts(evidence=estimate_tokens(compact_evidence(evidence))),
    )
    if model is not None:
        yield Progress("stage", stage="model")
        started = time.perf_counter()
        written = stream_with_model(
            report, model, limits or WriteLimits(), deps.text, stream=stream
        )
        async with aclosing(written) as events:  # closed now if our reader stops early
            async for event in events:
                if isinstance(event, Report):
                    report = event
                else:
                    yield Progress("statement", text=render_statement(event))
        watch.stages.append(
            StageTiming(stage="model", ms=round((time.perf_counter() - started) * 1000, 1))
        )
        report = report.model_copy(update={"timings": list(watch.stages)})
    yield Progress("report", report=report)
