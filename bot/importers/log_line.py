"""What one container log line says: its level, message, logger and trace/span ids.

Services write their lines in many layouts, and an importer that reads only one of them loses
the level of every other (every line "info": no errors to find). The layouts read here are the
common ones, tried in this order:

* **Text with a clock, a level and a logger** (logback's default, TrainTicket's):
  ``16:42:22.382 INFO  t.s.TravelServiceImpl#532 TraceID: … SpanID: … message``; a logger
  written as ``-`` is none (OnlineBoutique's adservice: ``05:18:42.995 INFO  - …``).
* **A JSON object** (zap, logrus, pino, bunyan, python-json-logger, log4j2's JSON layout, ECS,
  Google Cloud's structured logging): the level from ``severity``, ``level``, ``lvl``,
  ``levelname``, ``log.level`` or ``@l`` (pino's and bunyan's numbers too: 10 trace … 60
  fatal); the message from ``message``, ``msg``, ``@m`` or ``event``; the logger from
  ``logger``, ``loggerName``, ``logger_name``, ``log.logger`` or ``name``; ids from
  ``trace_id``/``traceId``/``trace.id``/``logging.googleapis.com/trace`` and the like.
* **Text with a level first**: .NET's console (``fail: Cart.Store[0] …``), Python's default
  (``ERROR:root:…``), logfmt (``level=error msg=…``), or a bracketed level (``[WARN] …``).
* Anything else is an INFO line whose message is the whole text.

A message that starts with ``TraceID: <id> SpanID: <id>`` (how the Nezha benchmarks' services
log their context) gives its ids and keeps the rest as the message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tools.records import LogLevel

# TrainTicket's logback pattern: "16:42:22.382 INFO  logger#line message"
_CLOCK_LEVEL_LOGGER = re.compile(
    r"^\s*\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\s+(?P<level>[A-Za-z]+)\s+(?P<logger>\S+)\s*"
    r"(?P<msg>.*)$",
    re.DOTALL,
)
_CONTEXT = re.compile(
    r"^\s*(?:TraceID:\s*(?P<trace>[0-9A-Za-z-]*)\s*)?(?:SpanID:\s*(?P<span>[0-9A-Za-z-]*)\s*)?"
    r"(?P<msg>.*)$",
    re.DOTALL,
)
_DOTNET = re.compile(r"^(?P<level>trce|dbug|info|warn|fail|crit):\s+(?P<msg>.*)$", re.DOTALL)
_DOTNET_LEVELS = {"trce": "TRACE", "dbug": "DEBUG", "fail": "ERROR", "crit": "FATAL"}
_PYTHON = re.compile(r"^(?P<level>[A-Z]+):(?P<logger>[\w.]+):(?P<msg>.*)$", re.DOTALL)
_LOGFMT = re.compile(r"(?:^|\s)(?:level|lvl|severity)=\"?(?P<level>[A-Za-z]+)\"?(?=\s|$)")
_LOGFMT_MSG = re.compile(r"(?:^|\s)msg=(?:\"(?P<quoted>(?:[^\"\\]|\\.)*)\"|(?P<bare>\S+))")
_BRACKETED = re.compile(r"^\W{0,3}[^\[]{0,40}\[(?P<level>[A-Za-z]+)\]\s*(?P<msg>.*)$", re.DOTALL)

_LEVEL_KEYS = ("severity", "level", "lvl", "levelname", "log.level", "@l")
_MESSAGE_KEYS = ("message", "msg", "@m", "event")
_LOGGER_KEYS = ("logger", "loggerName", "logger_name", "log.logger", "name")
_TRACE_KEYS = ("trace_id", "traceId", "traceID", "trace.id", "logging.googleapis.com/trace")
_SPAN_KEYS = ("span_id", "spanId", "spanID", "span.id", "logging.googleapis.com/spanId")
_NUMERIC_LEVELS = (
    (60, "FATAL"), (50, "ERROR"), (40, "WARN"), (30, "INFO"), (20, "DEBUG"), (10, "TRACE"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LogLine:
    level: LogLevel
    message: str
    logger: str | None = None
    trace_id: str = ""
    span_id: str = ""


def parse_log_line(text: str) -> LogLine:
    """What ``text`` (one line as the container wrote it) says; see the module docstring."""
    found = _clock_level_logger(text) or _json_object(text) or _level_first(text)
    line = found or LogLine(LogLevel.INFO, text)
    context = _CONTEXT.match(line.message)
    if context is None or not (context.group("trace") or context.group("span")):
        return line
    return LogLine(
        line.level,
        context.group("msg").strip() or line.message,
        line.logger,
        line.trace_id or context.group("trace") or "",
        line.span_id or context.group("span") or "",
    )


def _level(text: object) -> LogLevel | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return next((LogLevel.parse(n) for at, n in _NUMERIC_LEVELS if text >= at), None)
    if not isinstance(text, str):
        return None
    try:
        return LogLevel.parse(text)
    except ValueError:
        return None


def _clock_level_logger(text: str) -> LogLine | None:
    match = _CLOCK_LEVEL_LOGGER.match(text)
    level = _level(match.group("level")) if match else None
    if match is None or level is None:
        return None
    logger = match.group("logger")
    if logger == "-":  # no logger in the pattern: the message follows the dash
        logger = None
    return LogLine(level, match.group("msg").strip() or text, logger)


def _json_object(text: str) -> LogLine | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        fields = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(fields, dict):
        return None
    level = next((lv for k in _LEVEL_KEYS if (lv := _level(_get(fields, k))) is not None), None)
    message = _first_text(fields, _MESSAGE_KEYS)
    if level is None and message is None:
        return None  # JSON, but not a log record's
    return LogLine(
        level or LogLevel.INFO,
        message if message is not None else text,
        _first_text(fields, _LOGGER_KEYS),
        _first_text(fields, _TRACE_KEYS) or "",
        _first_text(fields, _SPAN_KEYS) or "",
    )


def _get(fields: dict[str, Any], key: str) -> object:
    """``fields[key]``, or the nested value for a dotted key (``{"log": {"level": …}}``)."""
    if key in fields:
        return fields[key]
    value: object = fields
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _first_text(fields: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = _get(fields, key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _level_first(text: str) -> LogLine | None:
    if match := _DOTNET.match(text):
        name = match.group("level")
        return LogLine(LogLevel.parse(_DOTNET_LEVELS.get(name, name)), _rest(match, text))
    match = _PYTHON.match(text)
    level = _level(match.group("level")) if match else None
    if match and level is not None:
        return LogLine(level, _rest(match, text), match.group("logger"))
    match = _LOGFMT.search(text)
    level = _level(match.group("level")) if match else None
    if match and level is not None:
        said = _LOGFMT_MSG.search(text)
        message = (said.group("quoted") or said.group("bare")) if said else None
        return LogLine(level, (message or text).replace('\\"', '"'))
    match = _BRACKETED.match(text)
    level = _level(match.group("level")) if match else None
    if match and level is not None:
        return LogLine(level, _rest(match, text))
    return None


def _rest(match: re.Match[str], text: str) -> str:
    return match.group("msg").strip() or text
