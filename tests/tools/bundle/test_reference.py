"""A bundle's reference period (``reference/``): read by the bundle's rules, never required, left
out with a warning (not an error) where it cannot be used."""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bundles import T0, iso, small_incident, write_jsonl
from tests.reference_bundles import REFERENCE, WINDOW, chronic_incident, load_chronic
from tools.bundle.reader import load_bundle
from tools.bundle.reference import telemetry_window
from tools.errors import BundleError
from tools.evidence import TimeWindow
from tools.reference import overlaps


def _reference_log(minutes: float, message: str = "ok") -> dict[str, object]:
    moment = REFERENCE.start + timedelta(minutes=minutes)
    return {"ts": iso(moment), "service": "api", "level": "INFO", "message": message}


def test_a_reference_is_read_beside_the_bundle_and_kept_apart(tmp_path: Path) -> None:
    bundle = load_chronic(tmp_path / "b")
    assert bundle.reference is not None
    assert bundle.reference_window == REFERENCE
    assert bundle.reference.logs and bundle.reference.metrics and bundle.reference.spans
    assert all(REFERENCE.contains(r.ts) for r in bundle.reference.logs)
    # the incident's own data, window and services are the bundle's alone
    assert bundle.window == WINDOW
    assert bundle.logs is not None and all(WINDOW.contains(r.ts) for r in bundle.logs)
    assert "cache" in bundle.services
    assert bundle.warnings == []


def test_without_reference_the_bundle_reads_as_before(small_bundle: Path) -> None:
    bundle = load_bundle(small_bundle)
    assert bundle.reference is None and bundle.reference_window is None
    assert bundle.warnings == []


def test_the_reference_window_comes_from_its_data_without_a_manifest(tmp_path: Path) -> None:
    path = small_incident(tmp_path / "b")
    (path / "reference").mkdir()
    write_jsonl(path / "reference" / "logs.jsonl", [_reference_log(3), _reference_log(17)])
    bundle = load_bundle(path)
    assert bundle.reference_window is not None
    assert bundle.reference_window.start == REFERENCE.start + timedelta(minutes=3)
    assert bundle.reference_window.end == REFERENCE.start + timedelta(minutes=17)
    assert bundle.reference is not None and bundle.reference.metrics is None


def test_a_reference_inside_the_incident_window_is_kept_for_the_scope_to_judge(
    tmp_path: Path,
) -> None:
    """Whether a reference suits the incident depends on when the incident began (it may lie
    in the minutes before the alert), which the investigation's scope knows, not the reader
    (tests/bot/investigation/test_scope_reference.py)."""
    path = small_incident(tmp_path / "b")  # window T0 .. T0+60 min
    (path / "reference").mkdir()
    early = {
        "ts": iso(T0 + timedelta(minutes=10)),
        "service": "api",
        "level": "INFO",
        "message": "x",
    }
    write_jsonl(path / "reference" / "logs.jsonl", [early])
    bundle = load_bundle(path)
    assert bundle.reference is not None
    assert bundle.reference_window is not None
    assert overlaps(bundle.reference_window, bundle.window)
    assert bundle.warnings == []


def test_a_reference_manifest_window_is_kept_as_declared(tmp_path: Path) -> None:
    path = chronic_incident(tmp_path / "b")
    manifest = path / "reference" / "manifest.json"
    declared = {"start": iso(WINDOW.start - timedelta(minutes=5)), "end": iso(WINDOW.end)}
    manifest.write_text(json.dumps({"window": declared}), encoding="utf-8")
    bundle = load_bundle(path)
    assert bundle.reference_window == TimeWindow(
        start=WINDOW.start - timedelta(minutes=5), end=WINDOW.end
    )


def test_bad_reference_lines_are_skipped_with_their_file_and_line(tmp_path: Path) -> None:
    path = small_incident(tmp_path / "b")
    (path / "reference").mkdir()
    write_jsonl(
        path / "reference" / "logs.jsonl",
        [_reference_log(1), "{not json", {"ts": iso(REFERENCE.start), "level": "info"}],
    )
    (path / "reference" / "metrics.csv").write_text(
        f"timestamp,service,metric,value\n{iso(REFERENCE.start)},api,error_ratio,0.01\n"
        f"{iso(REFERENCE.start)},api,error_ratio,5\n",
        encoding="utf-8",
    )
    bundle = load_bundle(path)
    assert bundle.reference is not None and bundle.reference.logs is not None
    assert len(bundle.reference.logs) == 1
    warnings = "\n".join(bundle.warnings)
    assert "reference/logs.jsonl:2: not valid JSON" in warnings
    assert "reference/logs.jsonl:3: missing key" in warnings
    assert "reference/metrics.csv:3: error_ratio must be a ratio" in warnings


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        ("every line bad", "every line is bad"),
        ("a file, not a directory", "not a directory"),
        ("no telemetry", "holds no timestamped telemetry"),
        ("logs.jsonl a directory", "not a regular file"),
        ("manifest not an object", "expected a JSON object"),
        ("dangling link", "dangling"),
    ],
)
def test_an_unusable_reference_is_left_out_with_one_warning(
    tmp_path: Path, setup: str, why: str
) -> None:
    path = small_incident(tmp_path / "b")
    reference = path / "reference"
    if setup == "a file, not a directory":
        reference.write_text("healthy", encoding="utf-8")
    elif setup == "dangling link":
        os.symlink(tmp_path / "nowhere", reference)
    else:
        reference.mkdir()
        if setup == "every line bad":
            write_jsonl(reference / "logs.jsonl", ["{", "[1]"])
        elif setup == "logs.jsonl a directory":
            (reference / "logs.jsonl").mkdir()
        elif setup == "manifest not an object":
            write_jsonl(reference / "logs.jsonl", [_reference_log(1)])
            (reference / "manifest.json").write_text("[]", encoding="utf-8")
    bundle = load_bundle(path)
    assert bundle.reference is None
    assert bundle.logs is not None and bundle.spans is not None  # the incident is intact
    notes = [w for w in bundle.warnings if w.startswith("reference/")]
    assert len(notes) == 1 and "not used" in notes[0] and why in notes[0], notes


def test_incident_files_inside_the_reference_are_not_read(tmp_path: Path) -> None:
    path = chronic_incident(tmp_path / "b")
    shutil.copy(path / "alerts.json", path / "reference" / "alerts.json")
    bundle = load_bundle(path)
    assert bundle.reference is not None
    assert bundle.warnings == [
        "reference/alerts.json is not read: a reference holds logs, metrics and traces"
    ]


def test_a_reference_alone_is_not_a_bundle(tmp_path: Path) -> None:
    path = chronic_incident(tmp_path / "b")
    for name in ("logs.jsonl", "metrics.csv", "traces.jsonl", "alerts.json"):
        (path / name).unlink()
    with pytest.raises(BundleError, match="holds none of the bundle files"):
        load_bundle(path)


def test_window_helpers() -> None:
    assert telemetry_window(None, None, None) is None
    assert overlaps(WINDOW, WINDOW) and not overlaps(WINDOW, REFERENCE)
    touching = WINDOW.model_copy(update={"start": WINDOW.end, "end": WINDOW.end + WINDOW.duration})
    assert not overlaps(WINDOW, touching)  # closed-open: sharing an end is no overlap
