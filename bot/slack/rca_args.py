"""``/rca`` arguments → what to investigate and over which window, checked at the Slack edge.

``/rca TARGET [WINDOW]`` — TARGET is an alert name or a service name; WINDOW is one of

- a duration: ``30m``, ``2h``, ``90s``, ``1d``, ``1h30m`` — the last N, up to now;
- ``START/END`` or ``START..END`` with ISO-8601 times (``Z`` or an offset; no offset = UTC;
  ``now`` as END is allowed);
- ``HH:MM-HH:MM`` — today, UTC.

Slack sends the text escaped (``&amp; &lt; &gt;``) and, depending on the app's settings, with
mentions and links wrapped (``<@U123|ann>``, ``<mailto:a@b|a@b>``, ``<http://x|x>``). The text
is unwrapped and unescaped here, once, so nothing downstream sees Slack's wire format. A link
Slack made of a plain word the user typed (``<http://api.example.com|api.example.com>``) is
read back as that word; any other mention or link is an error, not a target.

Every problem is an :class:`RcaUsageError` with one line that says what is wrong and how to
write it; the listener shows it to the user as an ephemeral reply. Errors only echo the user's
text through :func:`_quote`, which keeps nothing that Slack could turn into a ping or a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tools.bundle.timestamps import EARLIEST, LATEST
from tools.errors import InvestigationError
from tools.evidence import TimeWindow
from tools.settings import MAX_WINDOW_MINUTES

USAGE = "usage: /rca ALERT-OR-SERVICE [WINDOW], WINDOW like 30m, 2h, 10:00-11:00 or START/END"
MAX_TEXT = 1_000  # characters of the whole command text
MAX_TARGET = 100
MAX_WINDOW = timedelta(minutes=MAX_WINDOW_MINUTES)

_TARGET = re.compile(rf"[A-Za-z0-9._:/-]{{1,{MAX_TARGET}}}")
_ALNUM = re.compile(r"[A-Za-z0-9]")
# One wrapped Slack entity: <@U1>, <#C1|name>, <!here>, <mailto:x|y>, <https://x|y>, <https://x>.
_WRAPPED = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_DURATION = re.compile(r"(?:(\d{1,12})d)?(?:(\d{1,12})h)?(?:(\d{1,12})m)?(?:(\d{1,12})s)?")
_CLOCK_RANGE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_UNSAFE = re.compile(r"[^A-Za-z0-9._:/+ -]")
_MAX_TIME_TEXT = 64


class RcaUsageError(InvestigationError):
    """``/rca`` was given arguments it cannot use; the message is one line for the user."""


@dataclass(frozen=True)
class RcaArgs:
    """What ``/rca`` asks for: ``window`` is ``None`` when none was given (the default
    applies); ``window_text`` is the window as typed (``""`` when none)."""

    target: str
    window: TimeWindow | None
    window_text: str


def parse_rca(text: str, now: datetime) -> RcaArgs:
    """The target and window of ``/rca``'s ``text``; ``now`` (naive = UTC) bounds the window.

    Raises :class:`RcaUsageError` (and nothing else) for anything unusable. A window returned
    always has ``start < end <= now`` and lasts at most ``MAX_WINDOW_MINUTES``.
    """
    now = _utc(now)
    if len(text) > MAX_TEXT:
        raise RcaUsageError(f"the command is {len(text)} characters long; {USAGE}")
    words = text.split()
    if not words:
        raise RcaUsageError(f"say what to investigate; {USAGE}")
    if len(words) > 2:
        raise RcaUsageError(f"expected at most 2 words, got {len(words)}; {USAGE}")
    target = _target(words[0], now)
    if len(words) == 1:
        return RcaArgs(target=target, window=None, window_text="")
    window_text = _plain(words[1])
    if window_text is None:
        raise RcaUsageError(f"the window is a mention or a link; {USAGE}")
    return RcaArgs(target=target, window=parse_window(window_text, now), window_text=window_text)


def parse_window(text: str, now: datetime) -> TimeWindow:
    """One ``/rca`` window (see the module docstring) ending at or before ``now``."""
    now = _utc(now)
    if (duration := _duration(text)) is not None:
        _check_length(duration, text)
        return TimeWindow(start=now - duration, end=now)
    if clock := _CLOCK_RANGE.fullmatch(text):
        start, end = _clock_range(clock, text, now)
    elif "/" in text or ".." in text:
        start, end = _iso_range(text, now)
    else:
        raise RcaUsageError(
            f"window {_quote(text)} is not a duration (30m, 1h30m), HH:MM-HH:MM or START/END"
        )
    if end <= start:
        raise RcaUsageError(f"window {_quote(text)} ends before it starts")
    if end > now:
        raise RcaUsageError(
            f"window {_quote(text)} ends in the future (now is {now:%Y-%m-%d %H:%M} UTC)"
        )
    _check_length(end - start, text)
    return TimeWindow(start=start, end=end)


def _target(word: str, now: datetime) -> str:
    plain = _plain(word)
    if plain is None:
        raise RcaUsageError(
            "the target is a mention or a link; give an alert or service name as plain text"
        )
    if not _TARGET.fullmatch(plain) or not _ALNUM.search(plain):
        raise RcaUsageError(
            f"{_quote(plain)} is not an alert or service name (letters, digits and . _ - : / "
            f"only, at most {MAX_TARGET} characters); {USAGE}"
        )
    if _looks_like_window(plain, now):
        raise RcaUsageError(f"name the alert or service before the window; {USAGE}")
    return plain


def _looks_like_window(word: str, now: datetime) -> bool:
    if _duration(word) is not None or _CLOCK_RANGE.fullmatch(word):
        return True
    if "/" not in word and ".." not in word:
        return False
    try:
        _iso_range(word, now)
    except RcaUsageError:
        return False
    return True


def _plain(word: str) -> str | None:
    """A word as the user typed it, or ``None`` if it is a mention or a link.

    Slack's auto-link of a plain word (``<http://api.example.com|api.example.com>``) is read
    back as the word; then ``&lt; &gt; &amp;`` are unescaped (after, so that an escaped
    ``&lt;@U1&gt;`` the user typed is text, not a mention).
    """
    if match := _WRAPPED.fullmatch(word):
        address, label = match[1], match[2]
        bare = address.removeprefix("http://").removeprefix("https://").rstrip("/")
        if label is None or address == bare or bare != label:
            return None
        word = label
    return word.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _duration(text: str) -> timedelta | None:
    """``30m``, ``1h30m``, ``1d``… as a timedelta (may be zero or too long); ``None`` if
    ``text`` is not a duration."""
    match = _DURATION.fullmatch(text.lower())
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    # Anything longer than the longest window is refused anyway; capping keeps timedelta small.
    return timedelta(seconds=min(total, int(MAX_WINDOW.total_seconds()) + 1))


def _check_length(duration: timedelta, text: str) -> None:
    if duration <= timedelta(0):
        raise RcaUsageError(f"window {_quote(text)} is empty")
    if duration > MAX_WINDOW:
        raise RcaUsageError(
            f"window {_quote(text)} is longer than {_minutes(MAX_WINDOW)}; pick a shorter one"
        )


def _clock_range(match: re.Match[str], text: str, now: datetime) -> tuple[datetime, datetime]:
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise RcaUsageError(f"window {_quote(text)}: hours go to 23 and minutes to 59")
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today.replace(hour=h1, minute=m1)
    end = today.replace(hour=h2, minute=m2)
    if end <= start:
        raise RcaUsageError(
            f"window {_quote(text)} ends before it starts (HH:MM-HH:MM is today, UTC; "
            "across midnight give START/END times)"
        )
    return start, end


def _iso_range(text: str, now: datetime) -> tuple[datetime, datetime]:
    separator = ".." if ".." in text else "/"
    parts = text.split(separator)
    if len(parts) != 2 or not all(parts):
        raise RcaUsageError(
            f"window {_quote(text)}: give START/END or START..END, "
            "like 2024-05-01T10:00Z/2024-05-01T11:30Z"
        )
    start = _iso_time(parts[0], now)
    end = now if parts[1].lower() == "now" else _iso_time(parts[1], now)
    return start, end


def _iso_time(text: str, now: datetime) -> datetime:
    if text.lower() == "now":
        return now
    problem = f"{_quote(text)} is not an ISO-8601 time like 2024-05-01T10:00Z"
    if len(text) > _MAX_TIME_TEXT:
        raise RcaUsageError(problem)
    outside = f"{_quote(text)} is outside {EARLIEST.year}..{LATEST.year}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RcaUsageError(problem) from None
    try:
        moment = _utc(moment)
    except OverflowError:  # year 9999 with a negative offset is past datetime.max in UTC
        raise RcaUsageError(outside) from None
    if not EARLIEST <= moment < LATEST:
        raise RcaUsageError(outside)
    return moment


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} days"
    return f"{minutes} minutes"


def _quote(text: str) -> str:
    """``text`` for an error line: clipped, with anything but plain name characters shown as
    ``?``, so an echo can never ping anyone or hide a link."""
    clipped = text[:40] + ("…" if len(text) > 40 else "")
    return "'" + _UNSAFE.sub("?", clipped) + "'"
