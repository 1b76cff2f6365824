"""What the investigating CLI commands do (``investigate``, ``demo``; the load targets of
``load``), as async functions returning reports (no printing here). Answering a question is
:mod:`bot.ask_commands`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from bot import postmortems
from bot.config import Settings
from bot.demo import generate_case, postmortems_dir
from bot.inputs import (
    check_service,
    not_in_future,
    parse_time,
    read_alert_file,
    window_from,
)
from bot.investigation.engine import investigate, investigate_stream
from bot.investigation.progress import Progress
from bot.investigation.report import Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import NO_REFERENCE, ReferenceSources
from bot.investigation.sources import bundle_sources, configured_sources, with_stored_reference
from bot.llm.writer_model import answer_model
from bot.loader.settings import LoadSettings
from bot.postmortems import postmortem_source
from retrieval.index import PostmortemIndex
from tools.deps import Deps
from tools.errors import BundleError, ConfigError, InvestigationError
from tools.evidence import TimeWindow
from tools.records import Alert

OnProgress = Callable[[Progress], None]


def reference_window(start: str | None, end: str | None) -> TimeWindow | None:
    """The ``--reference-from``/``--reference-to`` period (both or neither); how long it may
    be and that it lies outside the investigated window is checked with the scope."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InvestigationError("--reference-from and --reference-to go together: give both")
    lo, hi = parse_time(start, "--reference-from"), parse_time(end, "--reference-to")
    if hi <= lo:
        raise InvestigationError(
            f"--reference-to ({hi.isoformat()}) must be after --reference-from ({lo.isoformat()})"
        )
    return TimeWindow(start=lo, end=hi)


async def investigate_bundle(
    settings: Settings,
    bundle: Path,
    *,
    alert_file: Path | None = None,
    service: str | None = None,
    start: str | None = None,
    end: str | None = None,
    use_llm: bool = True,
    on_progress: OnProgress | None = None,
    alert: Alert | None = None,
    window: TimeWindow | None = None,
    index: PostmortemIndex | None = None,
    reference_from: str | None = None,
    reference_to: str | None = None,
) -> Report:
    """Investigate ``bundle``: its own alert, or ``alert`` (from ``alert_file`` or the caller),
    or ``service``, within ``window`` (else ``start``/``end``, else the whole bundle).
    ``index`` is a postmortem index the caller keeps open (else one is opened and closed).
    Normal behaviour is ``reference_from``..``reference_to`` when given, else the bundle's
    ``reference/`` period when it has one."""
    check_service(service)
    reference = reference_window(reference_from, reference_to)
    given = read_alert_file(alert_file) if alert_file else None
    sources = await bundle_sources(bundle, settings)
    if given is not None:
        alert = given.alert
    if alert is None and service is None:
        alert = sources.alert
        if alert is None:
            raise InvestigationError(
                f"nothing to investigate: pass --alert FILE or --service NAME "
                f"({bundle} has no alerts.json)"
            )
    if service is not None and service not in sources.bundle.services:
        known = ", ".join(sources.bundle.services[:20])
        raise InvestigationError(f"--service {service!r} is not in the bundle; known: {known}")
    request = InvestigationRequest(
        alert=alert,
        service=service,
        window=window or window_from(start, end, sources.window),
        reference=reference,
    )
    sources, references = with_stored_reference(sources, request)
    async with postmortem_source(settings, sources.deps, index) as deps:
        return await _investigate(
            settings,
            request,
            deps,
            sources.window,
            use_llm=use_llm,
            on_progress=on_progress,
            source_warnings=[*(given.warnings if given else ()), *sources.bundle.warnings],
            load_ms=sources.load_ms,
            references=references,
        )


async def investigate_live(
    settings: Settings,
    *,
    alert_file: Path | None = None,
    service: str | None = None,
    start: str | None = None,
    end: str | None = None,
    use_llm: bool = True,
    on_progress: OnProgress | None = None,
    alert: Alert | None = None,
    window: TimeWindow | None = None,
    index: PostmortemIndex | None = None,
    reference_from: str | None = None,
    reference_to: str | None = None,
) -> Report:
    """Investigate through the configured backends (Elasticsearch, Prometheus, Jaeger/Tempo):
    ``alert`` (or the one in ``alert_file``) or ``service``, in ``window`` (else
    ``start``/``end``, else around the alert or the last ``default_window_minutes``). Normal
    behaviour is ``reference_from``..``reference_to`` when given, else the same window
    ``investigation.reference_offset_hours`` earlier."""
    check_service(service)
    reference = reference_window(reference_from, reference_to)
    given = read_alert_file(alert_file) if alert_file else None
    if given is not None:
        alert = given.alert
    if alert is None and service is None:
        raise InvestigationError("nothing to investigate: pass --alert FILE or --service NAME")
    now = datetime.now(UTC)
    if alert is not None and start is None and end is None:
        not_in_future(alert, now)
    recent = TimeWindow(
        start=now - timedelta(minutes=settings.investigation.default_window_minutes), end=now
    )
    window = window or window_from(start, end, recent)
    if window is None and alert is not None:
        lookback = timedelta(minutes=settings.investigation.default_window_minutes)
        window = TimeWindow(
            start=alert.starts_at - lookback, end=min(alert.starts_at + timedelta(minutes=15), now)
        )
    request = InvestigationRequest(
        alert=alert, service=service, window=window or recent, reference=reference
    )
    async with (
        configured_sources(settings) as live,
        postmortem_source(settings, live, index) as deps,
    ):
        return await _investigate(
            settings,
            request,
            deps,
            window or recent,
            use_llm=use_llm,
            on_progress=on_progress,
            source_warnings=given.warnings if given else (),
            references=ReferenceSources.live(settings.investigation),
        )


async def _investigate(
    settings: Settings,
    request: InvestigationRequest,
    deps: Deps,
    window: TimeWindow | None,
    *,
    use_llm: bool,
    on_progress: OnProgress | None,
    source_warnings: Sequence[str] = (),
    load_ms: float | None = None,
    references: ReferenceSources = NO_REFERENCE,
) -> Report:
    """The deterministic investigation plus one model call when a model is configured and
    ``use_llm`` (``/rca``, alert summaries); progress goes to ``on_progress`` as it happens."""
    async with answer_model(settings.llm, use_llm=use_llm) as chosen:
        if on_progress is None:
            report = await investigate(
                request,
                deps,
                window,
                source_warnings=source_warnings,
                load_ms=load_ms,
                model=chosen.model,
                limits=chosen.limits,
                references=references,
            )
            return chosen.finish(report)
        final: Report | None = None
        stream = investigate_stream(
            request,
            deps,
            window,
            source_warnings=source_warnings,
            load_ms=load_ms,
            model=chosen.model,
            limits=chosen.limits,
            references=references,
        )
        async with aclosing(stream) as events:  # closed now if on_progress raises
            async for event in events:
                if event.report is not None:
                    final = chosen.finish(event.report)
                    event = Progress("report", report=final)
                on_progress(event)
        assert final is not None  # the stream always ends with the report
        return final


@dataclass(frozen=True)
class DemoRun:
    report: Report
    bundle_dir: Path
    label: dict[str, str]
    seconds_generate: float


async def run_demo(
    settings: Settings,
    out_dir: Path,
    fault: str,
    seed: int,
    *,
    use_llm: bool = True,
    on_progress: OnProgress | None = None,
) -> DemoRun:
    started = time.perf_counter()
    try:
        case = await asyncio.to_thread(generate_case, out_dir, fault, seed)
    except ValueError as exc:
        raise InvestigationError(str(exc)) from exc
    except OSError as exc:
        raise InvestigationError(f"--out {out_dir}: cannot write the demo case: {exc}") from exc
    generated = time.perf_counter() - started
    # The demo's past incidents, in an index of its own beside the case (incremental: a no-op
    # after the first run), so the investigation can say which one this incident resembles.
    settings = settings.model_copy(
        update={
            "retrieval": settings.retrieval.model_copy(
                update={"chroma_path": out_dir / "postmortems-index", "chroma_url": None}
            )
        }
    )
    await postmortems.ingest(settings, [postmortems_dir()])
    report = await investigate_bundle(
        settings, case.bundle_dir, use_llm=use_llm, on_progress=on_progress
    )
    # Ground truth is read only now, after the investigation, to show the demo's result.
    try:
        label = json.loads(case.label_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"cannot read the demo's ground truth {case.label_path}: {exc}") from exc
    return DemoRun(report, case.bundle_dir, label, generated)


def with_load_targets(settings: Settings, overrides: Mapping[str, object]) -> Settings:
    """``settings`` with the ``load`` options given on the command line (``None`` = unset)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        load = LoadSettings.model_validate({**settings.load.model_dump(), **given})
    except ValidationError as exc:
        problems = "; ".join(
            f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid load target: {problems}") from exc
    return settings.model_copy(update={"load": load})
