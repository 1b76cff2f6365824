"""Log-template mining on Loghub's 2k samples: grouping accuracy and lines/s per core.

    python bench/log_templates.py [ARCHIVE_OR_DIR] [--repeats N]

For each of the 16 systems, mines the ``Content`` column of ``X_2k.log_structured.csv`` (the
message without its header, what Loghub's Drain benchmark parses) with rcabot's production miner
(``tools.analysis.template_miner.template_ids``, the path ``mine_patterns`` takes) and, as a
reference, with plain drain3 (``TemplateMiner``, default settings, no masking). Grouping accuracy
is Loghub's (a line is right iff its predicted group holds exactly the lines of its ground-truth
``EventId`` group); Loghub reports Drain at about 0.85 on average, with per-system regexes that
rcabot does not use. Throughput times the mining alone (CSV reading excluded), in this single
process (one core), a fresh miner per run; each system is mined ``--repeats`` times and the
median run is reported. The goals (issue): ≥ 50k lines/s per core, average GA around 0.85.

Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from drain3 import TemplateMiner as Drain3Miner
from drain3.template_miner_config import TemplateMinerConfig

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.datasets import unpacked  # noqa: E402
from tools.analysis.template_miner import grouping_accuracy, template_ids  # noqa: E402

DEFAULT = REPO.parent / "shared" / "datasets" / "loghub-2k.tar.xz"
SUFFIX = "_2k.log_structured.csv"

Mine = Callable[[list[str]], list[int]]


@dataclass(frozen=True)
class System:
    name: str
    messages: list[str]
    truth: list[str]


@dataclass(frozen=True)
class Result:
    templates: int
    accuracy: float
    seconds: float  # median mining time of one pass


def drain3_ids(messages: list[str]) -> list[int]:
    """Plain drain3 as a newcomer would use it: default config, no masking instructions."""
    miner = Drain3Miner(config=TemplateMinerConfig())
    return [int(miner.add_log_message(m)["cluster_id"]) for m in messages]


def uncached_ids(messages: list[str]) -> list[int]:
    """rcabot's miner with its caches off: the worst case, where no line repeats."""
    return template_ids(messages, cache=False)


MINERS: dict[str, Mine] = {"rcabot": template_ids, "drain3": drain3_ids}
EXTRA: dict[str, Mine] = {"rcabot, caches off": uncached_ids}


def dataset(path: Path) -> AbstractContextManager[Path]:
    return unpacked(path, "loghub-")


def load(root: Path) -> list[System]:
    systems = []
    for csv_path in sorted(root.rglob(f"*{SUFFIX}")):
        with csv_path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        systems.append(
            System(
                csv_path.name.removesuffix(SUFFIX),
                [row["Content"] for row in rows],
                [row["EventId"] for row in rows],
            )
        )
    return systems


def measure(mine: Mine, system: System, repeats: int) -> Result:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        ids = mine(system.messages)
        times.append(time.perf_counter() - started)
    return Result(len(set(ids)), grouping_accuracy(ids, system.truth), statistics.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="archive or folder")
    parser.add_argument("--repeats", type=int, default=5, help="runs per system (median shown)")
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0))
    print("command: " + shlex.join([Path(sys.executable).name, *sys.argv]))
    print(
        f"machine: {platform.machine()}, {cores} cores available, one used; "
        f"Python {platform.python_version()}; drain3 reference: default settings, no masking"
    )
    print(f"timing: median of {args.repeats} runs per system, mining only, fresh miner per run\n")

    with dataset(args.path) as root:
        systems = load(root)
    if not systems:
        raise SystemExit(f"no *{SUFFIX} files under {args.path}")

    results = {
        name: {s.name: measure(mine, s, args.repeats) for s in systems}
        for name, mine in (MINERS | EXTRA).items()
    }
    names = list(MINERS)
    print(
        f"{'system':<12}{'lines':>6}{'truth':>6}"
        + "".join(f"{n + ' tmpl':>13}{n + ' GA':>11}{n + ' lines/s':>16}" for n in names)
    )
    for s in systems:
        row = f"{s.name:<12}{len(s.messages):>6}{len(set(s.truth)):>6}"
        for n in names:
            r = results[n][s.name]
            row += f"{r.templates:>13}{r.accuracy:>11.3f}{len(s.messages) / r.seconds:>16,.0f}"
        print(row)
    lines = sum(len(s.messages) for s in systems)

    def averages(name: str) -> tuple[float, float]:
        rs = results[name].values()
        return statistics.fmean(r.accuracy for r in rs), lines / sum(r.seconds for r in rs)

    row = f"{'average':<12}{lines:>6}{'':>6}"
    for n in names:
        accuracy, speed = averages(n)
        row += f"{'':>13}{accuracy:>11.3f}{speed:>16,.0f}"
    print(row)
    for n in EXTRA:
        accuracy, speed = averages(n)
        print(f"{n}: average GA {accuracy:.3f}, {speed:,.0f} lines/s")
    print(
        "\naverage GA: unweighted mean over systems; average lines/s: all lines / summed median "
        "times.\ngoals: ≥ 50,000 lines/s per core; GA ≈ 0.85 (Loghub's Drain, tuned per system)"
    )


if __name__ == "__main__":
    main()
