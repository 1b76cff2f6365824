"""Cut a :class:`~tools.postmortems.Document` into :class:`~tools.postmortems.Chunk` objects.

A chunk is what gets embedded and matched, so it should be one coherent piece of one section:
each section is a chunk when it fits in ``max_words`` words; a longer one is cut into windows of
at most ``max_words`` words that end, where possible, at a paragraph, then a line (list items,
timeline rows), then a sentence boundary, and overlap the previous window by up to
``overlap_words`` words so a fact on a boundary is whole in at least one window.

Every chunk's text starts with one context line, ``"<title> — <section heading>"``, then a
newline and the section text: a window of a root-cause section reads "a bad config push..." on
its own, and only with the title and heading does it embed (and match BM25) as "the payments
outage's root cause". The context line does not count towards ``max_words``;
``Chunk.body`` gives the section text back without it (for quoting in evidence).

Window rules, exactly (the tests pin them): a window starting at word ``s`` of a section with
``n > s + max_words`` words ends after word ``e`` in ``[s + max(overlap_words + 1,
max_words // 2), s + max_words]`` with the strongest boundary (paragraph > line > sentence >
none), the latest among equals, so a text without boundaries is cut every ``max_words`` words.
The next window starts at the earliest sentence start in ``[e - overlap_words,
e - max(1, overlap_words // 2)]``, else at ``e - overlap_words`` exactly. The last window runs
to the end of the section.
"""

from __future__ import annotations

import re

from tools.postmortems import Chunk, Document, Section, SectionName

CONTEXT_SEPARATOR = " — "

_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_LINE_ITEM = re.compile(r"^(?:[-*+•|]|\d)")
_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "vs.", "approx.", "mr.", "ms.", "dr.", "no."})
_PARAGRAPH, _LINE, _SENTENCE, _NONE = 3, 2, 1, 0
_LABELS = {
    SectionName.SUMMARY: "Summary",
    SectionName.IMPACT: "Impact",
    SectionName.TIMELINE: "Timeline",
    SectionName.DETECTION: "Detection",
    SectionName.ROOT_CAUSE: "Root cause",
    SectionName.CONTRIBUTING_FACTORS: "Contributing factors",
    SectionName.MITIGATION: "Mitigation",
    SectionName.ACTION_ITEMS: "Action items",
}


def chunk_document(doc: Document, *, max_words: int = 200, overlap_words: int = 40) -> list[Chunk]:
    """The chunks of ``doc`` in document order, indexed from 0; empty sections give none."""
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, got {max_words}")
    if not 0 <= overlap_words < max_words:
        raise ValueError(
            f"overlap_words must be at least 0 and below max_words ({max_words}), "
            f"got {overlap_words}"
        )
    chunks: list[Chunk] = []
    for section in doc.sections:
        context = context_line(doc.title, section)
        for body in split_words(section.text, max_words=max_words, overlap_words=overlap_words):
            chunks.append(
                Chunk(
                    doc_id=doc.doc_id,
                    content_hash=doc.content_hash,
                    index=len(chunks),
                    section=section.name,
                    heading=section.heading,
                    text=f"{context}\n{body}",
                )
            )
    return chunks


def context_line(title: str, section: Section) -> str:
    """``"<title> — <heading>"`` on one line; the section's name stands in for a missing heading."""
    label = section.heading or _LABELS.get(section.name, "")
    line = f"{title}{CONTEXT_SEPARATOR}{label}" if label and label != title else title
    return " ".join(line.split())


def split_words(text: str, *, max_words: int, overlap_words: int) -> list[str]:
    """``text`` in windows of at most ``max_words`` words (rules in the module docstring).

    Windows are slices of the original text, so line breaks and list layout survive.
    """
    words = [(match.start(), match.end()) for match in re.finditer(r"\S+", text)]
    count = len(words)
    if count == 0:
        return []
    if count <= max_words:
        return [text[words[0][0] : words[-1][1]]]
    strength = [_boundary(text, words, i) for i in range(count - 1)] + [_PARAGRAPH]
    windows: list[tuple[int, int]] = []
    start = 0
    while count - start > max_words:
        lowest = start + max(overlap_words + 1, max_words // 2)
        end = max(range(lowest, start + max_words + 1), key=lambda e: (strength[e - 1], e))
        windows.append((start, end))
        start = end - overlap_words
        for candidate in range(end - overlap_words, end - max(1, overlap_words // 2) + 1):
            if strength[candidate - 1] >= _SENTENCE:
                start = candidate
                break
    windows.append((start, count))
    return [text[words[s][0] : words[e - 1][1]] for s, e in windows]


def _boundary(text: str, words: list[tuple[int, int]], index: int) -> int:
    """How good a place to cut the gap after word ``index`` is."""
    word = text[words[index][0] : words[index][1]]
    following = text[words[index + 1][0] : words[index + 1][1]]
    gap = text[words[index][1] : words[index + 1][0]]
    sentence_end = (
        _SENTENCE_END.search(word) is not None
        and word.lower() not in _ABBREVIATIONS
        and (following[:1].isupper() or following[:1].isdigit() or following[:1] in "\"'“‘(")
    )
    newlines = gap.count("\n")
    if newlines >= 2:
        return _PARAGRAPH
    if newlines == 1 and (_LINE_ITEM.match(following) or sentence_end or word.endswith(":")):
        return _LINE
    return _SENTENCE if sentence_end else _NONE
