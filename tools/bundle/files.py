"""Opening bundle files safely: regular files only, bounded lines, bounded JSON.

A bundle path that is a directory, a FIFO, a device (``/dev/zero``), a dangling link or a
symlink loop is a :class:`BundleError` naming the file — never a hang or an ``OSError``. Lines
longer than :data:`MAX_LINE` characters are skipped (reported through ``skip``) without being
read into memory whole; a UTF-8 byte-order mark is ignored; undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tools.errors import BundleError, RcabotError

MAX_LINE = 1 << 20  # characters in one line of a line-oriented file
MAX_JSON_FILE = 64 << 20  # bytes of a whole-file JSON document (manifest.json, alerts.json)
_ENDS = ("\n", "\r")


def present(path: Path) -> bool:
    """``False`` if ``path`` does not exist; ``True`` if it is a readable regular file;
    :class:`BundleError` for anything else that is there."""
    try:
        if path.is_symlink() and not path.exists():
            raise BundleError(f"{path}: a dangling symbolic link or a link loop")
        if not path.exists():
            return False
        if not path.is_file():
            raise BundleError(f"{path}: not a regular file (a directory, device or pipe?)")
    except OSError as exc:
        raise BundleError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    return True


def numbered_lines(path: Path, skip: Callable[[int, str], None]) -> Iterator[tuple[int, str]]:
    """Every line of ``path`` (blank ones too) with its 1-based number. An over-long line is
    reported through ``skip`` and yielded as ``"\\n"`` so that numbering stays right."""
    try:
        handle = path.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise BundleError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    with handle:
        number = 0
        while True:
            try:
                line = handle.readline(MAX_LINE + 1)
                if not line:
                    return
                number += 1
                if len(line) > MAX_LINE and not line.endswith(_ENDS):
                    while (rest := handle.readline(MAX_LINE)) and not rest.endswith(_ENDS):
                        pass
                    skip(number, f"line longer than {MAX_LINE} characters")
                    line = "\n"
            except OSError as exc:
                raise BundleError(f"{path}:{number}: cannot be read: {exc}") from exc
            yield number, line


def parsed_rows(reader: Any, skip: Callable[[int, str], None]) -> Iterator[list[str]]:
    """Each row a ``csv.reader`` gives; one it cannot parse (a field over the size limit, a
    stray quote in strict mode) is reported through ``skip`` with its line and passed over."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            skip(reader.line_num, f"bad CSV ({exc})")
            continue
        yield row


def parse_json(text: str) -> Any:
    """``json.loads`` that raises ``ValueError`` (with a short reason) for anything it cannot
    parse, nesting too deep included."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def read_json(
    path: Path, *, label: str | None = None, error: type[RcabotError] = BundleError
) -> Any:
    """The JSON document in ``path`` (a regular file, at most :data:`MAX_JSON_FILE` bytes);
    otherwise ``error`` (a :class:`BundleError` by default) naming ``label`` (the path)."""
    where = label or str(path)
    try:
        if not path.exists():
            raise error(f"{where}: file does not exist")
        if not path.is_file():
            raise error(f"{where}: not a regular file")
        size = path.stat().st_size
        if size > MAX_JSON_FILE:
            raise error(f"{where}: {size} bytes; at most {MAX_JSON_FILE} are read")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{where}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise error(f"{where}: cannot be read: {exc.strerror or exc}") from exc
    try:
        return parse_json(text)
    except ValueError as exc:
        raise error(f"{where}: {exc}") from exc
