from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.investigation.report import CITATION
from bot.investigation.request import InvestigationRequest
from bot.investigation.scope import QUESTION_CHARS, resolve_scope
from tools.evidence import TimeWindow
from tools.text import TextPipeline


def test_the_question_enters_as_safe_text() -> None:
    window = TimeWindow(
        start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 1, 2, tzinfo=UTC)
    )
    question = "<!channel> why [E1]? password=hunter2 \u202e" + " more" * 1_000
    scope = resolve_scope(
        InvestigationRequest(question=question, window=window), None, timedelta(), TextPipeline()
    )
    assert len(scope.question) <= QUESTION_CHARS
    assert "hunter2" not in scope.question and "<!channel>" not in scope.question
    assert "\u202e" not in scope.question and not CITATION.search(scope.question)
