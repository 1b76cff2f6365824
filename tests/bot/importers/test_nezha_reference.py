"""The fault-free phase (construct_data/) as each case bundle's reference/, in bundle format."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.importers import nezha_reference
from bot.importers.nezha import ImportedCase, import_nezha
from tests.bot.importers.conftest import NEZHA_NORMAL_ARCHIVE
from tests.bot.importers.fake_nezha import POD, phase_files, write_lines
from tests.bundles import NEZHA_ARCHIVE
from tools.bundle.reader import load_bundle

FILES = {"logs.jsonl", "traces.jsonl", "metrics.csv", "manifest.json"}


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _when(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _window(reference: Path) -> tuple[float, float]:
    window = _json(reference / "manifest.json")["window"]
    return _when(window["start"]), _when(window["end"])


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _records(reference: Path) -> list[float]:
    """Times of the phase's log records and spans."""
    stamps = [_when(record["ts"]) for record in _lines(reference / "logs.jsonl")]
    return stamps + [_when(span["start"]) for span in _lines(reference / "traces.jsonl")]


def _samples(reference: Path) -> list[float]:
    with (reference / "metrics.csv").open(newline="") as handle:
        return [_when(row["timestamp"]) for row in csv.DictReader(handle)]


def _stamps(reference: Path) -> list[float]:
    return _records(reference) + _samples(reference)


def _assert_label_outside(case: ImportedCase) -> None:
    label = _json(case.label_path)
    assert not any(p.name == "label.json" for p in case.bundle_dir.rglob("*"))
    manifest = (case.bundle_dir / "reference" / "manifest.json").read_text()
    assert label["fault_type"] not in manifest
    assert label["instance"] not in manifest


def test_reference_is_the_phase_in_bundle_format(fake_phase: Path, tmp_path: Path) -> None:
    (case,) = import_nezha(fake_phase.parents[1], tmp_path / "out")
    assert case.reference_dir == case.bundle_dir / "reference"
    assert {p.name for p in case.reference_dir.iterdir()} == FILES
    manifest = _json(case.reference_dir / "manifest.json")
    assert manifest["format"] == "rcabot-bundle"
    lo, hi = _window(case.reference_dir)
    records, samples = _records(case.reference_dir), _samples(case.reference_dir)
    assert all(lo <= t < hi for t in records + samples)  # closed-open, as every window
    assert 0 <= min(records) - lo < 1  # starts with the phase
    # ends half a step past the first sample after the phase's last record (the one covering
    # that minute), which the reader serves with the rest
    assert hi - max(samples) == 30
    assert 0 < hi - max(records) <= 90
    with (case.reference_dir / "metrics.csv").open(newline="") as handle:
        cpu = [
            (r["timestamp"], float(r["value"]))
            for r in csv.DictReader(handle)
            if r["metric"] == "cpu_usage_ratio"
        ]
    # the phase's own metric file (08:49..08:52), only the samples that describe the phase
    assert [t for t, _ in cpu] == ["2023-01-29T08:51:09Z", "2023-01-29T08:52:09Z"]
    assert all(v == pytest.approx(0.025) for _, v in cpu)
    reference = load_bundle(case.reference_dir)
    assert reference.warnings == []
    # the reader's windows are closed-open: every sample written is served for the window
    assert reference.metrics
    for series in reference.metrics:
        assert series.between(lo, hi).timestamps == series.timestamps
    assert reference.logs
    assert reference.spans
    assert load_bundle(case.bundle_dir).warnings == []  # the reader takes it as it is
    # what it says is about the phase's own files (here: columns left at 0, no front file)
    notes = [w for w in case.warnings if "reference" in w]
    assert notes
    assert all(w.startswith("reference: construct_data/2023-01-29/metric") for w in notes)
    _assert_label_outside(case)


def test_without_construct_data_there_is_no_reference_and_the_case_says_so(
    fake_nezha: Path, tmp_path: Path
) -> None:
    (case,) = import_nezha(fake_nezha, tmp_path / "out")
    assert case.reference_dir is None
    assert not (case.bundle_dir / "reference").exists()
    assert any(w.startswith("reference: no construct_data/2023-01-29/") for w in case.warnings)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [case.case_id]  # no staging left


def test_one_copy_on_disk_for_every_case_of_the_day(fake_phase: Path, tmp_path: Path) -> None:
    day = fake_phase.parents[1] / "rca_data" / "2023-01-29"
    entries = [
        {"inject_time": t, "inject_pod": POD, "inject_type": "return"}
        for t in ("2023-01-29 08:43:04", "2023-01-29 08:58:00")
    ]
    write_lines(day / "2023-01-29-fault_list.json", [json.dumps({"08": entries})])
    first, second = import_nezha(fake_phase.parents[1], tmp_path / "out")
    assert first.reference_dir is not None and second.reference_dir is not None
    for name in FILES:
        one, two = first.reference_dir / name, second.reference_dir / name
        assert one.read_bytes() == two.read_bytes()
        assert os.stat(one).st_ino == os.stat(two).st_ino


def test_a_phase_holding_an_injection_is_flagged(fake_phase: Path, tmp_path: Path) -> None:
    day = fake_phase.parents[1] / "rca_data" / "2023-01-29"
    entries = [
        {"inject_time": t, "inject_pod": POD, "inject_type": "return"}
        for t in ("2023-01-29 08:43:04", "2023-01-29 08:50:30")
    ]
    write_lines(day / "2023-01-29-fault_list.json", [json.dumps({"08": entries})])
    for case in import_nezha(fake_phase.parents[1], tmp_path / "out"):
        assert any("holds 1 fault injection(s)" in w for w in case.warnings)
        assert case.reference_dir is not None
        manifest = (case.reference_dir / "manifest.json").read_text()
        assert "fault" not in manifest.replace("fault-free", "")  # the bundle is not told


def test_bad_rows_of_the_phase_are_counted_as_reference_warnings(
    fake_phase: Path, tmp_path: Path
) -> None:
    log = fake_phase / "log" / "08_50_log.csv"
    log.write_text(log.read_text() + "broken,row\n")
    (case,) = import_nezha(fake_phase.parents[1], tmp_path / "out")
    assert any(
        w.startswith("reference: construct_data/2023-01-29/log/08_50_log.csv:5: expected 8")
        for w in case.warnings
    )
    assert case.reference_dir is not None
    assert _json(case.reference_dir / "manifest.json")["stats"]["bad_lines_skipped"] == 1


def test_a_phase_over_the_size_bound_keeps_its_earliest_files(
    fake_phase: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phase_files(fake_phase.parents[1], ["08:55:00"], name="08_55")
    size = (fake_phase / "log" / "08_50_log.csv").stat().st_size
    monkeypatch.setattr(nezha_reference, "MAX_REFERENCE_CSV_BYTES", 2 * size + 2)
    (case,) = import_nezha(fake_phase.parents[1], tmp_path / "out")
    assert case.reference_dir is not None
    assert _window(case.reference_dir)[1] < _when("2023-01-29T08:55:00Z")
    assert any("08_55_log.csv: over the reference's size bound" in w for w in case.warnings)


def test_a_phase_without_logs_or_traces_gives_no_reference(
    fake_phase: Path, tmp_path: Path
) -> None:
    shutil.rmtree(fake_phase / "log")
    shutil.rmtree(fake_phase / "trace")
    (case,) = import_nezha(fake_phase.parents[1], tmp_path / "out")
    assert case.reference_dir is None
    assert any("window is unknown; no reference/ written" in w for w in case.warnings)


def test_an_earlier_days_phase_serves_when_the_day_has_none(
    fake_phase: Path, tmp_path: Path
) -> None:
    fake_phase.rename(fake_phase.with_name("2023-01-28"))
    (case,) = import_nezha(fake_phase.parents[1], tmp_path / "out")
    assert case.reference_dir is not None
    assert any("using the latest earlier one, 2023-01-28" in w for w in case.warnings)


def test_sources_may_be_separate_directories_or_archives(fake_phase: Path, tmp_path: Path) -> None:
    normal = tmp_path / "normal"
    shutil.move(fake_phase.parents[1] / "construct_data", normal / "construct_data")
    (case,) = import_nezha([fake_phase.parents[1], normal], tmp_path / "from-dirs")
    assert case.reference_dir is not None
    archives = []
    for name, folder in (("cases", fake_phase.parents[1]), ("normal", normal)):
        archives.append(tmp_path / f"{name}.tar.gz")
        with tarfile.open(archives[-1], "w:gz") as tar:
            tar.add(folder, arcname=".")
    (again,) = import_nezha(archives, tmp_path / "from-archives")
    assert again.reference_dir is not None
    assert (again.reference_dir / "logs.jsonl").read_bytes() == (
        case.reference_dir / "logs.jsonl"
    ).read_bytes()
    with pytest.raises(ValueError, match="fault_list"):
        import_nezha(normal, tmp_path / "only-normal")


# --- the real day (../shared/datasets): both archives as upstream ships them ---------------


@pytest.mark.shared_data
def test_real_reference_is_attached_to_each_case_once(
    nezha_dir: Path, nezha_normal_dir: Path, tmp_path: Path
) -> None:
    cases = import_nezha([nezha_dir, nezha_normal_dir], tmp_path, cases=["08-43", "13-31"])
    assert len(cases) == 2
    names: set[str] = set()
    for case in cases:
        assert case.reference_dir is not None
        assert {p.name for p in case.reference_dir.iterdir()} == FILES
        lo, hi = _window(case.reference_dir)
        assert all(lo <= t < hi for t in _stamps(case.reference_dir))
        bundle = load_bundle(case.bundle_dir)
        assert not [w for w in bundle.warnings if "reference" in w], case.case_id
        assert bundle.reference is not None and bundle.reference.metrics
        served = [len(s.between(lo, hi).timestamps) for s in bundle.reference.metrics]
        assert served == [len(s.timestamps) for s in bundle.reference.metrics]  # all of them
        assert max(served) == 3  # the phase's three minutes (a few series miss some)
        with (case.reference_dir / "metrics.csv").open(newline="") as handle:
            names = {row["metric"] for row in csv.DictReader(handle)}
        with (case.bundle_dir / "metrics.csv").open(newline="") as handle:
            assert names == {row["metric"] for row in csv.DictReader(handle)}
        assert not any(w.startswith("reference: no construct_data") for w in case.warnings)
        _assert_label_outside(case)
    reference = cases[0].reference_dir
    assert reference is not None
    assert os.stat(reference / "logs.jsonl").st_nlink >= 2
    size = sum(p.stat().st_size for p in reference.iterdir())
    assert size < 16 * 2**20  # the phase's files as they are, not the day


@pytest.mark.shared_data
def test_real_archives_given_together(tmp_path: Path) -> None:
    for archive in (NEZHA_ARCHIVE, NEZHA_NORMAL_ARCHIVE):
        if not archive.is_file():
            pytest.skip(f"dataset {archive} is not available")
    (case,) = import_nezha([NEZHA_ARCHIVE, NEZHA_NORMAL_ARCHIVE], tmp_path, cases=["13-31"])
    assert case.reference_dir is not None
    assert _json(case.reference_dir / "manifest.json")["stats"]["spans"] > 0
