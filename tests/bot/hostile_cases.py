"""Hostile-input cases for the CLI matrix tests, and the check each one must pass.

A :class:`Case` is an argument list (``{b}``: a fresh small bundle, ``{t}``: a scratch
directory, ``{a}``: the alert file ``setup`` wrote) and what must come out: exit 2 with ONE
line on stderr naming the file, field or option — or, where the input is legitimately
skippable, exit 0 with the problem listed as a warning. Never exit 70 (that is for bugs),
never a traceback, never a hang.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from bot.cli import main
from tests.bundles import T0, alert_payload, iso, small_incident, write_jsonl

SECONDS_PER_CASE = 20
GOOD_LOG = {"ts": iso(T0), "service": "web", "level": "INFO", "message": "ok"}
DEEP = "[" * 10_000 + "]" * 10_000


@dataclass(frozen=True)
class Case:
    """``args`` may use ``{b}`` (a fresh small bundle), ``{t}`` (a temporary directory) and
    ``{a}`` (the alert file ``setup`` wrote); ``setup`` breaks the bundle or writes files."""

    id: str
    args: tuple[str, ...]
    expect: str  # a fragment of the one stderr line (exit 2) or of the warnings (exit 0)
    code: int = 2
    setup: Callable[[Path, Path], None] | None = None
    env: tuple[tuple[str, str], ...] = ()


def alert_json(payload: Any) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        text = payload if isinstance(payload, str | bytes) else json.dumps(payload)
        path = tmp / "alert.json"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return write


def one_alert(**fields: Any) -> dict[str, Any]:
    payload = alert_payload("WebDown", "web", T0 + timedelta(minutes=44))
    payload.pop("commonLabels")
    payload["alerts"][0].update(fields)
    return payload


def bundle_file(name: str, content: str | bytes) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        path = bundle / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return write


def log_lines(*rows: dict[str, Any] | str) -> Callable[[Path, Path], None]:
    """logs.jsonl: the good bundle's lines, plus ``rows``."""

    def write(bundle: Path, tmp: Path) -> None:
        with (bundle / "logs.jsonl").open("a", encoding="utf-8") as handle:
            for row in rows:
                handle.write((row if isinstance(row, str) else json.dumps(row)) + "\n")

    return write


def only_logs(*rows: dict[str, Any] | str) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        write_jsonl(bundle / "logs.jsonl", rows)

    return write


def replace_with_dir(name: str) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        (bundle / name).unlink()
        (bundle / name).mkdir()

    return write


def symlink(name: str, target: str) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        (bundle / name).unlink()
        (bundle / name).symlink_to(target if target != "self" else bundle / name)

    return write


def fifo(name: str) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        (bundle / name).unlink()
        os.mkfifo(bundle / name)

    return write


def manifest_with(**fields: Any) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        path = bundle / "manifest.json"
        manifest = json.loads(path.read_text())
        manifest.update(fields)
        path.write_text(json.dumps(manifest))

    return write


def metric_rows(*rows: str) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        with (bundle / "metrics.csv").open("a", encoding="utf-8") as handle:
            handle.write("\n".join(rows) + "\n")

    return write


def config_file(text: str | bytes) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        path = tmp / "rcabot.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return write


def scratch_file(name: str, content: bytes) -> Callable[[Path, Path], None]:
    def write(bundle: Path, tmp: Path) -> None:
        (tmp / name).write_bytes(content)

    return write


def truncated_archive(bundle: Path, tmp: Path) -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        tar.add(bundle, arcname="rca_data")
    (tmp / "nezha.tar.xz").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])


INV = ("investigate", "--bundle", "{b}")
WITH_ALERT = (*INV, "--alert", "{a}")
FUTURE = iso(datetime.now(UTC) + timedelta(days=30))


class _Hang(Exception):
    pass


@contextmanager
def deadline() -> Iterator[None]:
    """Interrupts a case that hangs (SIGALRM), so a hang fails instead of blocking the run."""

    def fire(signum: int, frame: FrameType | None) -> None:
        raise _Hang(f"took more than {SECONDS_PER_CASE}s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(SECONDS_PER_CASE)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    return 0


def check(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run ``case`` through ``bot.cli.main`` and assert what it promises."""
    bundle = small_incident(tmp_path / "bundle")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    alert_file = scratch / "alert.json"
    if case.setup is not None:
        case.setup(bundle, scratch)
    if not alert_file.exists() and "{a}" in case.args:
        alert_file.mkdir()  # "alert is a directory"
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(scratch)
    args = [a.format(b=bundle, t=scratch, a=alert_file) for a in case.args]
    started = time.monotonic()
    with deadline():
        code = run_cli(args)
    out, err = capsys.readouterr()
    assert time.monotonic() - started < SECONDS_PER_CASE
    assert "Traceback" not in out + err
    assert code == case.code, err or out[-2000:]
    if case.code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("error: "), err
        assert case.expect in lines[0], err
    else:
        assert err == "", err
        if case.expect:
            warnings = json.loads(out)["warnings"] if "--json" in case.args else out
            assert case.expect in json.dumps(warnings), warnings
