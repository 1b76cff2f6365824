"""Wall time of each stage of ``rcabot demo``, and of a fresh ``make demo`` set-up.

    python bench/demo.py                 # every fault scenario, stage by stage
    python bench/demo.py --setup         # also: clone the repo and time a fresh `make demo`

Figures are printed, not asserted: targets are discussed in the README.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.commands import run_demo  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.demo import FAULTS  # noqa: E402


async def _stages(fault: str, seed: int, out: Path) -> dict[str, float]:
    run = await run_demo(load_settings(), out, fault, seed)
    stages = {"generate": run.seconds_generate * 1000}
    stages.update({t.stage: t.ms for t in run.report.timings})
    top = run.report.candidates[0].service if run.report.candidates else "-"
    stages["correct"] = float(top == run.label.get("service"))
    stages["evidence_tokens"] = float(run.report.tokens.evidence)
    return stages


def bench_stages(repeats: int) -> None:
    print(f"rcabot demo, stage wall times in ms (median of {repeats}; 2-core machine)\n")
    header = None
    with tempfile.TemporaryDirectory() as tmp:
        for fault in FAULTS:
            runs: list[dict[str, float]] = []
            for i in range(repeats):
                started = time.perf_counter()
                stages = asyncio.run(_stages(fault, 7, Path(tmp) / str(i)))
                stages["total"] = (time.perf_counter() - started) * 1000
                runs.append(stages)
            keys = [k for k in runs[0] if k not in ("correct", "evidence_tokens")]
            if header is None:
                header = keys
                print(
                    f"{'fault':<18}"
                    + "".join(f"{k:>10}" for k in keys)
                    + f"{'top1':>7}{'tokens':>8}"
                )
            medians = [statistics.median(r.get(k, 0.0) for r in runs) for k in header]
            print(
                f"{fault:<18}"
                + "".join(f"{m:>10.0f}" for m in medians)
                + f"{'yes' if runs[0]['correct'] else 'no':>7}"
                + f"{runs[0]['evidence_tokens']:>8.0f}"
            )


def bench_setup() -> None:
    print("\nfresh `make demo` set-up (clone → venv → install → demo):")
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "rcabot"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        started = time.perf_counter()
        subprocess.run(["make", "demo"], cwd=clone, check=True, stdout=subprocess.DEVNULL)
        print(f"  first `make demo` (venv + install + demo): {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        subprocess.run(["make", "demo"], cwd=clone, check=True, stdout=subprocess.DEVNULL)
        print(f"  second `make demo` (installed): {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--setup", action="store_true", help="also time a fresh make demo")
    args = parser.parse_args()
    bench_stages(args.repeats)
    if args.setup:
        bench_setup()


if __name__ == "__main__":
    main()
