"""Log lines are JSON objects: an event's fields at the top level, other libraries' plain
messages under ``message``, tracebacks under ``exc``."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot.slack.logs import LOGGER, JsonLines, log_event


def _record(name: str, level: int, message: str, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord(name, level, __file__, 1, message, None, info)


def test_an_event_s_fields_are_the_line_s_fields(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER.name):
        log_event("answered", report_id="r-1", ms=12.5, channel="C1")
    line = json.loads(JsonLines().format(caplog.records[0]))
    assert line["event"] == "answered" and line["report_id"] == "r-1" and line["ms"] == 12.5
    assert line["level"] == "INFO" and line["logger"] == "rcabot.slack"
    assert line["ts"].endswith("+00:00")


def test_a_plain_message_is_kept_whole_and_an_event_cannot_overwrite_the_header() -> None:
    plain = json.loads(JsonLines().format(_record("uvicorn.error", logging.WARNING, "{not json")))
    assert plain["message"] == "{not json" and plain["level"] == "WARNING"
    forged = _record("rcabot.slack", logging.INFO, json.dumps({"event": "x", "level": "DEBUG"}))
    assert json.loads(JsonLines().format(forged))["level"] == "INFO"


def test_a_traceback_travels_inside_the_line() -> None:
    formatted = JsonLines().format(_record("rcabot", logging.ERROR, "failed", exc=True))
    assert "\n" not in formatted  # one line per record
    line = json.loads(formatted)
    assert line["message"] == "failed" and "ValueError: boom" in line["exc"]
