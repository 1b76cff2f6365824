"""Reading a container's log line in the layouts services write (the Nezha benchmarks' own and
the common libraries'): level, message, logger and ids, not a whole JSON text as an INFO line."""

from __future__ import annotations

import json

import pytest

from bot.importers.log_line import LogLine, parse_log_line
from tools.records import LogLevel

TRACE, SPAN = "04c87ec97bae041b1b15b3c7676a43cc", "e4006dce6700e903"
CONTEXT = f"TraceID: {TRACE} SpanID: {SPAN}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # TrainTicket (logback): clock, level, logger#line, context, message
            f"16:42:22.382 ERROR t.s.TravelServiceImpl#532 {CONTEXT} [getTrip][failed]",
            LogLine(LogLevel.ERROR, "[getTrip][failed]", "t.s.TravelServiceImpl#532", TRACE, SPAN),
        ),
        (  # OnlineBoutique's adservice: no logger, a dash
            f"05:18:42.995 WARN  - {CONTEXT} Get Ads by Category slow",
            LogLine(LogLevel.WARN, "Get Ads by Category slow", None, TRACE, SPAN),
        ),
        (  # OnlineBoutique's Go services (logrus JSON, Google's severity)
            json.dumps(
                {
                    "message": f"{CONTEXT} failed to get product recommendations",
                    "severity": "warning",
                    "timestamp": "2022-08-22T05:18:42.963852011Z",
                }
            ),
            LogLine(LogLevel.WARN, "failed to get product recommendations", None, TRACE, SPAN),
        ),
        (  # OnlineBoutique's Python services (python-json-logger)
            json.dumps(
                {
                    "timestamp": "2022-08-22T05:18:42.908318Z",
                    "severity": "ERROR",
                    "name": "recommendationservice-server",
                    "message": f"{CONTEXT} List Recommendations failed",
                }
            ),
            LogLine(
                LogLevel.ERROR,
                "List Recommendations failed",
                "recommendationservice-server",
                TRACE,
                SPAN,
            ),
        ),
        (  # pino / bunyan: numeric levels, msg
            json.dumps({"level": 50, "time": 1661145522908, "msg": "charge failed", "pid": 1}),
            LogLine(LogLevel.ERROR, "charge failed"),
        ),
        (  # log4j2's JSON layout with Google's trace fields
            json.dumps(
                {
                    "level": "INFO",
                    "loggerName": "hipstershop.AdService",
                    "message": "received ad request",
                    "logging.googleapis.com/trace": TRACE,
                    "logging.googleapis.com/spanId": SPAN,
                }
            ),
            LogLine(LogLevel.INFO, "received ad request", "hipstershop.AdService", TRACE, SPAN),
        ),
        (  # ECS, nested
            json.dumps(
                {
                    "log": {"level": "error", "logger": "app.pay"},
                    "message": "card declined",
                    "trace": {"id": TRACE},
                }
            ),
            LogLine(LogLevel.ERROR, "card declined", "app.pay", TRACE),
        ),
        (  # .NET's console logger
            "fail: cartservice.cartstore.RedisCartStore[0] Can't access cart storage",
            LogLine(
                LogLevel.ERROR, "cartservice.cartstore.RedisCartStore[0] Can't access cart storage"
            ),
        ),
        ("ERROR:root:worker crashed", LogLine(LogLevel.ERROR, "worker crashed", "root")),
        (  # logfmt
            'time=2022-08-22T05:18:42Z level=warning msg="retrying \\"payments\\"" attempt=2',
            LogLine(LogLevel.WARN, 'retrying "payments"'),
        ),
        (
            "2022-08-22 05:18:42,123 [ERROR] connection reset by peer",
            LogLine(LogLevel.ERROR, "connection reset by peer"),
        ),
        (  # OnlineBoutique's cartservice: context, no level
            f"{CONTEXT} GetCartAsync called with userId=af55",
            LogLine(LogLevel.INFO, "GetCartAsync called with userId=af55", None, TRACE, SPAN),
        ),
        (  # TrainTicket's own brackets are no level
            "[getRestTicketNumber][Get Rest tickets num][num is: 1]",
            LogLine(LogLevel.INFO, "[getRestTicketNumber][Get Rest tickets num][num is: 1]"),
        ),
        ("12:00:01 Connected to db", LogLine(LogLevel.INFO, "12:00:01 Connected to db")),
    ],
)
def test_each_layout_gives_level_message_logger_and_ids(text: str, expected: LogLine) -> None:
    assert parse_log_line(text) == expected


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', "[1, 2]", '{"broken": ', "{not json} at all", '{"level": true}'],
)
def test_json_that_is_no_log_record_is_kept_whole_as_info(text: str) -> None:
    assert parse_log_line(text) == LogLine(LogLevel.INFO, text)
