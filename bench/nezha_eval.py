"""Root-cause ranking on the Nezha TrainTicket fault cases: top-1/3/5 accuracy, printed.

    python bench/nezha_eval.py [ARCHIVE_OR_DIR] [--keep DIR]

Imports every case (label.json beside each bundle), investigates each bundle exactly as
``rcabot investigate`` does, and only then reads the label to score the ranking.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.commands import investigate_bundle  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.importers.nezha import import_nezha  # noqa: E402

DEFAULT = REPO.parent / "shared" / "datasets" / "nezha-tt-2023-01-29.tar.xz"


async def evaluate(cases: list[Path]) -> list[int | None]:
    settings = load_settings()
    ranks: list[int | None] = []
    for case in cases:
        report = await investigate_bundle(settings, case / "bundle")
        label = json.loads((case / "label.json").read_text())
        names = [c.service for c in report.candidates]
        rank = names.index(label["service"]) + 1 if label["service"] in names else None
        ranks.append(rank)
        top = ", ".join(f"{c.service}:{c.fault_type.value}" for c in report.candidates[:3])
        print(f"{case.name:<52} {label['fault_type']:<15} rank {rank!s:<5} top: {top}")
    return ranks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--keep", type=Path, help="write the bundles here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        started = time.perf_counter()
        cases = import_nezha(args.source, out)
        print(f"imported {len(cases)} cases in {time.perf_counter() - started:.1f} s\n")
        started = time.perf_counter()
        ranks = asyncio.run(evaluate(sorted(c.case_dir for c in cases)))
        elapsed = time.perf_counter() - started
    n = len(ranks)
    print(f"\ninvestigated {n} cases in {elapsed:.1f} s")
    for k in (1, 3, 5):
        hits = sum(1 for r in ranks if r is not None and r <= k)
        print(f"top-{k}: {hits}/{n} = {hits / n:.1%}")


if __name__ == "__main__":
    main()
