"""The terminal rendering of a report's answer."""

from __future__ import annotations

import pytest
from rich.text import Text

from bot.render.terminal import _answer_markup


def rendered(answer: str) -> Text:
    return Text.from_markup(_answer_markup(answer))


def test_slack_bold_becomes_bold_and_citations_cyan() -> None:
    text = rendered("*Most likely cause:* payments [E2].")
    assert text.plain == "Most likely cause: payments [E2]."
    bold = [text.plain[s.start : s.end] for s in text.spans if "bold" in str(s.style)]
    assert bold == ["Most likely cause:"]
    assert [text.plain[s.start : s.end] for s in text.spans if "cyan" in str(s.style)] == ["[E2]"]


@pytest.mark.parametrize(
    "template",
    [
        "catalog: WARN “slow search <*> <*> took <NUM>ms (><NUM>ms)” ×87 [E6]",
        "a * b * c",
        "glob *.log and *.txt",
        "x**y",
    ],
)
def test_asterisks_inside_evidence_stay_as_written(template: str) -> None:
    """A log template's wildcards are text, not bold markers."""
    text = rendered(f"*Symptoms elsewhere:* {template}")
    assert text.plain == f"Symptoms elsewhere: {template}"
