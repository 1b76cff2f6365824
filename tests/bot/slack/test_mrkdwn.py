from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack import mrkdwn
from tests.bot.slack.reports import evidence, hostile_text

_LINK = re.compile(r"<[^<>]*>")


def _whole_entities(text: str) -> bool:
    """Every ``&`` starts a whole entity."""
    return all(
        text.startswith(("&amp;", "&lt;", "&gt;"), i) for i, c in enumerate(text) if c == "&"
    )


@pytest.mark.parametrize(
    "text",
    ["<!channel>", "<!here|here>", "<@U123>", "<#C1|general>", "<https://evil|bank>", "a & b"],
)
def test_escape_leaves_no_markup_and_shows_the_text_unchanged(text: str) -> None:
    escaped = mrkdwn.escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert html.unescape(escaped) == text


@given(hostile_text(400))
def test_inert_text_has_no_live_markup(text: str) -> None:
    shown = mrkdwn.inert(text)
    assert "<" not in shown and ">" not in shown
    assert _whole_entities(shown)
    assert "@here" not in shown.lower() and "@channel" not in shown.lower()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://grafana.example.com/d/1?a=1&b=2", "https://grafana.example.com/d/1?a=1&amp;b=2"),
        ("http://x.example/a|b>c<d", "http://x.example/a%7Cb%3Ec%3Cd"),
        ("HTTPS://x.example/q`", "HTTPS://x.example/q%60"),
        ("javascript:alert(1)", None),
        ("file:///tmp/bundle/logs.jsonl", None),
        ("https://", None),
        ("https://x.example/a b", None),
        ("https://exаmple.com/", None),  # Cyrillic "а": a look-alike host
        ("https://x.example/" + "a" * 2_000, None),
        (None, None),
    ],
)
def test_slack_url_links_only_plain_http_urls(url: str | None, expected: str | None) -> None:
    assert mrkdwn.slack_url(url) == expected


def test_link_shows_the_host_after_a_free_label() -> None:
    shown = mrkdwn.link("https://bank.example@evil.example/x", "<@U1> bank.example|login")
    assert shown.endswith(" (evil.example)")
    url, _, label = shown[1 : shown.index(">")].partition("|")
    assert url == "https://bank.example@evil.example/x"
    assert "<" not in label and "|" not in label


def test_a_citation_rcabot_makes_needs_no_host_a_label_that_reads_like_one_does() -> None:
    assert mrkdwn.cite(evidence(3, link="https://g.example/d")) == "<https://g.example/d|[E3]>"
    assert mrkdwn.cite(evidence(3, link="file:///b/logs.jsonl")) == "[E3]"
    # a postmortem titled "[E1]" must not pass for evidence E1's link
    spoof = mrkdwn.link("https://evil.example/x", "[E1]")
    assert spoof == "<https://evil.example/x|[E1]> (evil.example)"


def test_link_without_a_usable_url_is_the_label_alone() -> None:
    assert mrkdwn.link("file:///b/logs.jsonl", "logs & more") == "logs &amp; more"


def test_cite_links_opens_each_citation_at_its_own_evidence() -> None:
    items = {
        "E1": evidence(1, link="https://a.example/1"),
        "E2": evidence(2, link="file:///b/x"),
        "E3": evidence(3, link="https://a.example/3"),
    }
    shown = mrkdwn.cite_links("x [E1], y [E2] <!here> [E3] and [E9].", items)
    assert shown == (
        "x <https://a.example/1|[E1]>, y [E2] ‹!here› <https://a.example/3|[E3]> and [E9]."
    )


@given(hostile_text(600), st.lists(st.integers(1, 5), max_size=8))
def test_cite_links_makes_no_link_but_citations(text: str, cited: list[int]) -> None:
    items = {f"E{i}": evidence(i) for i in range(1, 6)}
    shown = mrkdwn.cite_links(" ".join(f"[E{i}]" for i in cited) + " " + text, items)
    for match in re.finditer(r"<([^<>]*)>", shown):
        url, _, label = match.group(1).partition("|")
        assert url == mrkdwn.slack_url(items[label[1:-1]].link)
    assert len(re.findall(r"<[^<>]*>", shown)) >= len(cited)


@given(hostile_text(800), st.integers(mrkdwn.MIN_LIMIT, 300))
def test_clip_never_cuts_an_entity_or_a_link(text: str, limit: int) -> None:
    items = {f"E{i}": evidence(i) for i in range(1, 3)}
    shown = mrkdwn.cite_links(text + " [E1] [E2]", items)
    clipped = mrkdwn.clip(shown, limit)
    assert len(clipped) <= limit
    body = clipped.removesuffix(mrkdwn.ELLIPSIS)
    assert _whole_entities(body)
    assert not re.search(r"[<>]", _LINK.sub("", body))
    assert shown.startswith(body)


def test_clip_rejects_a_limit_too_small_for_an_entity() -> None:
    with pytest.raises(ValueError, match="at least"):
        mrkdwn.clip("&amp;" * 10, 3)


@settings(deadline=None)
@given(hostile_text(4_000), st.integers(80, 500))
def test_split_keeps_every_character_in_pieces_within_the_limit(text: str, limit: int) -> None:
    items = {f"E{i}": evidence(i) for i in range(1, 3)}
    shown = mrkdwn.cite_links(text + " [E1]", items)
    pieces = mrkdwn.split(shown, limit)
    assert all(0 < len(p) <= limit and _whole_entities(p) for p in pieces)
    assert not any(re.search(r"[<>]", _LINK.sub("", p)) for p in pieces)
    assert re.sub(r"\s", "", "".join(pieces)) == re.sub(r"\s", "", shown)


def test_split_keeps_lines_whole_where_they_fit() -> None:
    lines = [f"line {n} " + "x" * 40 for n in range(10)]
    pieces = mrkdwn.split("\n".join(lines), 100)
    assert [line for p in pieces for line in p.split("\n")] == lines


def test_split_keeps_the_label_of_a_link_longer_than_the_limit() -> None:
    long_link = mrkdwn.cite(evidence(1, link="https://x.example/" + "a" * 500))
    assert mrkdwn.split(long_link + " after", 100) == ["[E1] after"]


def test_inline_code_holds_only_what_it_can_show_exactly() -> None:
    assert mrkdwn.inline_code('up{job="a&b"} < 1') == '`up{job="a&amp;b"} &lt; 1`'
    assert mrkdwn.inline_code("up{job=`a`}") is None
    assert mrkdwn.inline_code("a\nb") is None
    assert mrkdwn.inline_code("x" * 301) is None


@settings(deadline=None)
@given(st.text(max_size=2_000) | hostile_text(2_000), st.integers(40, 3_000))
def test_code_blocks_hold_the_whole_text_within_the_limit(text: str, limit: int) -> None:
    blocks = mrkdwn.code_blocks(text, limit)
    assert all(len(b) <= limit and b.startswith("```\n") and b.endswith("\n```") for b in blocks)
    bodies = [b.removeprefix("```\n").removesuffix("\n```") for b in blocks]
    assert all("``" not in body and "<" not in body for body in bodies)
    assert html.unescape("".join(bodies)) == mrkdwn.code_fence_safe(
        mrkdwn.plain(text, multiline=True)
    )


def test_code_blocks_keep_a_query_exactly() -> None:
    query = 'sum(rate(http{code=~"5..",svc=`a&b`}[5m])) > 0.5 and x < 3'
    (block,) = mrkdwn.code_blocks(query, 3_000)
    assert html.unescape(block) == f"```\n{query}\n```"
