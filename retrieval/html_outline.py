"""Turn an HTML page into an :class:`~retrieval.formats.Outline` with the standard library.

``h1``-``h6`` open sections; the text of paragraphs, list items (as ``- item``), table rows
(cells joined by `` | ``) and ``pre`` blocks (verbatim) is kept. Scripts, styles, templates,
SVG and ``nav`` menus are dropped with everything inside them: they are page machinery, and a
script's string "Root cause: ..." must not become a section.
"""

from __future__ import annotations

from html.parser import HTMLParser

from retrieval.formats import Block, Outline, take_title

_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "nav"})
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "hr"}
    | {"ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "figure"}
    | {"figcaption", "form", "fieldset", "address", "details", "summary"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class _HtmlOutliner(HTMLParser):
    """Headings h1-h6 open blocks; text of paragraphs, list items, cells and ``pre`` is kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks = [Block("", 0)]
        self.page_title: list[str] = []
        self._parts: list[str] = []
        self._heading: list[str] | None = None
        self._level = 0
        self._skip = 0
        self._pre = 0
        self._in_title = False
        self._in_head = False
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif self._skip:
            return  # markup inside a script, menu or template
        elif tag == "head":
            self._in_head = True
        elif tag == "title":
            self._in_title = True
        elif tag in _HEADINGS:
            self._flush()
            self._heading, self._level = [], int(tag[1])
        elif tag == "li":
            self._flush(blank=False)
            self._parts.append("- ")
        elif tag == "pre":
            self._flush()
            self._pre += 1
        elif tag in ("td", "th"):
            if self._cells:
                self._parts.append(" | ")
            self._cells += 1
        elif tag == "br":
            self._flush(blank=False)
        elif tag in _BLOCKS:
            self._flush(blank=tag != "tr")
            self._cells = 0

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif self._skip:
            return
        elif tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_title = False
        elif tag in _HEADINGS and self._heading is not None:
            heading = " ".join("".join(self._heading).split())
            self._heading = None
            self.blocks.append(Block(heading, self._level))
        elif tag == "pre":
            self._flush()
            self._pre = max(0, self._pre - 1)
        elif tag == "li" or tag in _BLOCKS:
            self._flush(blank=tag not in ("li", "tr"))
            self._cells = 0

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.page_title.append(data)
        elif self._heading is not None:
            self._heading.append(data)
        elif not self._in_head:
            self._parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self, *, blank: bool = True) -> None:
        text = "".join(self._parts)
        self._parts = []
        lines = self.blocks[-1].lines
        if self._pre:
            lines.extend(text.strip("\n").split("\n"))
        elif text.strip() and text.strip() != "-":
            lines.append(" ".join(text.split()))
        if blank and lines and lines[-1]:
            lines.append("")


def parse_html(text: str) -> Outline:
    """HTML via the standard library parser; the first h1, else ``<title>``, is the title."""
    outliner = _HtmlOutliner()
    outliner.feed(text)
    outliner.close()
    title = take_title(outliner.blocks)
    if title is None:
        title = " ".join("".join(outliner.page_title).split()) or None
    return Outline(title, outliner.blocks)
