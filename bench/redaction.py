"""The text pipeline's speed: lines/s on real log lines, and the worst case on hostile input.

    python bench/redaction.py [LOGHUB_ARCHIVE_OR_DIR]

Real lines are the ``Content`` column of Loghub's 2k samples (16 systems, 32,000 lines; what
template mining sees), run through ``TextPipeline.redact`` (what runs before mining) and the
whole pipeline at the excerpt limit, in this one process (one core); best of 3 passes. The worst
case is the slowest of a set of 1 MB adversarial inputs (long digit and card runs, marker and
markup floods, unterminated PEM blocks, escape floods). Goal (issue 8): ≥ 20,000 lines/s on
one core; the worst case must stay linear (seconds, not minutes).

Figures are printed, not asserted.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.datasets import unpacked  # noqa: E402
from tools.text import EXCERPT_CHARS, TextPipeline  # noqa: E402

DEFAULT = REPO.parent / "shared" / "datasets" / "loghub-2k.tar.xz"
ADVERSARIAL = {
    "digits and spaces": "1 " * 500_000,
    "card-like groups": "4111 " * 200_000,
    "citation markers": "[E1" * 330_000,
    "slack markup": "<!" * 500_000,
    "password= pairs": "password=" * 110_000,
    "PEM headers": "-----BEGIN PRIVATE KEY-----" * 37_000,
    "e-mail-like": "a@" * 500_000,
    "phone-like": "+1 " * 330_000,
    "ANSI escapes": "\x1b[" * 500_000,
    "JWT-like": "eyJ." * 250_000,
    "URL credentials": "postgres://a:" * 77_000,
    "bidi and zero-width": "\u202e\u200b" * 500_000,
}


def _lines(source: Path) -> list[str]:
    lines: list[str] = []
    with unpacked(source, "loghub-") as root:
        for path in sorted(root.rglob("*_2k.log_structured.csv")):
            with path.open(newline="", encoding="utf-8", errors="replace") as handle:
                lines += [row["Content"] for row in csv.DictReader(handle)]
    return lines


def _rate(run: Callable[[str], str], lines: list[str]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for line in lines:
            run(line)
        best = min(best, time.perf_counter() - started)
    return len(lines) / best


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    pipeline = TextPipeline()
    lines = _lines(source)
    changed = sum(pipeline.redact(line) != line for line in lines)
    print(f"{len(lines):,} Loghub lines; redaction changed {changed}")
    print(f"redact only:          {_rate(pipeline.redact, lines):>12,.0f} lines/s")
    whole = _rate(lambda text: pipeline(text, EXCERPT_CHARS), lines)
    print(f"whole pipeline (600): {whole:>12,.0f} lines/s")
    worst = ("", 0.0)
    for name, text in ADVERSARIAL.items():
        started = time.perf_counter()
        pipeline(text, EXCERPT_CHARS)
        pipeline.redact(text)
        seconds = time.perf_counter() - started
        print(f"1 MB {name:<22} {seconds:6.2f} s")
        worst = max(worst, (name, seconds), key=lambda w: w[1])
    print(f"worst case: {worst[0]}, {worst[1]:.2f} s per MB (pipeline + redact)")


if __name__ == "__main__":
    main()
