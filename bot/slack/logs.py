"""Structured log lines: one JSON object per event, on the ``rcabot.slack`` logger.

Every skip (an unknown channel, a duplicate retry, an edited message) and every failure is one
line an operator can grep and count; the thread gets a short human message as well.
``rcabot serve`` writes every log line, these and other libraries' alike, as one JSON object
(:class:`JsonLines`), so a log pipeline parses them without a pattern.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

LOGGER = logging.getLogger("rcabot.slack")


def log_event(
    event: str,
    *,
    level: int = logging.INFO,
    exc_info: BaseException | None = None,
    **fields: object,
) -> None:
    if exc_info is not None:
        level = max(level, logging.ERROR)
    elif event.endswith(("_failed", "_timeout", "_refused")):
        level = max(level, logging.WARNING)
    line = json.dumps({"event": event, **fields}, default=str, ensure_ascii=False)
    LOGGER.log(level, line, exc_info=exc_info)


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, and either the fields of a
    :func:`log_event` line or the plain message; a traceback as ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        message = record.getMessage()
        try:
            fields = json.loads(message) if message.startswith("{") else None
        except ValueError:
            fields = None
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        else:
            line["message"] = message
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)
