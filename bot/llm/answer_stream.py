"""Statements out of a JSON answer while it streams: each as soon as its object closes.

``StatementScanner.feed(chunk)`` returns the statement objects (decoded) completed by ``chunk``
in ``{"statements": [{...}, {...}]}``; it tracks strings and escapes, so braces inside text do
not count. Malformed objects are skipped here: the full answer is parsed again at the end.
"""

from __future__ import annotations

import json
from typing import Any

STATEMENT_DEPTH = 3  # root object → statements array → statement object


class StatementScanner:
    def __init__(self) -> None:
        self._buffer: list[str] = []
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._start: int | None = None
        self._seen = 0

    def feed(self, chunk: str) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = []
        for char in chunk:
            self._buffer.append(char)
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif char == "\\":
                    self._escaped = True
                elif char == '"':
                    self._in_string = False
                continue
            if char == '"':
                self._in_string = True
            elif char in "{[":
                self._depth += 1
                if char == "{" and self._depth == STATEMENT_DEPTH:
                    self._start = len(self._buffer) - 1
            elif char in "}]":
                if char == "}" and self._depth == STATEMENT_DEPTH and self._start is not None:
                    done += self._decode("".join(self._buffer[self._start :]))
                    self._start = None
                self._depth -= 1
        return done

    @staticmethod
    def _decode(text: str) -> list[dict[str, Any]]:
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return []
        return [value] if isinstance(value, dict) else []

    @property
    def text(self) -> str:
        return "".join(self._buffer)
