"""False findings on healthy data: how often the trace, code-path and process tests report a
change where there is none, printed.

    python bench/false_findings.py [--seeds N] [--nezha-root DIR]...

The code-path test (``tools.analysis.code_paths``), calls that stop or start and the time on a
call outside the callee's span (``tools.analysis.span_attribution``), and the requests of two
callers ending right after calling the same callee (``tools.analysis.ended_after``) each run
at p ≤ 0.001 per comparison, with no correction for the hundreds of comparisons an incident
makes; their tests account for how thin the normal sample is instead. A code path's new
line below WARN, or new call (``CodePathChange.other_input``: mostly other input taking
another branch), is counted on its own line (``new INFO paths``): the tool reports it, the
ranking does not score it. A process that went away
(``tools.analysis.change_rank.went_away``: CPU and memory both fell to under a quarter, each
at robust z ≥ 3) is counted too, and so are the service graph's edges in the metrics
(``tools.analysis.call_edges``: time outside the server that grew, calls that failed more,
each at robust z ≥ 3, as every metric), and so are the services' error metrics that rose
(``metrics: errors rose``: a share of failed requests is measured against one request's share
of a sample, ``tools.analysis.request_shares``), and the changes that scoring the metrics
again knowing the incident's start adds (``metrics: from the start``: a baseline that held an
earlier episode gives way to the samples between its end and the start,
``change_scores.after_an_episode``; the start placed the alert's lead after a baseline ending
its lookback before the alert, as the engine places them). This measures what that costs: each demo
case (every fault × seeds 1..N) is cut before its fault is injected (a minute of margin), and the
last 10 minutes of that healthy part are compared with the rest, as the engine compares an
incident with the minutes before it. Any finding there is a false one. The demo is rcabot's own
simulation (random users, user agents, carts, a few slow requests), so the figure shows the
tests' behaviour on noise with a known null, not on another system.

``--nezha-root DIR`` (repeatable) adds real healthy data: every fault-free phase recorded under
``DIR`` (``construct_data/<day>/`` in the Nezha layout: a minute or three of TrainTicket or
OnlineBoutique logs and traces, converted as the importer converts a reference), each split
at 40, 50 and 60 % of its span and compared after against before, for the tests on spans and
log lines (the metrics of these phases are a few samples: no series to compare). Any finding
there is a false one on a real system, with its chronic noise: errors originating in a
service count too (``errors originate here``, Fisher's exact test of the share of traces,
:func:`tools.analysis.surprise.share_rose`).

On both, the log tool (``tools.log_patterns``) runs as in an investigation: a service whose
ERROR lines rose (``error bursts``) and an ERROR template new or growing (``new error lines``)
are false findings too. So is a service whose own time on the critical path grew by a doubling
(``own time grew``, over every trace; ``own time, 2nd look``, over the newest traces through a
service the newest traces of all left uncompared, as ``bot.investigation.focused_traces`` looks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.demo import FAULTS, generate_case  # noqa: E402
from bot.importers.nezha_layout import find_reference_dirs  # noqa: E402
from bot.importers.nezha_reference import build_reference  # noqa: E402
from bot.investigation.focused_traces import compared  # noqa: E402
from bot.investigation.scope import ALERT_LEAD, ALERT_LOOKBACK  # noqa: E402
from tools.analysis.call_edges import edge_changes  # noqa: E402
from tools.analysis.change_rank import score_all  # noqa: E402
from tools.analysis.change_scores import Z_THRESHOLD, SeriesChange  # noqa: E402
from tools.analysis.code_path_events import MIN_SCORE  # noqa: E402
from tools.analysis.code_paths import CodePathChange, compare_code_paths  # noqa: E402
from tools.analysis.ended_after import stopped_after  # noqa: E402
from tools.analysis.metric_kinds import SignalGroup  # noqa: E402
from tools.analysis.span_attribution import TraceAnalysis, analyze_traces  # noqa: E402
from tools.backends import TraceQuery, select_traces, unique_traces  # noqa: E402
from tools.bundle.backends import BundleLogs, by_trace  # noqa: E402
from tools.bundle.reader import Bundle, load_bundle  # noqa: E402
from tools.deps import Deps  # noqa: E402
from tools.elasticsearch.settings import LogFields  # noqa: E402
from tools.evidence import TimeWindow  # noqa: E402
from tools.gateway import ToolGateway  # noqa: E402
from tools.links import Links  # noqa: E402
from tools.log_patterns import MIN_BURST_SCORE, MIN_PATTERN_SCORE, log_patterns  # noqa: E402
from tools.records import LogLevel, LogRecord, Span  # noqa: E402
from tools.settings import InvestigationSettings, LinksSettings  # noqa: E402
from tools.trace_attribution import MIN_SCORE as MIN_TRACE_SCORE  # noqa: E402

INCIDENT_S = 600.0  # the "incident": the last 10 minutes of the healthy part
MARGIN_S = 60.0  # cut this long before the injection
SPLITS = (0.4, 0.5, 0.6)  # where a real fault-free phase is cut into "before" and "after"
PER_PERIOD = InvestigationSettings().trace_sample // 2  # traces sampled each side, as the tool
SECOND_LOOKS = [0]  # services looked at again (``own time, 2nd look``), over the whole run


def _grew(analysis: TraceAnalysis, service: str) -> bool:
    found = analysis.services.get(service)
    return found is not None and found.critical_latency_score >= MIN_TRACE_SCORE


def _sampled(
    traces: list[list[Span]], split: datetime, service: str | None = None
) -> list[list[Span]]:
    """The traces the trace tool samples on each side of ``split`` (through ``service``): the
    newest :data:`PER_PERIOD` of each period, as every backend answers (``select_traces``)."""
    first = datetime.fromtimestamp(min(s.start for t in traces for s in t), UTC)
    last = datetime.fromtimestamp(max(s.start for t in traces for s in t) + 1, UTC)
    periods = (TimeWindow(start=first, end=split), TimeWindow(start=split, end=last))
    pages = [
        select_traces(traces, TraceQuery(window=w, service=service, limit=PER_PERIOD))
        for w in periods
        if w.start < w.end
    ]
    return list(unique_traces(t for page in pages for t in page).values())


def own_time_findings(
    traces: list[list[Span]], whole: TraceAnalysis, split: datetime
) -> dict[str, list[str]]:
    """Services whose own time on the critical path grew by a doubling (the trace tool's
    evidence, a growth of medians with no test): over every trace (``whole``: ``own time
    grew``), and in a second look (``bot.investigation.focused_traces``) at each service the
    tool's sample left uncompared, over the sample of traces through it (``own time, 2nd
    look``; every such service, not only the first three candidates: an upper bound)."""
    at = split.timestamp()
    sample = analyze_traces(_sampled(traces, split), at)
    looked = []
    for service in sorted(whole.services):
        if compared(sample.services.get(service)):
            continue
        SECOND_LOOKS[0] += 1
        focused = analyze_traces(_sampled(traces, split, service), at)
        if compared(focused.services.get(service)) and _grew(focused, service):
            looked.append(service)
    return {
        "own time grew": [s for s in sorted(whole.services) if _grew(whole, s)],
        "own time, 2nd look": looked,
    }


def _path(c: CodePathChange) -> str:
    return (
        f"{c.service} {c.operation} {c.event} {c.kind} ({c.normal_with}/{c.normal_spans} "
        f"before, {c.incident_with}/{c.incident_spans} after) {c.template[:60]}"
    )


def span_findings(
    spans: list[Span], logs: list[LogRecord], split: datetime
) -> dict[str, list[str]]:
    """The findings of the tests on spans and log lines, after ``split`` against before."""
    paths = compare_code_paths(spans, logs, split).changes
    traces = [t for t in by_trace(spans).values() if t]
    analysis = analyze_traces(traces, split.timestamp())
    services = analysis.services.values()
    return {
        "code paths": [_path(c) for c in paths if not c.other_input],
        "new INFO paths": [_path(c) for c in paths if c.other_input],
        "calls stop/start": [
            f"{e.caller} -> {e.callee}" for e in analysis.edges if e.call_surprise >= MIN_SCORE
        ],
        "time outside callee": [
            f"{e.caller} -> {e.callee}" for e in analysis.edges if e.gap_score > 0
        ],
        "errors originate here": [
            f"{f.service} ({f.incident_origin_traces}/{f.incident_traces} traces, "
            f"{round(f.baseline_origin_rate * f.baseline_traces)}/{f.baseline_traces} before)"
            for f in services
            if f.error_score > 0
        ],
        "failures passed up": [f.service for f in services if f.failures_passed_up],
        "ends after callee": sorted(stopped_after(analysis.edges)),
        **own_time_findings(traces, analysis, split),
    }


def log_findings(bundle: Bundle, window: TimeWindow, split: datetime) -> dict[str, list[str]]:
    """The log tool's findings in ``window``, after ``split`` against before: services whose
    ERROR lines rose, and ERROR templates new or growing (``tools.log_patterns``)."""
    deps = Deps(
        logs=BundleLogs(bundle, Links(LinksSettings(), bundle_dir=bundle.path), LogFields())
    )
    call = ToolGateway(deps).call(log_patterns, window=window, incident_start=split)
    found = asyncio.run(call).data
    return {
        "error bursts": [
            f"{b.service} ({b.incident_errors} lines, {b.baseline_errors} before)"
            for b in (found.bursts if found else [])
            if b.score >= MIN_BURST_SCORE
        ],
        "new error lines": [
            f"{p.service} {p.template[:60]}"
            for p, score in (found.patterns if found else [])
            if score >= MIN_PATTERN_SCORE and p.max_level >= LogLevel.ERROR
        ],
    }


def healthy_findings(bundle_dir: Path, inject: datetime) -> dict[str, list[str]]:
    """The findings of each test on the healthy part of one case (each a false one)."""
    bundle = load_bundle(bundle_dir)
    cut = inject.timestamp() - MARGIN_S
    spans = [s for s in bundle.spans or [] if s.start < cut]
    logs = [r for r in bundle.logs or [] if r.ts.timestamp() < cut]
    split = datetime.fromtimestamp(max(s.start for s in spans) - INCIDENT_S, UTC)
    series = [s.between(-math.inf, cut) for s in bundle.metrics or []]
    at = split.timestamp()
    changes = score_all(series, at)  # with the falls of processes that went away
    gone = {c.service for c in changes if c.went_away}

    def significant(found: list[SeriesChange]) -> list[SeriesChange]:
        return [c for c in found if c.score >= Z_THRESHOLD and c.effect > 0]

    failing = [c for c in significant(changes) if c.group is SignalGroup.ERRORS]
    # the engine scores the metrics again knowing the start (about the alert's lead before
    # it, the baseline ending its lookback before it): what that adds on healthy minutes
    start = at + (ALERT_LOOKBACK - ALERT_LEAD).total_seconds()
    plain = {(c.service, c.metric) for c in significant(changes)}
    again = significant(score_all(series, at, (), start))
    settled = [c for c in again if (c.service, c.metric) not in plain]
    edges = edge_changes(series, at)
    healthy = TimeWindow(start=bundle.window.start, end=datetime.fromtimestamp(cut, UTC))
    return {
        **span_findings(spans, logs, split),
        **log_findings(bundle, healthy, split),
        "process went away": sorted(gone),
        "metrics: errors rose": [f"{c.service} {c.metric}" for c in failing],
        "metrics: from the start": [f"{c.service} {c.metric}" for c in settled],
        "graph: link time": [f"{e.client} -> {e.server}" for e in edges if e.link_rose(at)],
        "graph: failed calls": [f"{e.client} -> {e.server}" for e in edges if e.rose(e.failed, at)],
    }


def tally(totals: dict[str, list[int]], findings: dict[str, list[str]], where: str) -> None:
    """Add one comparison's ``findings`` to ``totals`` (test -> [findings, comparisons with
    any]), printing each."""
    for test, found in findings.items():
        count = totals.setdefault(test, [0, 0])
        count[0] += len(found)
        count[1] += bool(found)
        for finding in found:
            print(f"  false {test}: {where}: {finding}")


def healthy_phases(root: Path, work: Path) -> list[tuple[str, Path]]:
    """Every fault-free phase under ``root`` (Nezha layout), converted into ``work``."""
    converted = []
    for day, phase in sorted(find_reference_dirs([root]).items()):
        reference, notes = build_reference(phase, work / day, None, f"{day} fault-free phase")
        if reference is None:
            print(f"  {day}: skipped ({'; '.join(notes)})")
            continue
        converted.append((f"{phase.parent.parent.name}/{day}", reference.directory))
    return converted


def real_null(roots: list[Path], work: Path) -> None:
    """The span and log tests on each fault-free phase, split at 40/50/60 %: printed."""
    totals: dict[str, list[int]] = {}
    splits = 0
    for root in roots:
        for name, directory in healthy_phases(root, work / f"phase-{len(totals)}-{root.name}"):
            bundle = load_bundle(directory)
            spans, logs = list(bundle.spans or []), list(bundle.logs or [])
            if not spans:
                print(f"  {name}: no spans")
                continue
            first, last = min(s.start for s in spans), max(s.start for s in spans)
            window = bundle.window
            for share in SPLITS:
                split = datetime.fromtimestamp(first + (last - first) * share, UTC)
                splits += 1
                found = span_findings(spans, logs, split) | log_findings(bundle, window, split)
                tally(totals, found, f"{name} split {share:.0%}")
    if not splits:
        return
    print(f"\nfalse findings on real healthy data: {splits} splits of fault-free phases")
    print(f"  ({SECOND_LOOKS[0]} second looks at a service the newest traces left uncompared)")
    SECOND_LOOKS[0] = 0
    print(f"  {'test':22} {'findings':>9} {'splits with any':>16}")
    for test, (findings, with_any) in totals.items():
        print(f"  {test:22} {findings:>9} {with_any:>8} ({with_any / splits:.1%})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=6, help="demo seeds 1..N (default 6; 0: none)")
    parser.add_argument(
        "--nezha-root",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also the fault-free phases under DIR (Nezha layout; repeatable)",
    )
    args = parser.parse_args()
    if args.seeds < 0 or (args.seeds == 0 and not args.nezha_root):
        parser.error("--seeds must be at least 1 (0 only with --nezha-root)")
    for root in args.nezha_root:
        if not root.is_dir():
            parser.error(f"--nezha-root {root}: not a directory")
        if not find_reference_dirs([root]):
            parser.error(f"--nezha-root {root}: no construct_data/<day>/ (fault-free phase)")
    if args.nezha_root:
        with tempfile.TemporaryDirectory(prefix="rcabot-null-real-") as work:
            real_null(args.nezha_root, Path(work))
    totals: dict[str, list[int]] = {}  # test -> [findings, cases with any]
    cases = 0
    with tempfile.TemporaryDirectory(prefix="rcabot-null-") as work:
        for seed in range(1, args.seeds + 1):
            for fault in FAULTS:
                demo = generate_case(Path(work) / "demo", fault, seed)
                label = json.loads(demo.label_path.read_text())
                inject = datetime.fromisoformat(label["inject_time"].replace("Z", "+00:00"))
                cases += 1
                tally(totals, healthy_findings(demo.bundle_dir, inject), f"{fault} seed {seed}")
    if not cases:
        return 0
    print(
        f"\nfalse findings on healthy data: {cases} demo cases, seeds 1..{args.seeds}, "
        f"last {INCIDENT_S / 60:.0f} min of the healthy part against the rest"
    )
    print(f"  ({SECOND_LOOKS[0]} second looks at a service the newest traces left uncompared)")
    print(f"  {'test':22} {'findings':>9} {'cases with any':>15}")
    for test, (findings, with_any) in totals.items():
        print(f"  {test:22} {findings:>9} {with_any:>8} ({with_any / cases:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
