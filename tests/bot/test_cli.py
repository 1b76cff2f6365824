"""The CLI as a user runs it: a real process, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.investigation.report import CITATION, Report
from tests.bundles import T0, alert_payload


def rcabot(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCABOT_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        check=False,
    )


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout


def test_investigate_json_is_a_valid_report(small_bundle: Path) -> None:
    result = rcabot("investigate", "--bundle", str(small_bundle), "--json")
    assert result.returncode == 0, result.stderr
    report = Report.model_validate_json(result.stdout)
    assert report.candidates[0].service == "api"


def test_investigate_terminal_report(small_bundle: Path) -> None:
    result = rcabot("investigate", "--bundle", str(small_bundle), "--service", "web")
    assert result.returncode == 0, result.stderr
    assert "Most likely cause: api" in result.stdout
    assert "Ranked candidates" in result.stdout and "Sources" in result.stdout


def test_alert_file_and_window(small_bundle: Path, tmp_path: Path) -> None:
    alert = tmp_path / "alert.json"
    alert.write_text(json.dumps(alert_payload("ApiDown", "api", T0.replace(minute=44))))
    result = rcabot(
        "investigate",
        "--bundle",
        str(small_bundle),
        "--alert",
        str(alert),
        "--from",
        "2026-03-02T09:10:00Z",
        "--to",
        "2026-03-02T10:00:00Z",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = Report.model_validate_json(result.stdout)
    assert report.scope == "alert ApiDown (api)"
    assert report.window.start.minute == 10


def test_ask_finds_quoted_phrase(small_bundle: Path) -> None:
    result = rcabot(
        "ask", "--bundle", str(small_bundle), "--json", 'why does web log "upstream api returned"?'
    )
    assert result.returncode == 0, result.stderr
    report = Report.model_validate_json(result.stdout)
    assert any(e.key.startswith("logs:search:") for e in report.evidence)
    assert "Matching logs:" in report.answer


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["investigate", "--bundle", "/nonexistent"], "does not exist"),
        (["investigate", "--bundle", "{bundle}", "--from", "noon"], "--from: unparsable"),
        (
            [
                "investigate",
                "--bundle",
                "{bundle}",
                "--from",
                "2026-03-02T10:00:00Z",
                "--to",
                "2026-03-02T09:00:00Z",
            ],
            "must be after --from",
        ),
        (["investigate", "--bundle", "{bundle}", "--service", "nope"], "not in the bundle"),
        (["investigate", "--bundle", "{bundle}", "--alert", "/nonexistent.json"], "does not exist"),
        (["ask", "--bundle", "{bundle}", "  "], "the question is empty"),
        (["demo", "--fault", "meteor-strike", "--out", "{tmp}"], "meteor-strike"),
    ],
)
def test_bad_input_is_a_clear_error(
    small_bundle: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    filled = [a.format(bundle=small_bundle, tmp=tmp_path) for a in args]
    result = rcabot(*filled)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    _no_traceback(result)


def test_invalid_config_is_a_clear_error(small_bundle: Path, tmp_path: Path) -> None:
    config = tmp_path / "rcabot.yaml"
    config.write_text("metrics:\n  url: prometheus:9090\n")
    result = rcabot("investigate", "--bundle", str(small_bundle), "--config", str(config))
    assert result.returncode == 2
    assert "RCABOT_METRICS__URL" in result.stderr
    _no_traceback(result)


def test_config_check_reports_each_backend(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("metrics:\n  url: http://127.0.0.1:9\n")
    result = rcabot("config", "check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1  # a configured backend is unreachable
    assert "Configuration is valid." in result.stdout
    assert "unreachable" in result.stdout and "not configured" in result.stdout


def test_schema_is_the_report_json_schema() -> None:
    result = rcabot("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Report"
    assert {"candidates", "evidence", "answer", "sources"} <= set(schema["required"])


NEZHA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "nezha-tt-2023-01-29.tar.xz"


@pytest.mark.skipif(not NEZHA.exists(), reason=f"shared dataset not found at {NEZHA}")
def test_import_nezha_case_then_investigate_it(tmp_path: Path) -> None:
    result = rcabot("import", "nezha", str(NEZHA), "--out", str(tmp_path), "--case", "08-43")
    assert result.returncode == 0, result.stderr
    assert "1 cases written" in result.stdout
    case = tmp_path / "2023-01-29_08-43_ts-contacts-service_return"
    assert (case / "label.json").is_file()
    assert not (case / "bundle" / "label.json").exists()
    result = rcabot("investigate", "--bundle", str(case / "bundle"), "--json")
    assert result.returncode == 0, result.stderr
    report = Report.model_validate_json(result.stdout)
    assert report.scope.startswith("alert Frontend")
    assert {s.source for s in report.sources if s.ok} >= {"metrics", "logs", "traces"}


def test_import_nezha_rejects_other_layouts(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = rcabot("import", "nezha", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "import nezha:" in result.stderr
    _no_traceback(result)


def test_demo_end_to_end_ranks_the_faulty_service_first(tmp_path: Path) -> None:
    result = rcabot("demo", "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = Report.model_validate_json(result.stdout)
    (case,) = [p for p in tmp_path.iterdir() if (p / "label.json").is_file()]
    label = json.loads((case / "label.json").read_text())
    assert report.candidates[0].service == label["service"]
    assert report.candidates[0].fault_type.value == label["fault_type"]
    known = {e.id for e in report.evidence}
    cited = set(CITATION.findall(report.answer))
    for candidate in report.candidates:
        cited |= set(candidate.evidence_ids) | set(CITATION.findall(candidate.hypothesis))
    assert cited
    assert cited <= known
    assert report.answer_by == "deterministic"
    assert all(e.query for e in report.evidence)
    assert all(e.link for e in report.evidence)


def test_demo_terminal_output_says_whether_it_was_right(tmp_path: Path) -> None:
    result = rcabot("demo", "--out", str(tmp_path), "--fault", "network-delay")
    assert result.returncode == 0, result.stderr
    (case,) = [p for p in tmp_path.iterdir() if (p / "label.json").is_file()]
    truth = json.loads((case / "label.json").read_text())["service"]
    assert "Ground truth" in result.stdout
    assert f"ranked first: {truth} correct" in result.stdout
