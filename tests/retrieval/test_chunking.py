"""chunk_document: one chunk per short section, exact overlapping windows for long ones."""

from __future__ import annotations

import pytest

from retrieval.chunking import chunk_document, context_line, split_words
from tools.postmortems import Document, Section, SectionName


def document(*sections: Section, title: str = "Payments outage") -> Document:
    return Document(
        doc_id="pm/payments.md",
        title=title,
        source="/wiki/pm/payments.md",
        url=None,
        date=None,
        services=("payments",),
        root_cause_category=None,
        sections=sections,
        content_hash="ab" * 32,
    )


def plain_words(count: int) -> str:
    """``w0 w1 ...``: no sentence or line boundaries, so cuts fall every ``max_words``."""
    return " ".join(f"w{i}" for i in range(count))


def sentences(count: int, length: int, start: int = 0) -> str:
    """Words ``W0 w1 ... wN.``: a sentence ends after every word ``i`` with ``i % length ==
    length - 1`` (its next word is capitalised)."""
    words = []
    for i in range(start, start + count):
        word = f"W{i}" if i % length == 0 else f"w{i}"
        words.append(word + "." if i % length == length - 1 else word)
    return " ".join(words)


def spans(windows: list[str]) -> list[tuple[int, int]]:
    """(first, one past last) word number of each window of generated text."""
    out = []
    for window in windows:
        numbers = [int(word.strip(".").lstrip("Ww")) for word in window.split()]
        assert numbers == list(range(numbers[0], numbers[-1] + 1))
        out.append((numbers[0], numbers[-1] + 1))
    return out


def test_short_section_is_one_chunk_with_a_context_line() -> None:
    doc = document(Section(SectionName.ROOT_CAUSE, "What went wrong", "A bad\nconfig push."))
    (chunk,) = chunk_document(doc)
    assert chunk.text == "Payments outage — What went wrong\nA bad\nconfig push."
    assert chunk.body == "A bad\nconfig push."
    assert (chunk.doc_id, chunk.index, chunk.section, chunk.heading) == (
        "pm/payments.md",
        0,
        SectionName.ROOT_CAUSE,
        "What went wrong",
    )
    assert chunk.content_hash == doc.content_hash
    assert chunk.chunk_id == "pm/payments.md@abababababababab#0"


def test_context_line_without_heading() -> None:
    title = "Payments outage"
    assert context_line(title, Section(SectionName.SUMMARY, "", "x")) == f"{title} — Summary"
    assert context_line(title, Section(SectionName.OTHER, "", "x")) == title
    assert context_line(title, Section(SectionName.OTHER, title, "x")) == title


def test_plain_text_windows_are_cut_every_max_words_with_exact_overlap() -> None:
    windows = split_words(plain_words(500), max_words=200, overlap_words=40)
    assert spans(windows) == [(0, 200), (160, 360), (320, 500)]


def test_windows_end_and_restart_at_sentence_boundaries() -> None:
    windows = split_words(sentences(250, 15), max_words=100, overlap_words=20)
    # cuts after the last sentence end in [50, 100] (word 89), the next window starts at the
    # first sentence start in [80 - 0, 90 - 10] = word 75, and so on
    assert spans(windows) == [(0, 90), (75, 165), (150, 250)]
    assert all(window.startswith("W") for window in windows)
    assert all(window.endswith(".") for window in windows[:-1])


def test_paragraph_boundaries_win_over_later_sentence_ends() -> None:
    text = sentences(60, 10) + "\n\n" + sentences(200, 10, start=60)
    windows = split_words(text, max_words=100, overlap_words=20)
    assert spans(windows)[0] == (0, 60)  # the paragraph break, not the sentence end at 100
    assert spans(windows)[1][0] == 40  # restarts at the first sentence start in [40, 50]


def test_line_items_are_preferred_to_mid_sentence_cuts() -> None:
    rows = [f"- 10:{i:02d} step {' '.join(['word'] * 8)}" for i in range(30)]  # 11 words each
    windows = split_words("\n".join(rows), max_words=50, overlap_words=12)
    assert all(window.startswith("- 10:") for window in windows)  # the overlap is one row
    assert all(len(window.split()) <= 50 for window in windows)
    assert windows[0] == "\n".join(rows[:4])  # 44 words: the last row end within 50


def test_long_section_chunks_keep_section_and_index_order() -> None:
    doc = document(
        Section(SectionName.SUMMARY, "Summary", "Short summary."),
        Section(SectionName.TIMELINE, "Timeline", plain_words(450)),
        Section(SectionName.OTHER, "Empty", "   \n "),
        Section(SectionName.ACTION_ITEMS, "Action items", "- Fix it."),
    )
    chunks = chunk_document(doc, max_words=200, overlap_words=40)
    assert [(c.index, c.section, c.heading) for c in chunks] == [
        (0, SectionName.SUMMARY, "Summary"),
        (1, SectionName.TIMELINE, "Timeline"),
        (2, SectionName.TIMELINE, "Timeline"),
        (3, SectionName.TIMELINE, "Timeline"),
        (4, SectionName.ACTION_ITEMS, "Action items"),
    ]
    assert spans([c.body for c in chunks[1:4]]) == [(0, 200), (160, 360), (320, 450)]
    assert all(c.text.startswith("Payments outage — Timeline\n") for c in chunks[1:4])
    assert all(len(c.body.split()) <= 200 for c in chunks)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_no_overlap_and_tiny_windows() -> None:
    assert spans(split_words(plain_words(10), max_words=4, overlap_words=0)) == [
        (0, 4),
        (4, 8),
        (8, 10),
    ]
    assert spans(split_words(plain_words(5), max_words=2, overlap_words=1)) == [
        (0, 2),
        (1, 3),
        (2, 4),
        (3, 5),
    ]
    assert split_words("", max_words=5, overlap_words=1) == []


@pytest.mark.parametrize(("max_words", "overlap"), [(200, 200), (200, 250), (0, 0), (10, -1)])
def test_invalid_arguments(max_words: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        chunk_document(document(), max_words=max_words, overlap_words=overlap)


@pytest.mark.parametrize(("max_words", "overlap"), [(200, 40), (50, 10), (30, 29), (7, 0)])
def test_windows_cover_the_text_and_never_exceed_max_words(max_words: int, overlap: int) -> None:
    text = (sentences(170, 13) + "\n\n- a list item here\n- another one\n\n") * 3
    windows = split_words(text, max_words=max_words, overlap_words=overlap)
    assert all(len(window.split()) <= max_words for window in windows)
    words = text.split()
    position = 0  # every word is in some window, in order
    for window in windows:
        window_words = window.split()
        start = next(
            i
            for i in range(max(0, position - max_words), position + 1)
            if words[i : i + len(window_words)] == window_words
        )
        assert start <= position
        position = start + len(window_words)
    assert position == len(words)


def test_deterministic() -> None:
    doc = document(Section(SectionName.TIMELINE, "Timeline", sentences(900, 11)))
    assert chunk_document(doc) == chunk_document(doc)
