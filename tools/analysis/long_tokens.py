"""Masking a long token in linear time, with the same result as the miner's masking regex.

``template_miner._MASK_RE`` uses look-arounds, which only a backtracking engine runs, and on one
long token it is quadratic (every start position re-scans the rest: a 100 kB token took 15 s).
Tokens up to :data:`SHORT_TOKEN` characters (all of Loghub's, and any real word) keep that
regex; a longer one is masked here: each mask alternative is an RE2 pattern (linear), the
look-behinds become checks on the characters before a candidate, the look-ahead after a number
is matched and given back, and the alternatives are merged as Python's alternation does —
leftmost start wins, ties go to the earlier alternative. Each alternative's next candidate is
cached until the scan passes its start, so the work stays linear in the token.

The one difference: RE2's ``\\b``, ``\\w`` and ``\\d`` are ASCII, Python's are Unicode, so a long
token with non-ASCII letters or digits next to a number may mask differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import re2

SHORT_TOKEN = 64
"""Longest token masked by the backtracking regex (at most quadratic in this)."""

_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_KEY_END = _LETTERS | {ord("_")}


def _has_digit(token: bytes, start: int, end: int) -> bool:
    return any(48 <= byte <= 57 for byte in token[start:end])


def _no_letter_before(token: bytes, start: int, end: int) -> bool:
    return start == 0 or token[start - 1] not in _LETTERS


def _word(byte: int) -> bool:
    return byte >= 0x80 or byte in _KEY_END or 48 <= byte <= 57  # non-ASCII: a letter's byte


def _value_after_key(token: bytes, start: int, end: int) -> bool:
    """``(?<=[A-Za-z_]=)(?<!\\bmsg=)(?<!\\bmessage=)`` at ``start``."""
    if start < 2 or token[start - 2] not in _KEY_END:
        return False
    for key in (b"msg=", b"message="):
        begin = start - len(key)
        if begin >= 0 and token[begin:start] == key and (begin == 0 or not _word(token[begin - 1])):
            return False
    return True


@dataclass(frozen=True)
class _Alternative:
    name: str
    regex: re2._Regexp[bytes]
    span_group: int = 0  # the match proper (its group, when the pattern has context around it)
    check: Callable[[bytes, int, int], bool] | None = None
    back: int = 0  # start searching this many characters early (context before the match)


_ALTERNATIVES = (
    _Alternative(
        "UUID",
        re2.compile(
            rb"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
    ),
    _Alternative(
        "TIME",
        re2.compile(
            rb"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
            rb"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
        ),
    ),
    _Alternative("DATE", re2.compile(rb"\b\d{4}-\d{2}-\d{2}\b")),
    _Alternative("EMAIL", re2.compile(rb"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")),
    _Alternative("IP", re2.compile(rb"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")),
    _Alternative("NUM", re2.compile(rb"\b0[xX][0-9a-fA-F]+\b")),
    _Alternative("NUM", re2.compile(rb"\b[0-9a-fA-F]{8,}\b"), check=_has_digit),
    # (?<![A-Za-z])-?\d+(?:\.\d+)?(?=[a-zA-Z%]{0,3}\b): the look-ahead is matched, then given back
    _Alternative(
        "NUM", re2.compile(rb"(-?\d+(?:\.\d+)?)[a-zA-Z%]{0,3}\b"), 1, check=_no_letter_before
    ),
    _Alternative(
        "VAL", re2.compile(rb"""=([^\s,;&=()\[\]{}"']+)"""), 1, check=_value_after_key, back=1
    ),
)

_Candidate = tuple[int, int] | None


def _next(alternative: _Alternative, token: bytes, pos: int) -> _Candidate:
    """The first valid match of ``alternative`` starting at or after ``pos``, or None."""
    search_from = max(0, pos - alternative.back)
    while True:
        match = alternative.regex.search(token, search_from)
        if match is None:
            return None
        start, end = match.span(alternative.span_group)
        if start >= pos and (alternative.check is None or alternative.check(token, start, end)):
            return start, end
        search_from = max(match.start() + 1, start if alternative.back else 0)


def mask_long(text: str, placeholders: dict[str, str]) -> str:
    """``text`` (one token) masked as ``_MASK_RE.sub`` would, in time linear in its length.

    The scan runs on UTF-8 bytes: ``re2`` re-encodes a ``str`` on every search.
    """
    token = text.encode("utf-8", "surrogatepass")
    out: list[bytes] = []
    pos = 0
    cached: list[_Candidate] = [(-1, -1)] * len(_ALTERNATIVES)
    while True:
        best: tuple[int, int, int] | None = None
        for index, alternative in enumerate(_ALTERNATIVES):
            candidate = cached[index]
            if candidate is not None and candidate[0] < pos:
                candidate = cached[index] = _next(alternative, token, pos)
            if candidate is not None and (best is None or candidate[0] < best[0]):
                best = (candidate[0], candidate[1], index)
        if best is None:
            break
        start, end, index = best
        out += (token[pos:start], placeholders[_ALTERNATIVES[index].name].encode())
        pos = end
    out.append(token[pos:])
    return b"".join(out).decode("utf-8", "surrogatepass")
