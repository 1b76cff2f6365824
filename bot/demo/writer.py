"""Writing a case directory: deterministic serialisation and an atomic swap into place.

Files are written into a temporary directory inside the output directory and renamed into place
only when complete, so an interrupted run never leaves a half-written case that looks finished.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_COMPACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Any) -> str:
    """Compact JSON with sorted keys (byte-identical for identical input)."""
    return _COMPACT.encode(obj)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(
        json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def write_jsonl(path: Path, records: Iterable[Any]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(dumps(record))
            handle.write("\n")


def write_lines(path: Path, lines: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line)
            handle.write("\n")


class StagedDir:
    """A temporary sibling of ``target`` that replaces it on :meth:`commit`."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        )
        umask = os.umask(0)
        os.umask(umask)
        self.path.chmod(0o777 & ~umask)

    def commit(self) -> None:
        old: Path | None = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{self.path.name}")
            self.target.rename(old)
        self.path.rename(self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
