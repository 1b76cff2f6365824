"""generate_case: layout, determinism, atomic writes, and that the reader accepts the bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo import (
    DEFAULT_FAULT,
    DEFAULT_SEED,
    FAULTS,
    DemoCase,
    generate_case,
    writer,
)
from tests.bot.demo.conftest import Loaded
from tools.bundle.reader import load_bundle

BUNDLE_FILES = {
    "logs.jsonl", "metrics.csv", "traces.jsonl", "alerts.json", "changes.jsonl", "manifest.json",
}  # fmt: skip


def _files(case: DemoCase) -> dict[str, bytes]:
    out = {name: (case.bundle_dir / name).read_bytes() for name in BUNDLE_FILES}
    out["label.json"] = case.label_path.read_bytes()
    return out


def test_public_constants() -> None:
    assert FAULTS == (
        "bad-deploy", "error-return", "cpu-contention", "memory-leak", "network-delay",
        "dependency-outage", "network-loss", "disk-saturation", "thread-leak", "disk-full",
    )  # fmt: skip
    assert DEFAULT_FAULT == "bad-deploy"
    assert DEFAULT_SEED == 7


def test_case_layout_puts_label_next_to_bundle(cases: dict[str, Loaded], demo_root: Path) -> None:
    case = cases["bad-deploy"].case
    assert case.case_dir == demo_root / "bad-deploy-seed7"
    assert case.bundle_dir == case.case_dir / "bundle"
    assert case.label_path == case.case_dir / "label.json"
    assert case.fault == "bad-deploy"
    assert case.root_cause_service == "payments"
    assert {p.name for p in case.bundle_dir.iterdir()} == BUNDLE_FILES
    assert {p.name for p in case.case_dir.iterdir()} == {"bundle", "label.json"}
    # nothing left over from the staging directory
    assert sorted(p.name for p in demo_root.iterdir()) == sorted(f"{f}-seed7" for f in FAULTS)


@pytest.mark.parametrize("fault", FAULTS)
def test_ground_truth_never_inside_the_bundle(cases: dict[str, Loaded], fault: str) -> None:
    loaded = cases[fault]
    bundle = loaded.case.bundle_dir
    assert not (bundle / "label.json").exists()
    assert loaded.case.label_path.parent != bundle
    for name in BUNDLE_FILES:
        text = (bundle / name).read_text(encoding="utf-8")
        assert "fault_type" not in text and "inject_time" not in text, name
    assert loaded.label["service"] == loaded.case.root_cause_service
    assert loaded.label["fault_type"] == fault
    assert loaded.label["source"] == f"rcabot demo --fault {fault} --seed 7"
    assert loaded.label["instance"].startswith(loaded.case.root_cause_service)


def test_same_seed_gives_identical_bytes_and_overwrites(
    cases: dict[str, Loaded], tmp_path: Path
) -> None:
    first = generate_case(tmp_path, DEFAULT_FAULT, DEFAULT_SEED)
    again = generate_case(tmp_path, DEFAULT_FAULT, DEFAULT_SEED)  # replaces the existing case
    assert again == first
    assert [p.name for p in tmp_path.iterdir()] == ["bad-deploy-seed7"]
    assert _files(again) == _files(cases["bad-deploy"].case)


def test_different_seed_gives_different_data(cases: dict[str, Loaded], tmp_path: Path) -> None:
    other = _files(generate_case(tmp_path, "bad-deploy", 8))
    same = _files(cases["bad-deploy"].case)
    for name in ("logs.jsonl", "metrics.csv", "traces.jsonl", "label.json"):
        assert other[name] != same[name], name


def test_unknown_fault_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown fault 'kernel-panic'") as info:
        generate_case(tmp_path, "kernel-panic")
    for fault in FAULTS:
        assert fault in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_negative_seed_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        generate_case(tmp_path, "bad-deploy", -1)


def test_interrupted_run_leaves_nothing_that_looks_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(path: Path, lines: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writer, "write_lines", boom)
    with pytest.raises(OSError, match="disk full"):
        generate_case(tmp_path, "error-return", 3)
    assert list(tmp_path.iterdir()) == []


def test_staged_dir_replaces_target_only_on_commit(tmp_path: Path) -> None:
    target = tmp_path / "case"
    target.mkdir()
    (target / "old.txt").write_text("old")
    staged = writer.StagedDir(target)
    (staged.path / "new.txt").write_text("new")
    assert (target / "old.txt").exists()
    staged.commit()
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["case"]


@pytest.mark.parametrize("fault", FAULTS)
def test_bundle_reads_without_warnings(cases: dict[str, Loaded], fault: str) -> None:
    loaded = cases[fault]
    bundle = load_bundle(loaded.case.bundle_dir)
    assert bundle.warnings == []
    assert bundle.logs is not None and len(bundle.logs) >= 20_000
    assert bundle.spans is not None and len({s.trace_id for s in bundle.spans}) >= 1_000
    assert bundle.alerts is not None and len(bundle.alerts) == 1
    assert bundle.changes is not None and len(bundle.changes) >= 2
    assert len(bundle.services) >= 8
    assert (bundle.window.end - bundle.window.start).total_seconds() == 7200
    assert loaded.manifest["source"] == f"rcabot demo --fault {fault} --seed 7"
    assert set(loaded.manifest["services"]) == {s.service for s in bundle.metrics or ()}
