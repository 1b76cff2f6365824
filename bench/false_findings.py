"""False findings on healthy data: how often the trace, code-path and process tests report a
change where there is none, printed.

    python bench/false_findings.py [--seeds N]

The code-path test (``tools.analysis.code_paths``), calls that stop or start and the time on a
call outside the callee's span (``tools.analysis.span_attribution``) each run at p ≤ 0.001 per
comparison, with no correction for the hundreds of comparisons an incident makes; their tests
account for how thin the normal sample is instead. A process that went away
(``tools.analysis.change_scores.went_away``: CPU and memory both fell to under a quarter, each
at robust z ≥ 3) is counted too, and so are the service graph's edges in the metrics
(``tools.analysis.call_edges``: time outside the server that grew, calls that failed more,
each at robust z ≥ 3, as every metric). This measures what that costs: each demo
case (every fault × seeds 1..N) is cut before its fault is injected (a minute of margin), and the
last 10 minutes of that healthy part are compared with the rest, as the engine compares an
incident with the minutes before it. Any finding there is a false one. The demo is rcabot's own
simulation (random users, user agents, carts, a few slow requests), so the figure shows the
tests' behaviour on noise with a known null, not on another system.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.demo import FAULTS, generate_case  # noqa: E402
from tools.analysis.call_edges import edge_changes  # noqa: E402
from tools.analysis.change_scores import went_away  # noqa: E402
from tools.analysis.code_path_events import MIN_SCORE  # noqa: E402
from tools.analysis.code_paths import find_code_path_changes  # noqa: E402
from tools.analysis.span_attribution import analyze_traces  # noqa: E402
from tools.bundle.backends import by_trace  # noqa: E402
from tools.bundle.reader import load_bundle  # noqa: E402

INCIDENT_S = 600.0  # the "incident": the last 10 minutes of the healthy part
MARGIN_S = 60.0  # cut this long before the injection


def healthy_findings(bundle_dir: Path, inject: datetime) -> dict[str, list[str]]:
    """The findings of each test on the healthy part of one case (each a false one)."""
    bundle = load_bundle(bundle_dir)
    cut = inject.timestamp() - MARGIN_S
    spans = [s for s in bundle.spans or [] if s.start < cut]
    logs = [r for r in bundle.logs or [] if r.ts.timestamp() < cut]
    split = datetime.fromtimestamp(max(s.start for s in spans) - INCIDENT_S, UTC)
    paths = find_code_path_changes(spans, logs, split)
    analysis = analyze_traces(by_trace(spans).values(), split.timestamp())
    series = [s.between(-math.inf, cut) for s in bundle.metrics or []]
    gone = {c.service for c in went_away(series, split.timestamp())}
    at = split.timestamp()
    edges = edge_changes(series, at)
    return {
        "code paths": [f"{c.service} {c.operation} {c.kind} {c.template[:60]}" for c in paths],
        "calls stop/start": [
            f"{e.caller} -> {e.callee}" for e in analysis.edges if e.call_surprise >= MIN_SCORE
        ],
        "time outside callee": [
            f"{e.caller} -> {e.callee}" for e in analysis.edges if e.gap_score > 0
        ],
        "process went away": sorted(gone),
        "graph: link time": [f"{e.client} -> {e.server}" for e in edges if e.link_rose(at)],
        "graph: failed calls": [f"{e.client} -> {e.server}" for e in edges if e.rose(e.failed, at)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=6, help="demo seeds 1..N (default 6)")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    totals: dict[str, list[int]] = {}  # test -> [findings, cases with any]
    cases = 0
    with tempfile.TemporaryDirectory(prefix="rcabot-null-") as work:
        for seed in range(1, args.seeds + 1):
            for fault in FAULTS:
                demo = generate_case(Path(work) / "demo", fault, seed)
                label = json.loads(demo.label_path.read_text())
                inject = datetime.fromisoformat(label["inject_time"].replace("Z", "+00:00"))
                cases += 1
                for test, found in healthy_findings(demo.bundle_dir, inject).items():
                    count = totals.setdefault(test, [0, 0])
                    count[0] += len(found)
                    count[1] += bool(found)
                    for finding in found:
                        print(f"  false {test}: {fault} seed {seed}: {finding}")
    print(
        f"\nfalse findings on healthy data: {cases} demo cases, seeds 1..{args.seeds}, "
        f"last {INCIDENT_S / 60:.0f} min of the healthy part against the rest"
    )
    print(f"  {'test':22} {'findings':>9} {'cases with any':>15}")
    for test, (findings, with_any) in totals.items():
        print(f"  {test:22} {findings:>9} {with_any:>8} ({with_any / cases:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
