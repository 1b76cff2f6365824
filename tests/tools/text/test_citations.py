from __future__ import annotations

import re

import pytest

from tools.text import defuse_citations

# the answer validator's CITATION (bot.investigation.report), and looser readings of it
CITATION = re.compile(r"\[(E[1-9][0-9]*)\]")
LOOSE = re.compile(r"[\[［【〔⟦〖〚]\s*[EeＥｅ]\s*[0-9０-９]+\s*[\]］】〕⟧〗〛]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[E1] Payment failed", "(E1) Payment failed"),
        ("see [ E12 ] and [e3]", "see ( E12 ) and (e3)"),
        ("version [E99]-rc", "version (E99)-rc"),
        ("cites [E1, E2]", "cites (E1, E2)"),
        ("［Ｅ３］ 【E4】 〔E5〕", "(Ｅ３) (E4) (E5)"),
        ("[[E1]]", "[(E1)]"),
        ("[E1 unclosed", "(E1 unclosed"),
        ("[Errors] [E] [x1] [1E]", "[Errors] [E] [x1] [1E]"),
    ],
)
def test_citation_like_markers_are_defused(text: str, expected: str) -> None:
    defused = defuse_citations(text)
    assert defused == expected
    assert not CITATION.search(defused)
    assert not LOOSE.search(defused)
    assert defuse_citations(defused) == defused
