"""Bad input met while importing a Nezha case: skipped lines (``file:line``) and notes.

Lines are skipped and counted, never fatal; each file keeps at most ``per_file`` line warnings
and one summary line for the rest, the same convention as the bundle reader.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


class Issues:
    """Warnings collected for one imported case, in the order they were found."""

    def __init__(self, per_file: int = 20) -> None:
        self._per_file = per_file
        self._shown: Counter[str] = Counter()
        self._flagged: Counter[str] = Counter()
        self._skipped = 0
        self._lines: list[str] = []

    def skip(self, file: str, line: int | None, reason: str) -> None:
        """One bad line of ``file`` (relative to the dataset day directory) was skipped."""
        self._skipped += 1
        self.flag(file, line, f"{reason}; skipped")

    def flag(self, file: str, line: int | None, reason: str) -> None:
        """A line of ``file`` was odd but used (e.g. a message recovered from a broken field)."""
        self._flagged[file] += 1
        if self._shown[file] < self._per_file:
            self._shown[file] += 1
            where = f"{file}:{line}" if line is not None else file
            self._lines.append(f"{where}: {reason}")

    def note(self, message: str) -> None:
        """Something worth knowing that is not a skipped line (a missing file, a dead column)."""
        self._lines.append(message)

    def extend(self, messages: Iterable[str]) -> None:
        self._lines.extend(messages)

    @property
    def skipped(self) -> int:
        return self._skipped

    def as_tuple(self) -> tuple[str, ...]:
        hidden = [
            f"{file}: {count - self._shown[file]} more bad lines"
            for file, count in sorted(self._flagged.items())
            if count > self._shown[file]
        ]
        return (*self._lines, *hidden)
