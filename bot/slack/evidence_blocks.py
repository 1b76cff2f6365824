"""The evidence behind an answer, for Slack: a compact digest and the full pages.

rcabot's promise is that every claim can be checked in one click, so the report message lists
the first few cited items with their deep links, and the "Show evidence" button posts every
cited item in full: what it shows, the exact query that fetched it (in a code block, so it can
be copied) and where to see the same data. The pages are split to hold Slack's limits whatever
the evidence holds; an item never loses its query to a cut, it only spans more sections.
"""

from __future__ import annotations

from bot.investigation.report import CITATION, Report
from bot.slack import kit, mrkdwn
from tools.evidence import Evidence, TimeWindow

DIGEST_ITEMS = 5
PAGE_BLOCKS = 40
"""Blocks per evidence page (under Slack's 50, with room for the page's heading)."""
PAGE_CHARS = 12_000
"""Characters per evidence page: a page stays readable and far from any payload limit."""
MAX_PAGES = 10
"""Evidence pages posted at most: a thread of evidence, not a flood."""


def cited_evidence(report: Report) -> list[Evidence]:
    """The evidence the answer and the candidates cite, in the order first cited; every item
    when nothing is cited (what was looked at is still worth showing)."""
    by_id = report.evidence_by_id()
    order: list[str] = CITATION.findall(report.answer)
    for candidate in report.candidates:
        order += candidate.evidence_ids
        order += CITATION.findall(candidate.hypothesis)
    cited = [by_id[i] for i in dict.fromkeys(order) if i in by_id]
    return cited or list(report.evidence)


def window_text(window: TimeWindow) -> str:
    start, end = window.start, window.end
    tail = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{tail} UTC"


def digest_line(evidence: Evidence) -> str:
    """One compact line: the citation (linked when it can be), the title, the link's host."""
    cite = mrkdwn.cite(evidence)
    linked = evidence.link and mrkdwn.slack_url(evidence.link)
    host = mrkdwn.url_host(evidence.link) if linked and evidence.link else ""
    title = mrkdwn.clip(mrkdwn.inert(evidence.title, multiline=False), 300)
    return f"• {cite} {title}" + (f" · _{host}_" if host else "")


def digest(report: Report, most: int = DIGEST_ITEMS) -> tuple[kit.Block | None, bool]:
    """A section listing the first ``most`` cited items, and whether there is more to see
    (always, when there is evidence: the queries are only on the evidence pages)."""
    items = cited_evidence(report)
    if not items:
        return None, False
    shown = items[:most]
    heading = f"*Evidence* ({len(shown)} of {len(items)})" if len(items) > most else "*Evidence*"
    return kit.section("\n".join([heading, *(digest_line(e) for e in shown)])), True


def _link_line(evidence: Evidence) -> str:
    if evidence.link is None:
        return ""
    if mrkdwn.slack_url(evidence.link) is None:  # a bundle file, or a link Slack cannot open
        return f"Data: {mrkdwn.inert(evidence.link, multiline=False)}"
    return mrkdwn.link(evidence.link, "Open the data")


def item_blocks(evidence: Evidence) -> list[kit.Block]:
    """One evidence item in full: heading, summary and link; then its query; then its
    excerpt. Each part spans as many sections as it needs."""
    facts = [f"*[{evidence.id}]* `{evidence.source.value}`"]
    if evidence.service:
        facts.append(mrkdwn.inert(evidence.service, multiline=False))
    if evidence.window is not None:
        facts.append(window_text(evidence.window))
    lines = [
        " · ".join(facts),
        f"*{mrkdwn.inert(evidence.title, multiline=False)}*",
        mrkdwn.inert(evidence.summary),
        _link_line(evidence),
    ]
    blocks = [kit.section(piece) for piece in mrkdwn.split("\n".join(lines), kit.SECTION_CHARS)]
    if evidence.query:
        blocks += [
            kit.section(("Query:\n" if i == 0 else "Query (continued):\n") + block)
            for i, block in enumerate(mrkdwn.code_blocks(evidence.query, kit.SECTION_CHARS - 20))
        ]
    if evidence.excerpt:
        excerpt = mrkdwn.code_blocks(evidence.excerpt, kit.SECTION_CHARS - 20)
        blocks += [kit.section("Excerpt:\n" + block) for block in excerpt]
    return blocks


def _chars(blocks: list[kit.Block]) -> int:
    return sum(len(b["text"]["text"]) for b in blocks if "text" in b)


def _pages(items: list[list[kit.Block]]) -> list[list[list[kit.Block]]]:
    pages: list[list[list[kit.Block]]] = [[]]
    for blocks in items:
        page = pages[-1]
        used = [b for item in page for b in item]
        too_many = len(used) + len(blocks) > PAGE_BLOCKS
        too_long = _chars(used) + _chars(blocks) > PAGE_CHARS
        if page and (too_many or too_long):
            pages.append([])
        pages[-1].append(blocks)
    return pages


def evidence_messages(report: Report) -> list[kit.SlackMessage]:
    """Every cited evidence item in full, as messages that each hold Slack's limits (a thread
    reply per page); past :data:`MAX_PAGES`, the last page names the items left out."""
    items = cited_evidence(report)
    if not items:
        note = "No evidence was gathered for this investigation."
        return [kit.SlackMessage(text=note, blocks=[kit.section(note)])]
    asked = mrkdwn.clip(mrkdwn.inert(report.question, multiline=False), 200)
    pages = _pages([item_blocks(e) for e in items])
    shown_pages = pages[:MAX_PAGES]
    messages: list[kit.SlackMessage] = []
    first = 0
    for number, page in enumerate(shown_pages, start=1):
        ids = [e.id for e in items[first : first + len(page)]]
        span = f"{first + 1}–{first + len(page)}" if len(page) > 1 else f"{first + 1}"
        first += len(page)
        where = f"page {number} of {len(shown_pages)}, " if len(shown_pages) > 1 else ""
        heading = kit.context(
            f"Evidence for _{asked}_ ({where}{span} of {len(items)}): {', '.join(ids)}"
        )
        blocks = [heading, *(b for item in page for b in item)]
        text = kit.fallback(f"Evidence {', '.join(ids)} for: {report.question}")
        messages.append(kit.SlackMessage(text=text, blocks=blocks))
    left = [e.id for e in items[first:]]
    if left:
        note = (
            f"{len(left)} more cited item(s) are not posted (at most {MAX_PAGES} evidence pages "
            f"per thread): {', '.join(left)}. The JSON report has them all."
        )
        last = messages[-1]
        messages[-1] = kit.SlackMessage(text=last.text, blocks=[*last.blocks, kit.context(note)])
    return messages
