"""Defusing citation-like markers in untrusted text.

The answer cites evidence as ``[E3]`` (``bot.investigation.report.CITATION``). Telemetry, alert
fields and change metadata must never carry a marker the validator could take for a citation,
or anyone who can write a log line or a deploy description could cite (or spoil) evidence. So
every bracketed ``E<digits>`` — any case, spaces inside, full-width or CJK brackets, letters or
digits, lists such as ``[E1, E2]`` — gets parentheses: ``[E1]`` → ``(E1)``, ``【Ｅ１】`` →
``(Ｅ１)``. The text stays readable; the validator must never accept parentheses.
"""

from __future__ import annotations

import re2

_OPEN = "[［【〔⟦〖〚"
_CLOSE = "]］】〕⟧〗〛"
_O = r"\[［【〔⟦〖〚"
_C = r"\]］】〕⟧〗〛"
_MARKER = re2.compile(rf"(?:[{_O}][\s\pZ]*[EeＥｅ][\s\pZ]*[0-9０-９][^{_O}{_C}]{{0,80}}[{_C}]?)+")
_PARENS = str.maketrans(dict.fromkeys(_OPEN, "(") | dict.fromkeys(_CLOSE, ")"))


def defuse_citations(text: str) -> str:
    """``text`` with every citation-like ``[E…]`` turned into ``(E…)``."""
    if not any(bracket in text for bracket in _OPEN):
        return text
    # a match is a run of markers, each an opening bracket, E<digits> and text up to the next
    # bracket: every bracket in it belongs to a marker
    return _MARKER.sub(lambda m: m.group().translate(_PARENS), text)
