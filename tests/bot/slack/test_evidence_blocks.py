from __future__ import annotations

import html

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack import mrkdwn
from bot.slack.evidence_blocks import (
    MAX_PAGES,
    PAGE_BLOCKS,
    cited_evidence,
    digest,
    evidence_messages,
    item_blocks,
)
from bot.slack.kit import SlackMessage
from tests.bot.slack.reports import (
    assert_inert,
    assert_within_limits,
    big_report,
    candidate,
    evidence,
    hostile_text,
    report,
)
from tools.evidence import Evidence, Source


def _queries_shown(messages: list[SlackMessage], evidence_id: str) -> str:
    """The query of ``evidence_id`` as the pages show it, unescaped and rejoined."""
    texts = [b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section"]
    start = next(i for i, t in enumerate(texts) if t.startswith(f"*[{evidence_id}]*"))
    bodies = []
    for text in texts[start + 1 :]:
        if text.startswith(("Query:\n", "Query (continued):\n")):
            body = text.partition("\n")[2]
            bodies.append(body.removeprefix("```\n").removesuffix("\n```"))
        elif bodies or text.startswith(("*[E", "Excerpt:")):
            break  # past the query, or the item had none
    return html.unescape("".join(bodies))


def test_cited_evidence_follows_the_order_of_citation() -> None:
    items = [evidence(i) for i in range(1, 6)]
    cited = report(items, [candidate(1, ["E4", "E2"])], answer="a [E3]. b [E2].")
    assert [e.id for e in cited_evidence(cited)] == ["E3", "E2", "E4"]


def test_without_citations_all_evidence_is_shown() -> None:
    items = [evidence(i) for i in range(1, 4)]
    assert cited_evidence(report(items, answer="")) == items


def test_an_item_shows_its_exact_query_link_and_window() -> None:
    query = 'sum(rate(http{code=~"5..",svc=`a&b`}[5m])) > 0.5 and x < 3'
    item = evidence(1, query=query, link="https://grafana.example.com/d/1?a=1&b=2")
    messages = evidence_messages(report([item]))
    assert _queries_shown(messages, "E1") == query
    head = messages[0].blocks[1]["text"]["text"]
    assert "<https://grafana.example.com/d/1?a=1&amp;b=2|Open the data> (grafana.example.com)" in (
        head
    )
    assert "2026-03-02 09:00–10:00 UTC" in head


def test_a_bundle_file_link_is_shown_as_text() -> None:
    item = evidence(1, link="file:///bundle/logs.jsonl", source=Source.LOGS, excerpt="a\nb")
    blocks = item_blocks(item)
    assert "Data: file:///bundle/logs.jsonl" in blocks[0]["text"]["text"]
    assert blocks[-1]["text"]["text"] == "Excerpt:\n```\na\nb\n```"


def test_long_escaped_queries_span_sections_without_losing_a_character() -> None:
    query = ("a&b<c>`d` " * 200)[:2_000]  # escapes to far more than one section
    messages = evidence_messages(report([evidence(1, query=query)]))
    assert _queries_shown(messages, "E1") == query
    for message in messages:
        assert_within_limits(message)


def _headings(messages: list[SlackMessage]) -> list[str]:
    return [
        b["text"]["text"].partition("*")[2].partition("*")[0]
        for m in messages
        for b in m.blocks
        if b["type"] == "section" and b["text"]["text"].startswith("*[E")
    ]


def test_many_items_are_paginated_within_the_limits() -> None:
    items = [evidence(i, summary="s " * 300) for i in range(1, 81)]
    many = report(items, answer=" ".join(f"[E{i}]" for i in range(80, 0, -1)))
    messages = evidence_messages(many)
    assert 1 < len(messages) <= MAX_PAGES
    for message in messages:
        assert_within_limits(message)
        assert_inert(message, items)
    assert _headings(messages) == [f"[E{i}]" for i in range(80, 0, -1)]
    assert _queries_shown(messages, "E1") == items[0].query
    assert f"page 1 of {len(messages)}, 1–" in messages[0].blocks[0]["elements"][0]["text"]


def test_past_the_page_cap_the_items_left_out_are_named() -> None:
    big = big_report()
    messages = evidence_messages(big)
    assert len(messages) == MAX_PAGES
    cited = cited_evidence(big)
    for message in messages:
        assert_within_limits(message)
        assert_inert(message, big.evidence)
        assert len(message.blocks) <= PAGE_BLOCKS + 2
    shown = _headings(messages)
    assert shown == [f"[{e.id}]" for e in cited[: len(shown)]]
    last = cited[len(shown) - 1]
    assert _queries_shown(messages, last.id) == mrkdwn.code_fence_safe(last.query)
    note = messages[-1].blocks[-1]["elements"][0]["text"]
    assert note.startswith(f"{len(cited) - len(shown)} more cited item(s) are not posted")
    assert f"{cited[len(shown)].id}, " in note and note.endswith("The JSON report has them all.")


def test_no_evidence_gets_one_short_message() -> None:
    (message,) = evidence_messages(report([], answer=""))
    assert "No evidence" in message.text
    assert_within_limits(message)


def test_digest_lists_the_first_cited_items_with_their_links() -> None:
    items = [evidence(i, title=f"finding <@U{i}>") for i in range(1, 9)]
    block, more = digest(report(items, answer=" ".join(f"[E{i}]" for i in range(1, 9))))
    assert block is not None and more
    text = block["text"]["text"]
    assert text.startswith("*Evidence* (5 of 8)")
    assert f"<{mrkdwn.slack_url(items[0].link)}|[E1]> finding ‹@U1›" in text
    assert "[E6]" not in text


@st.composite
def _items(draw: st.DrawFn) -> list[Evidence]:
    return [
        evidence(
            i,
            title=draw(hostile_text(200)) or "t",
            summary=draw(hostile_text(1_000)),
            query=draw(hostile_text(2_000)) or "q",
            excerpt=draw(hostile_text(600)),
            service=draw(hostile_text(200)) or None,
            link=draw(st.sampled_from(["https://g.example/x?a=1&b=<2>", "file:///b", ""])),
        )
        for i in range(1, draw(st.integers(1, 40)) + 1)
    ]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_items(), hostile_text(500))
def test_hostile_evidence_pages_keep_limits_and_exact_queries(
    items: list[Evidence], question: str
) -> None:
    hostile = report(items, answer="", question=question or "q")
    messages = evidence_messages(hostile)
    for message in messages:
        assert_within_limits(message)
        assert_inert(message, items)
    for item in items:
        expected = mrkdwn.code_fence_safe(mrkdwn.plain(item.query, multiline=True))
        assert _queries_shown(messages, item.id) == expected
