"""``rcabot investigate|ask --reference-from ISO --reference-to ISO``: the period named is the
normal the incident is compared against; a bad one is one line on stderr and exit 2."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bot.investigation.report import Report
from tests.bot.hostile_cases import INV, Case, check, run_cli
from tests.bundles import T0, iso
from tests.reference_bundles import REFERENCE, chronic_incident

FROM, TO = "--reference-from", "--reference-to"
DAY_BEFORE = (iso(T0 - timedelta(days=1)), iso(T0 - timedelta(days=1) + timedelta(hours=1)))


def _report(args: list[str], capsys: pytest.CaptureFixture[str]) -> Report:
    code = run_cli([*args, "--json", "--no-llm"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return Report.model_validate_json(out)


def _healthy_hours_in_the_files(path: Path) -> Path:
    """The chronic bundle with its healthy period moved out of ``reference/`` into its own
    files: served, but outside the manifest's window, so only a named period finds it."""
    bundle = chronic_incident(path)
    reference = bundle / "reference"
    with (bundle / "logs.jsonl").open("a", encoding="utf-8") as logs:
        logs.write((reference / "logs.jsonl").read_text(encoding="utf-8"))
    rows = (reference / "metrics.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    with (bundle / "metrics.csv").open("a", encoding="utf-8") as metrics:
        metrics.writelines(rows[1:])
    with (bundle / "traces.jsonl").open("a", encoding="utf-8") as traces:
        for line in (reference / "traces.jsonl").read_text(encoding="utf-8").splitlines():
            span = json.loads(line)
            span["trace_id"] = "ee" + span["trace_id"]  # not the incident's traces
            traces.write(json.dumps(span) + "\n")
    shutil.rmtree(reference)
    return bundle


def test_investigate_compares_against_the_period_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _healthy_hours_in_the_files(tmp_path / "b")
    alone = _report(["investigate", "--bundle", str(bundle)], capsys)
    assert alone.reference is None and "api" not in [c.service for c in alone.candidates]
    args = ["investigate", "--bundle", str(bundle), FROM, iso(REFERENCE.start)]
    report = _report([*args, TO, iso(REFERENCE.end)], capsys)
    assert report.reference == REFERENCE
    assert report.candidates[0].service == "api"


def test_the_period_named_overrides_the_bundle_s(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = chronic_incident(tmp_path / "b")
    args = ["investigate", "--bundle", str(bundle), FROM, DAY_BEFORE[0], TO, DAY_BEFORE[1]]
    report = _report(args, capsys)
    assert report.reference is not None and iso(report.reference.start) == DAY_BEFORE[0]
    assert any("has no metric samples of 4 of 4 services" in w for w in report.warnings)
    default = _report(["investigate", "--bundle", str(bundle)], capsys)
    assert default.reference == REFERENCE


def test_ask_takes_the_period_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = chronic_incident(tmp_path / "b", reference=False)
    args = ["ask", "what is wrong with api?", "--bundle", str(bundle)]
    report = _report([*args, FROM, DAY_BEFORE[0], TO, DAY_BEFORE[1]], capsys)
    assert report.reference is not None and iso(report.reference.end) == DAY_BEFORE[1]


INSIDE = iso(T0 + timedelta(minutes=50))  # past the alert (minute 44): into the incident
CASES = [
    Case("reference from alone", (*INV, FROM, DAY_BEFORE[0]), "go together"),
    Case("reference to alone", (*INV, TO, DAY_BEFORE[1]), "go together"),
    Case("reference to before from", (*INV, FROM, DAY_BEFORE[1], TO, DAY_BEFORE[0]), TO),
    Case("reference empty", (*INV, FROM, DAY_BEFORE[0], TO, DAY_BEFORE[0]), "must be after"),
    Case("reference unparsable", (*INV, FROM, "yesterday", TO, DAY_BEFORE[1]), FROM),
    Case("reference no offset", (*INV, FROM, "2026-03-01T09:00:00", TO, DAY_BEFORE[1]), FROM),
    Case("reference year 9999", (*INV, FROM, DAY_BEFORE[0], TO, "9999-12-31T00:00:00Z"), TO),
    Case("reference overlaps", (*INV, FROM, DAY_BEFORE[0], TO, INSIDE), "overlaps"),
    Case(
        "reference too long",
        (*INV, FROM, iso(T0 - timedelta(days=9)), TO, DAY_BEFORE[1]),
        "at most 168 h",
    ),
    Case("ask reference alone", ("ask", "--bundle", "{b}", "why?", FROM, DAY_BEFORE[0]), FROM),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_reference_is_one_line_and_exit_2(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    check(case, tmp_path, capsys, monkeypatch)


def test_the_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["investigate", "--help"]) == 0
    out = capsys.readouterr().out
    assert FROM in out and TO in out
