"""What a log line says by its words (``bot.investigation.line_words``)."""

from __future__ import annotations

import pytest

from bot.investigation.line_words import error_lines, says_exception, says_slow
from tools.analysis.log_templates import LogPattern
from tools.log_patterns import LogFindings
from tools.records import LogLevel


@pytest.mark.parametrize(
    ("text", "slow"),
    [
        ('slow search q="42 person tent" took 812ms (>500ms)', True),
        ("duration: 2315.482 ms  statement: SELECT * FROM products", True),
        ("Slow request: GET /cart elapsed 3.1s", True),
        ("request timed out after 5000ms (took too long)", False),  # it failed
        ("slow consumer: connection reset by peer", False),
        ("java.lang.IllegalStateException: took a wrong turn", False),
        ("[getRestTicketNumber][Seat request][request: Seat(42)]", False),
    ],
)
def test_a_line_says_slow_when_it_says_nothing_failed(text: str, slow: bool) -> None:
    assert says_slow(text) is slow


@pytest.mark.parametrize(
    ("text", "thrown"),
    [
        ("java.lang.NullPointerException at PriceServiceImpl.java:46", True),
        ("Traceback (most recent call last):", True),
        ("panic: runtime error: index out of range", True),
        ("[getRestTicketNumber] order status wrong", False),
        ("connection refused by db:5432", False),
    ],
)
def test_a_line_says_exception_by_its_words_not_its_level(text: str, thrown: bool) -> None:
    assert says_exception(text) is thrown


def _pattern(service: str, template: str, level: LogLevel, incident: int) -> LogPattern:
    return LogPattern(
        template=template,
        service=service,
        max_level=level,
        baseline_count=incident,
        incident_count=incident,
        example=template.replace("<*>", "42"),
        growth=0.0,
    )


def test_error_lines_count_what_each_service_s_error_lines_say_grown_or_not() -> None:
    logs = LogFindings(
        bursts=[],
        patterns=[
            (_pattern("price", "NullPointerException at <*>", LogLevel.ERROR, 7), 0.0),
            (_pattern("price", "price of <*> not found", LogLevel.ERROR, 3), 0.0),
            (_pattern("order", "order <*> status wrong", LogLevel.ERROR, 5), 0.0),
            (_pattern("order", "retrying <*>", LogLevel.WARN, 40), 0.0),  # not an error line
            (_pattern("route", "Exception in <*>", LogLevel.ERROR, 0), 0.0),  # none now
        ],
        sampled=100,
        total_warn=55,
    )
    assert error_lines(logs) == {"price": (7, 3), "order": (0, 5)}
    assert error_lines(None) == {}
