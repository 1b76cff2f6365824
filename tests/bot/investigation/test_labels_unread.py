"""The engine never reads the ground truth: ``label.json`` beside a bundle is for evaluations.

Generators and importers write ``CASE/label.json`` next to ``CASE/bundle/``
(tools/bundle/FORMAT.md); an engine that peeked at it would score perfectly on every benchmark
and be useless in production. An audit hook (PEP 578) sees every file the process opens,
whichever way it is opened (``open``, ``io.open``, ``Path.open``, ``os.open``), so the tests
both record what an investigation opens and make opening the label fail.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.commands import investigate_bundle
from bot.config import load_settings
from bot.demo import generate_case
from bot.investigation.report import Report


@dataclass
class OpenWatch:
    """Files opened and directories listed while active; opening ``blocked`` fails."""

    blocked: str
    opened: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)


_ACTIVE: list[OpenWatch] = []  # the hook below cannot be removed: it acts only while set
_INSTALLED: list[bool] = []


def _absolute(target: object) -> str | None:
    if isinstance(target, int) or target is None:
        return None  # a file descriptor or the current directory: not a path of ours
    if isinstance(target, str | bytes | os.PathLike):
        return os.path.abspath(os.fsdecode(os.fspath(target)))
    return None


def _key(path: Path) -> str:
    """How the hook names ``path``."""
    return os.path.abspath(path)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _ACTIVE or event not in ("open", "os.listdir", "os.scandir"):
        return
    watch, path = _ACTIVE[-1], _absolute(args[0] if args else None)
    if path is None:
        return
    if event != "open":
        watch.listed.append(path)
        return
    watch.opened.append(path)
    if path == watch.blocked:
        raise PermissionError(f"the engine opened the ground truth {path}")


@pytest.fixture
def watch_opens() -> Iterator[list[OpenWatch]]:
    """Install the audit hook once per process; clear the active watch after the test."""
    if not _INSTALLED:
        sys.addaudithook(_audit)
        _INSTALLED.append(True)
    yield _ACTIVE
    _ACTIVE.clear()


async def _investigate(bundle: Path) -> Report:
    return await investigate_bundle(load_settings(), bundle, use_llm=False)


def _ranking(report: Report) -> list[tuple[str, str, float]]:
    return [(c.service, c.fault_type.value, c.score) for c in report.candidates]


async def test_investigation_never_opens_the_label(
    tmp_path: Path, watch_opens: list[OpenWatch]
) -> None:
    case = generate_case(tmp_path, "bad-deploy", 3)
    watch = OpenWatch(blocked=_key(case.label_path))
    watch_opens.append(watch)

    report = await _investigate(case.bundle_dir)

    assert report.candidates, "the investigation ranked nothing"
    # the hook saw the engine read the bundle, so its silence about the label means something
    assert _key(case.bundle_dir / "metrics.csv") in watch.opened
    assert watch.blocked not in watch.opened
    assert _key(case.case_dir) not in watch.listed  # nor went looking beside it


async def test_ranking_does_not_depend_on_the_label(tmp_path: Path) -> None:
    case = generate_case(tmp_path, "network-delay", 5)
    with_label = await _investigate(case.bundle_dir)

    case.label_path.unlink()
    case.label_path.mkdir()  # unreadable as a file: any read of it would raise
    without_label = await _investigate(case.bundle_dir)

    assert with_label.candidates
    assert _ranking(without_label) == _ranking(with_label)


def test_the_watch_blocks_every_way_of_opening_the_label(
    tmp_path: Path, watch_opens: list[OpenWatch]
) -> None:
    label = tmp_path / "label.json"
    label.write_text('{"service": "payments"}')
    watch_opens.append(OpenWatch(blocked=_key(label)))

    def builtin_open() -> None:
        with open(label, encoding="utf-8") as handle:
            handle.read()

    def os_open() -> None:
        os.close(os.open(label, os.O_RDONLY))

    for read in (label.read_text, label.read_bytes, builtin_open, os_open):
        with pytest.raises(PermissionError, match="ground truth"):
            read()
