"""``rcabot ask`` with a conversation: follow-ups, --history validation, the model's note."""

from __future__ import annotations

import json
from pathlib import Path

from bot.investigation.conversation import Conversation
from bot.investigation.report import Report
from tests.bot.test_cli import rcabot


def test_a_bad_history_file_exits_2_with_one_line(small_bundle: Path, tmp_path: Path) -> None:
    bad = tmp_path / "history.json"
    bad.write_text('{"turns": [{"question": "q", "answer": "a"}]}')
    result = rcabot("ask", "--bundle", str(small_bundle), "why?", "--history", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith("error: --history") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_follow_up_carries_the_conversation(small_bundle: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    first = rcabot(
        "ask", "--bundle", str(small_bundle), "why is api failing?", "--save-history", str(history)
    )
    assert first.returncode == 0, first.stderr
    second = rcabot(
        "ask", "--bundle", str(small_bundle), "what changed?", "--json", "--no-llm",
        "--history", str(history), "--save-history", str(history),
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    report = Report.model_validate_json(second.stdout)
    assert report.answer_by == "deterministic" and "--no-llm" in report.answer_note
    turns = Conversation.model_validate_json(history.read_text()).turns
    assert [t.question for t in turns] == ["why is api failing?", "what changed?"]
    assert turns[0].evidence and json.loads(history.read_text())["version"] == "1"


def test_an_unreachable_model_gives_the_deterministic_answer_and_why(small_bundle: Path) -> None:
    config = small_bundle.parent / "rcabot.yaml"
    config.write_text("llm:\n  url: http://127.0.0.1:9\n  api: openai\n  timeout_s: 5\n")
    result = rcabot("ask", "--bundle", str(small_bundle), "why?", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    report = Report.model_validate_json(result.stdout)
    assert report.answer_by == "deterministic" and report.answer
    assert "model not used" in report.answer_note and "unavailable" in report.answer_note
