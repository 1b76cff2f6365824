"""Reading Nezha's CSV files: required header columns, row by row, bad rows counted."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.importers.nezha_issues import Issues
from tools.bundle.files import parsed_rows


def csv_rows(
    path: Path, name: str, issues: Issues, columns: Sequence[str]
) -> Iterator[tuple[int, list[str]]]:
    """``(line, values of columns in the given order)`` for each well-formed row.

    A file without the required header is skipped with one issue; a malformed row or one with
    the wrong number of columns is skipped and counted with its line number.
    """
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            issues.skip(name, 1, f"unreadable header ({exc}); file skipped")
            return
        if header is None:
            issues.note(f"{name}: empty file")
            return
        missing = [c for c in columns if c not in header]
        if missing:
            issues.skip(name, 1, f"header lacks {', '.join(missing)}; file skipped")
            return
        order = [header.index(c) for c in columns]
        for row in parsed_rows(reader, lambda line, why: issues.skip(name, line, why)):
            if not row:
                continue
            if len(row) != len(header):
                issues.skip(
                    name, reader.line_num, f"expected {len(header)} columns, got {len(row)}"
                )
                continue
            yield reader.line_num, [row[i] for i in order]
