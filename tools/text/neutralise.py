"""Neutralising untrusted text: invisible characters and chat markup.

What changes, and into what:

* ANSI escape sequences (CSI ``ESC [ … m``, OSC ``ESC ] … BEL`` and the 8-bit forms) are
  removed whole.
* C0 and C1 control characters (NUL, BEL, BS, ESC, DEL, …) are removed; ``\\r\\n`` and ``\\r``,
  NEL, and the Unicode line and paragraph separators become ``\\n``. Where a field is single-line,
  ``\\n`` and ``\\t`` become a space.
* Format characters are removed: bidi embeddings, overrides, isolates and marks (U+202A-202E,
  U+2066-2069, U+200E/F, U+061C), zero-width characters (U+200B-200D, U+2060, U+FEFF), soft
  hyphens, invisible operators and Unicode tag characters (U+E0000-E007F, "ASCII smuggling").
* A lone surrogate (from a bad decode) becomes ``?``, so the text always encodes as UTF-8.
* Slack markup that pings or hides a link is made visible and inert: ``<!channel>``, ``<!here>``,
  ``<!subteam^…>``, ``<@U…>`` and ``<#C…>`` keep their text between ``‹ ›`` (U+2039, U+203A),
  which Slack does not parse; a link ``<https://x|label>`` becomes ``label (https://x)`` and
  ``<https://x>`` becomes ``https://x``, so the real address is always shown. Plain
  ``@channel``, ``@here`` and ``@everyone`` get a full-width at sign (``＠here``) from
  :func:`defuse_broadcasts`, which the pipeline runs after redaction.

Any other ``<`` right before ``!``, ``@`` or ``#`` (markup that did not close cleanly, such as
``<@U1<NUM>ABC>`` after template masking) becomes ``‹`` too. Other angle brackets (``<NUM>``,
``a < b``) stay; escaping ``&<>`` for Slack's wire format is the
renderer's job. Neutralising twice changes nothing.
"""

from __future__ import annotations

import re2

_REMOVED = (
    *[(0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x84), (0x86, 0x9F)],
    *[(0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F)],
    *[(0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E)],
    *[(0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB)],
    *[(0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3)],
    *[(0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F)],
)
"""Code-point ranges removed: control (Cc) and format (Cf) characters but tab and newline."""

_NEWLINES = {0x0D: "\n", 0x85: "\n", 0x2028: "\n", 0x2029: "\n"}
MULTI_LINE: dict[int, str | None] = {
    code: None for low, high in _REMOVED for code in range(low, high + 1)
} | _NEWLINES
SINGLE_LINE: dict[int, str | None] = MULTI_LINE | {
    0x09: " ",
    0x0A: " ",
    **dict.fromkeys(_NEWLINES, " "),
}

_ASCII_CONTROL = re2.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ANSI = re2.compile(
    r"(?:(?:\x1b\[|\x{9b})[0-?]*[ -/]*[@-~]?"  # CSI … final byte
    r"|(?:\x1b\]|\x{9d})[^\x07\x1b\x{9c}]*(?:\x07|\x1b\\|\x{9c})?"  # OSC … BEL / ST
    r"|\x1b[P^_X][^\x1b\x{9c}]*(?:\x1b\\|\x{9c})?"  # DCS, PM, APC, SOS … ST
    r"|\x1b[ -/]*[0-~]?)+"  # other escapes (ESC ( B, ESC 7, …); a run is one match
)
_SLACK = re2.compile(r"<([!@#][^<>\n]*|[A-Za-z][A-Za-z0-9+.-]*:[^<>|\s]*(?:\|[^<>\n]*)?)>")
_BROADCAST = re2.compile(r"(?i)@(channel|here|everyone)")


def _slack(match: re2._Match[str]) -> str:
    inner = match.group(1)
    if inner[0] in "!@#":
        return f"‹{inner}›"
    url, _, label = inner.partition("|")
    return f"{label} ({url})" if label.strip() else url


def neutralise(text: str, *, multiline: bool = True) -> str:
    """``text`` without invisible characters or live chat markup (see the module docstring)."""
    if text.isascii():
        if "\x1b" in text:
            text = _ANSI.sub("", text)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        if not multiline or _ASCII_CONTROL.search(text) is not None:
            text = text.translate(MULTI_LINE if multiline else SINGLE_LINE)
    else:
        text = text.encode("utf-8", "replace").decode("utf-8")
        if "\x1b" in text or "\x9b" in text or "\x9d" in text:
            text = _ANSI.sub("", text)
        text = text.replace("\r\n", "\n").translate(MULTI_LINE if multiline else SINGLE_LINE)
    if "<" in text:
        text = _SLACK.sub(_slack, text)
        # an opening that did not close cleanly (``<@U1<NUM>ABC>`` after template masking)
        for opening in ("<!", "<@", "<#"):
            text = text.replace(opening, "‹" + opening[1])
    return text


def defuse_broadcasts(text: str) -> str:
    """``@channel``, ``@here`` and ``@everyone`` with a full-width at sign, wherever they are.

    The pipeline runs this after redaction: before it, ``jane@here.com`` must stay an e-mail
    address (to be redacted), and a redaction can leave ``[REDACTED …]@channel``.
    """
    if "@" not in text:
        return text
    return _BROADCAST.sub(lambda m: "＠" + m.group(1), text)
