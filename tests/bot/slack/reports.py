"""Reports for the Slack rendering tests (hostile ones included) and the checks every rendered
message must pass: Slack's limits, slack_sdk's models, and no markup rcabot did not make."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.investigation.report import Candidate, FaultType, Report, SourceStatus
from bot.slack import kit, mrkdwn
from bot.slack.blocks import ACTION_CONFIRM
from bot.slack.kit import SlackMessage
from tests.bundles import T0
from tools.evidence import Evidence, Source, TimeWindow

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
HOSTILE = (
    "<!channel>",
    "<!here>",
    "<!subteam^S1|oncall>",
    "<@U123>",
    "<#C123|general>",
    "<https://evil.example|bank.example>",
    "<https://evil.example>",
    "@here",
    "&amp;",
    "& < >",
    "`",
    "```",
    "*bold*",
    "[E1]",
    "|",
    "\u202e",
    "\n",
)

_LINK = re.compile(r"<([^<>]*)>")


def hostile_text(max_size: int) -> st.SearchStrategy[str]:
    """Text of at most ``max_size`` characters mixing Slack markup, escapes and plain text."""
    pieces = st.sampled_from(HOSTILE) | st.text(max_size=40)
    return st.lists(pieces, max_size=max(1, max_size // 8)).map(lambda p: "".join(p)[:max_size])


def evidence(
    index: int,
    *,
    source: Source = Source.METRICS,
    title: str = "",
    summary: str = "summary",
    query: str = "",
    link: str | None = None,
    service: str | None = "checkout",
    excerpt: str = "",
) -> Evidence:
    return Evidence(
        id=f"E{index}",
        key=f"k{index}",
        source=source,
        title=title or f"finding {index}",
        summary=summary,
        query=query or f'rate(errors{{svc="checkout",n="{index}"}}[5m]) > 0 & x < 1',
        link=link if link is not None else f"https://grafana.example.com/d/{index}?a=1&b=2",
        window=WINDOW,
        service=service,
        excerpt=excerpt,
    )


def candidate(
    rank: int, ids: Sequence[str], *, fault: FaultType = FaultType.ERRORS, **fields: Any
) -> Candidate:
    values: dict[str, Any] = {
        "service": f"svc-{rank}",
        "hypothesis": f"svc-{rank} broke " + " ".join(f"[{i}]" for i in ids) + ".",
        "score": 1.0 / rank,
        "propagated": False,
    } | fields
    return Candidate(rank=rank, fault_type=fault, evidence_ids=list(ids), **values)


def report(
    items: Sequence[Evidence],
    candidates: Sequence[Candidate] = (),
    *,
    answer: str | None = None,
    sources: Sequence[SourceStatus] = (),
    **fields: Any,
) -> Report:
    if answer is None:
        answer = "\n".join(f"*Finding:* {e.title} [{e.id}]." for e in items[:3])
    return Report(
        question=fields.pop("question", "Why is checkout failing?"),
        scope="alert",
        window=WINDOW,
        incident_start=T0.isoformat(),
        candidates=list(candidates),
        evidence=list(items),
        answer=answer,
        answer_by=fields.pop("answer_by", "deterministic"),
        sources=list(sources),
        **fields,
    )


def big_report(items: int = 200, candidates: int = 10, answer_lines: int = 400) -> Report:
    """Many evidence items, candidates and a huge answer, with hostile text everywhere."""
    evidence_items = [
        evidence(
            i,
            source=list(Source)[i % len(Source)],
            title=f"{HOSTILE[i % len(HOSTILE)].strip()} title {i}",
            summary=(" ".join(HOSTILE) * 20)[:1000],
            query=("a & b < c > d `x` " * 200)[:2000],
            excerpt=("<@U1> & " * 100)[:600],
        )
        for i in range(1, items + 1)
    ]
    ranked = [
        candidate(r, [f"E{r}", f"E{r + 1}"], fault=list(FaultType)[r % len(FaultType)])
        for r in range(1, candidates + 1)
    ]
    answer = "\n".join(
        f"*Line {n}:* <!channel> & more <https://evil.example|bank> [E{n % items + 1}]."
        for n in range(answer_lines)
    )
    failed = [SourceStatus(source="logs", backend="elasticsearch", ok=False, detail="<!here> 503")]
    return report(evidence_items, ranked, answer=answer, sources=failed)


def mrkdwn_texts(message: SlackMessage) -> Iterator[str]:
    """Every text Slack parses as mrkdwn: the fallback, sections and context elements."""
    yield message.text
    for block in message.blocks:
        text = block.get("text")
        if isinstance(text, dict) and text.get("type") == "mrkdwn":
            yield text["text"]
        if block["type"] == "context":
            yield from (e["text"] for e in block["elements"] if e["type"] == "mrkdwn")


def plain_texts(message: SlackMessage) -> Iterator[str]:
    """Every plain_text field: headers and button labels."""
    for block in message.blocks:
        if block["type"] == "header":
            yield block["text"]["text"]
        elements = list(block.get("elements", []))
        if "accessory" in block:
            elements.append(block["accessory"])
        yield from (e["text"]["text"] for e in elements if e.get("type") == "button")


def assert_within_limits(message: SlackMessage) -> None:
    assert 0 < len(message.blocks) <= kit.MAX_BLOCKS
    assert 0 < len(message.text) <= kit.FALLBACK_CHARS
    for block in message.blocks:
        parsed = Block.parse(block)  # slack_sdk's model validates every limit it knows
        assert parsed is not None
        assert parsed.to_dict() == block
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= kit.SECTION_CHARS
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= kit.HEADER_CHARS
        if block["type"] == "context":
            assert len(block["elements"]) <= kit.CONTEXT_ELEMENTS
            assert all(len(e["text"]) <= kit.CONTEXT_CHARS for e in block["elements"])
        elements = list(block.get("elements", []))
        if "accessory" in block:
            elements.append(block["accessory"])
        for element in elements:
            if element["type"] == "button":
                assert len(element["text"]["text"]) <= kit.BUTTON_TEXT_CHARS
                assert len(element["value"]) <= kit.VALUE_CHARS
                assert len(element["action_id"]) <= kit.ACTION_ID_CHARS


def assert_inert(message: SlackMessage, items: Sequence[Evidence]) -> None:
    """No ping, and every ``<…>`` is a link rcabot made: to an evidence item's URL, labelled
    with that item's citation or followed by the host it opens."""
    targets = {mrkdwn.slack_url(e.link): e for e in items if mrkdwn.slack_url(e.link)}
    for text in plain_texts(message):
        assert not any(opening in text for opening in ("<!", "<@", "<#"))
    for text in mrkdwn_texts(message):
        assert not any(opening in text for opening in ("<!", "<@", "<#"))
        for match in _LINK.finditer(text):
            url, bar, label = match.group(1).partition("|")
            assert bar, f"a bare <{url}> would be parsed by Slack"
            assert url in targets, f"link to {url!r}, which no evidence has"
            host = mrkdwn.url_host(targets[url].link or "")
            if not text[match.end() :].startswith(f" ({host})"):
                # no host after it: only a citation rcabot made, opening that item's own link
                assert re.fullmatch(r"\[E\d+\]", label), f"{label!r} hides where it goes"
                assert any(e.id == label[1:-1] and e.link == targets[url].link for e in items)
        assert "<" not in _LINK.sub("", text) and ">" not in _LINK.sub("", text)


def feedback_of(message: SlackMessage) -> dict[str, Any]:
    last = message.blocks[-1]
    assert last["type"] == "context_actions"
    (element,) = last["elements"]
    assert element["type"] == "feedback_buttons"
    return dict(element)


def confirm_values(message: SlackMessage) -> list[dict[str, Any]]:
    return [
        json.loads(b["accessory"]["value"])
        for b in message.blocks
        if b.get("accessory", {}).get("action_id") == ACTION_CONFIRM
    ]
