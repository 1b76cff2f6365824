"""Structured log lines: one JSON object per event, on the ``rcabot.slack`` logger.

Every skip (an unknown channel, a duplicate retry, an edited message) and every failure is one
line an operator can grep and count; the thread gets a short human message as well.
"""

from __future__ import annotations

import json
import logging

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
