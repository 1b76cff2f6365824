"""The shared datasets as the bench scripts read them: unpacked into a temp dir, never the repo."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@contextmanager
def unpacked(path: Path, prefix: str) -> Iterator[Path]:
    """``path`` if it is a folder, else the archive unpacked into a temporary directory."""
    if path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, tarfile.open(path) as archive:
        archive.extractall(tmp, filter="data")
        yield Path(tmp)
