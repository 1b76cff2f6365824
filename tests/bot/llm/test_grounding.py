from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.llm.grounding import grounding_problem
from tools.evidence import Evidence, Source

ITEM = Evidence(
    id="E1",
    key="k",
    source=Source("metrics"),
    title="api error ratio 0.253 at 09:41",
    summary='p99 latency 1523 ms, HTTP 503; log "pool timeout after 30s"',
    query="rate(errors[5m])",
    service="api",
)
SERVICES = {"api", "web"}


@pytest.mark.parametrize(
    ("statement", "kept"),
    [
        ("api errors rose to 25%", True),  # a ratio as a rounded percentage
        ("api errors rose to 0.25", True),
        ("api errors rose to 42%", False),
        ("p99 latency reached 1.5 s", True),  # 1523 ms in seconds, rounded
        ("p99 latency reached 1523ms", True),
        ("p99 latency reached 9 s", False),
        ("api returned 503", True),
        ("api returned 504", False),
        ("it started at 09:41", True),
        ("it started at 09:42", False),
        ('the log says "pool timeout after 30s"', True),
        ('the log says "database is down"', False),
        ("web failed first", False),  # a service the evidence does not mention
        ("api failed first", True),
    ],
)
def test_grounding_table(statement: str, kept: bool) -> None:
    assert (grounding_problem(statement, [ITEM], SERVICES) is None) is kept


def test_nothing_cited_is_never_grounded() -> None:
    assert grounding_problem("api failed", [], SERVICES) == "cites no known evidence"


WORDS = (ITEM.title + " " + ITEM.summary).replace('"', "").split()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12))
def test_a_statement_of_its_evidence_tokens_is_kept(words: list[str]) -> None:
    assert grounding_problem(" ".join(words), [ITEM], SERVICES) is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), max_size=8),
    st.integers(min_value=100_000, max_value=999_999),
)
def test_an_invented_number_is_dropped(words: list[str], number: int) -> None:
    statement = " ".join([*words, f"{number} ms"])
    assert grounding_problem(statement, [ITEM], SERVICES) is not None
