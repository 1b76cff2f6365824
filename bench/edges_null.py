"""False slow links and failed calls on real healthy hours: the call edges in a Nezha day's
metric files, compared with normal as in an investigation, window after window, through the
hours after the day's last injected fault. Printed.

    python bench/edges_null.py --nezha-root DIR [--nezha-root DIR]...

Nezha's OnlineBoutique days carry the median duration of the calls on each client → server
edge at both ends (a mesh's ``source_50.csv`` and ``destination_50.csv``, imported as
``call_client_latency_p50_seconds`` and ``call_server_latency_p50_seconds``:
``bot/importers/nezha_edges.py``), and their metric files run on for hours after the last
fault (2022-08-22: faults 03:53-07:53, samples until 23:59). Each window is what the importer
writes for a case (30 minutes before the start, 5 after) and is compared at its start as the
engine compares an incident (``tools.analysis.call_edges.edge_changes``); windows begin
:data:`QUIET_AFTER` after the last injection and every :data:`STEP` after that. Any slow link
or failed calls found there is a false one on a real system. ``link time, no ratio guard``
counts the slow links the time outside the server alone would give (without the client's time
having to grow a doubling over the server's): what that guard removes.

A day without edge files (the TrainTicket days) is listed and skipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.importers.nezha_issues import Issues  # noqa: E402
from bot.importers.nezha_layout import find_days, read_day  # noqa: E402
from bot.importers.nezha_metrics import MetricStore, load_metrics  # noqa: E402
from tools.analysis.call_edges import CallEdgeChange, edge_changes  # noqa: E402
from tools.bundle.metrics_file import read_metrics  # noqa: E402

BEFORE = timedelta(minutes=30)  # the importer's metrics_before: what the engine sees as normal
AFTER = timedelta(minutes=5)  # its metrics_after
QUIET_AFTER = timedelta(minutes=15)  # the last fault (a few minutes long) is over by then
STEP = timedelta(minutes=10)


def window_edges(store: MetricStore, start: float, at: float, end: float) -> list[CallEdgeChange]:
    """The edges of [start, end] compared at ``at``, read back as a bundle's would be."""
    sink = io.StringIO()
    store.write(sink, start, end, Issues(), notes=False)
    with tempfile.TemporaryDirectory(prefix="rcabot-edges-null-") as work:
        (Path(work) / "metrics.csv").write_text(sink.getvalue(), encoding="utf-8")
        series = read_metrics(Path(work), []) or []
    return edge_changes(series, at)


def day_null(day_dir: Path, totals: dict[str, int]) -> None:
    """Every window of the quiet hours of one day: its false findings printed and counted."""
    day = read_day(day_dir)
    store = load_metrics(day_dir / "metric", "metric/")
    if not store.edges or not day.cases:
        print(f"  {day.date}: no call-edge files (or no fault list); skipped")
        return
    last = max(case.inject_time for case in day.cases).timestamp()
    end = max(stamp for edge in store.edges for stamp in edge.stamps)
    start = last + QUIET_AFTER.total_seconds()
    windows = 0
    while start + (BEFORE + AFTER).total_seconds() <= end:
        at = start + BEFORE.total_seconds()
        edges = window_edges(store, start, at, at + AFTER.total_seconds())
        found = {
            "link time": [e for e in edges if e.link_rose(at)],
            "link time, no ratio guard": [
                e for e in edges if dataclasses.replace(e, link_ratio=None).link_rose(at)
            ],
            "failed calls": [e for e in edges if e.rose(e.failed, at)],
        }
        windows += 1
        totals["windows"] += 1
        totals["edge comparisons"] += len(edges)
        for test, hits in found.items():
            totals[test] += len(hits)
            for edge in hits if test != "link time, no ratio guard" else ():
                print(f"  false {test}: {day.date} at {_clock(at)}: {edge.client} -> {edge.server}")
        start += STEP.total_seconds()
    print(f"  {day.date}: {windows} windows from {_clock(last + QUIET_AFTER.total_seconds())}")


def _clock(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%H:%M")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--nezha-root",
        type=Path,
        action="append",
        required=True,
        metavar="DIR",
        help="a Nezha root (rca_data/<day>/ with metric/; repeatable)",
    )
    args = parser.parse_args()
    try:
        days = find_days(args.nezha_root)
    except ValueError as exc:
        parser.error(str(exc))
    totals = dict.fromkeys(
        ("windows", "edge comparisons", "link time", "link time, no ratio guard", "failed calls"),
        0,
    )
    for day_dir in days:
        day_null(day_dir, totals)
    if not totals["windows"]:
        print("no day with call-edge files and quiet hours after its faults")
        return 0
    print(
        f"\nfalse findings on real healthy hours: {totals['windows']} windows "
        f"({BEFORE.seconds // 60} min before + {AFTER.seconds // 60} after, every "
        f"{STEP.seconds // 60} min), {totals['edge comparisons']} edge comparisons"
    )
    for test in ("link time", "link time, no ratio guard", "failed calls"):
        share = totals[test] / totals["edge comparisons"] if totals["edge comparisons"] else 0
        print(f"  {test:27} {totals[test]:>5} ({share:.2%} of comparisons)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
