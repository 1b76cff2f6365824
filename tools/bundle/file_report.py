"""What reading one bundle file found: lines used and skipped, and the warnings saying why."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tools.bundle import fields
from tools.errors import BundleError

MAX_WARNINGS_PER_FILE = 20


@dataclass
class FileReport:
    """What reading one file found: how many lines were used and skipped, and why."""

    name: str
    read: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    units: set[str] = field(default_factory=set)
    clipped: list[int] = field(default_factory=lambda: [0])

    def skip(self, line: int, reason: str) -> None:
        self.skipped += 1
        if len(self.warnings) < MAX_WARNINGS_PER_FILE:
            self.warnings.append(f"{self.name}:{line}: {reason}")

    def summary(self) -> list[str]:
        out = list(self.warnings)
        hidden = self.skipped - len(self.warnings)
        if hidden > 0:
            out.append(f"{self.name}: {hidden} more bad lines skipped")
        out.extend(
            f"{self.name}: timestamps given in epoch {unit}; converted to seconds"
            for unit in sorted(self.units)
        )
        if self.clipped[0]:
            out.append(
                f"{self.name}: {self.clipped[0]} texts clipped to {fields.MAX_TEXT} characters"
            )
        return out


def fail_if_all_bad(path: Path, report: FileReport) -> None:
    if report.read == 0 and report.skipped > 0:
        first = report.warnings[0] if report.warnings else ""
        raise BundleError(f"{path}: every line is bad ({report.skipped} lines); first: {first}")
