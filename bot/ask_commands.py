"""What the question-answering CLI command does (``rcabot ask``; the Slack bot's questions
and follow-ups), as async functions returning reports (no printing here): the deterministic
investigation, then the agent when a model is configured."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.commands import OnProgress, reference_window
from bot.config import Settings
from bot.inputs import check_question, check_service
from bot.investigation.conversation import Conversation
from bot.investigation.engine import investigate_stream
from bot.investigation.progress import Progress
from bot.investigation.question import LogSearch, focus
from bot.investigation.report import Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import NO_REFERENCE, ReferenceSources
from bot.investigation.sources import bundle_sources, configured_sources, with_stored_reference
from bot.llm.writer_model import answer_model
from bot.postmortems import postmortem_source
from retrieval.index import PostmortemIndex
from tools.deps import Deps
from tools.evidence import TimeWindow
from tools.gateway import ToolGateway


async def ask_bundle(
    settings: Settings,
    bundle: Path,
    question: str,
    *,
    history: Conversation | None = None,
    use_llm: bool = True,
    on_progress: OnProgress | None = None,
    index: PostmortemIndex | None = None,
    reference_from: str | None = None,
    reference_to: str | None = None,
) -> Report:
    """Answer ``question`` about ``bundle``: the deterministic investigation first, then the
    agent (:mod:`bot.llm.agent`) when a model is configured and ``use_llm``. ``history`` is the
    conversation so far (a follow-up); a follow-up naming no service keeps the last one's.
    Normal behaviour: as for :func:`bot.commands.investigate_bundle`."""
    question = check_question(question)
    reference = reference_window(reference_from, reference_to)
    sources = await bundle_sources(bundle, settings)
    found = focus(question, sources.bundle.services)
    services = found.services
    if not services and history and history.turns:
        services = focus(history.turns[-1].question, sources.bundle.services).services
    request = InvestigationRequest(
        question=question,
        alert=sources.alert,
        service=services[0] if services else None,
        reference=reference,
    )
    sources, references = with_stored_reference(sources, request)
    async with postmortem_source(settings, sources.deps, index) as deps:
        return await _ask(
            settings,
            request,
            deps,
            sources.window,
            history=history,
            use_llm=use_llm,
            on_progress=on_progress,
            searches=found.log_searches(sources.window),
            source_warnings=sources.bundle.warnings,
            load_ms=sources.load_ms,
            references=references,
        )


async def ask_live(
    settings: Settings,
    question: str,
    *,
    service: str | None = None,
    window: TimeWindow | None = None,
    history: Conversation | None = None,
    use_llm: bool = True,
    on_progress: OnProgress | None = None,
    index: PostmortemIndex | None = None,
) -> Report:
    """:func:`ask_bundle` on the configured backends, over ``window`` (default: the last
    ``default_window_minutes``); ``service`` is what the thread is about, when known."""
    question = check_question(question)
    check_service(service)
    now = datetime.now(UTC)
    window = window or TimeWindow(
        start=now - timedelta(minutes=settings.investigation.default_window_minutes), end=now
    )
    found = focus(question, [service] if service else [])
    request = InvestigationRequest(question=question, service=service, window=window)
    async with (
        configured_sources(settings) as live,
        postmortem_source(settings, live, index) as deps,
    ):
        return await _ask(
            settings,
            request,
            deps,
            window,
            history=history,
            use_llm=use_llm,
            on_progress=on_progress,
            searches=found.log_searches(window),
            references=ReferenceSources.live(settings.investigation),
        )


async def _ask(
    settings: Settings,
    request: InvestigationRequest,
    deps: Deps,
    window: TimeWindow,
    *,
    history: Conversation | None,
    use_llm: bool,
    on_progress: OnProgress | None,
    searches: Sequence[LogSearch] = (),
    source_warnings: Sequence[str] = (),
    load_ms: float | None = None,
    references: ReferenceSources = NO_REFERENCE,
) -> Report:
    """The deterministic investigation (its stages reported to ``on_progress``), then the
    agent when there is a model; the final report is reported last."""
    report: Report | None = None
    async with answer_model(settings.llm, use_llm=use_llm) as chosen:
        stream = investigate_stream(
            request,
            deps,
            window,
            searches=searches,
            source_warnings=source_warnings,
            load_ms=load_ms,
            references=references,
        )
        async with aclosing(stream) as events:  # closed now if on_progress raises
            async for event in events:
                if event.report is not None:
                    report = event.report
                elif on_progress is not None:
                    on_progress(event)
        assert report is not None  # the stream always ends with the report
        if chosen.model is not None:
            if on_progress is not None:
                on_progress(Progress("stage", stage="agent"))
            from bot.llm.agent import AgentLimits, answer_question  # langgraph only when used

            limits = AgentLimits.from_settings(settings.llm)
            show = on_progress
            report = await answer_question(
                report,
                request.question,
                chosen.model,
                ToolGateway(deps),
                limits,
                history=history,
                on_statement=(lambda s: show(Progress("statement", text=s))) if show else None,
            )
        report = chosen.finish(report)
    if on_progress is not None:
        on_progress(Progress("report", report=report))
    return report
