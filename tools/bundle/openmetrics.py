"""A small reader for the OpenMetrics text samples a bundle may hold (``metrics.om``).

Only what ``promtool tsdb create-blocks-from openmetrics`` needs: ``name{labels} value ts``
sample lines, ``#`` comment/TYPE/HELP lines, ``# EOF``. Each sample needs a ``service`` label
and a timestamp in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.bundle.files import numbered_lines
from tools.bundle.timestamps import epoch_seconds

_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+(?P<ts>\S+))?\s*$"
)
MAX_SAMPLE_LINE = 64 * 1024  # characters; longer lines are skipped before any regex runs
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


@dataclass(frozen=True, slots=True)
class Sample:
    metric: str
    service: str
    labels: dict[str, str]
    value: float
    timestamp: float


def parse_labels(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _LABEL.match(text, position)
        if match is None:
            raise ValueError(f"bad label set {{{text}}}")
        labels[match.group(1)] = bytes(match.group(2), "utf-8").decode("unicode_escape")
        position = match.end()
    return labels


def read_openmetrics(path: Path, skip: Callable[[int, str], None]) -> Iterator[tuple[int, Sample]]:
    """Yield ``(line number, sample)``; report bad lines through ``skip(line, reason)``."""
    for number, raw in numbered_lines(path, skip):
        line = raw.strip()
        if not line or line.startswith("#"):
            if line == "# EOF":
                return
            continue
        if len(line) > MAX_SAMPLE_LINE:
            skip(number, f"sample line longer than {MAX_SAMPLE_LINE} characters")
            continue
        match = _SAMPLE.match(line)
        if match is None:
            skip(number, "not an OpenMetrics sample line")
            continue
        try:
            labels = parse_labels(match.group("labels") or "")
            value = float(match.group("value"))
            if match.group("ts") is None:
                raise ValueError("sample has no timestamp")
            timestamp, _ = epoch_seconds(float(match.group("ts")))
        except ValueError as exc:
            skip(number, str(exc))
            continue
        service = labels.pop("service", "")
        if not service:
            skip(number, "sample has no 'service' label")
            continue
        yield number, Sample(match.group("name"), service, labels, value, timestamp)
