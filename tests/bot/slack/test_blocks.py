from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.investigation.report import FaultType, Report, SourceStatus
from bot.slack import blocks, kit, mrkdwn
from bot.slack.blocks import (
    ACTION_FEEDBACK,
    ACTION_SHOW_EVIDENCE,
    alert_summary_message,
    report_message,
)
from tests.bot.slack.reports import (
    HOSTILE,
    assert_inert,
    assert_within_limits,
    big_report,
    candidate,
    confirm_values,
    evidence,
    feedback_of,
    hostile_text,
    mrkdwn_texts,
    report,
)
from tools.evidence import Source

TITLE = "RCA: HighErrorRate on checkout"


def _small() -> Report:
    items = [
        evidence(1, source=Source.CHANGE, title="Deploy v42 of checkout"),
        evidence(2, source=Source.LOGS, title="NullPointerException ×120", link="file:///b/l"),
        evidence(3, source=Source.POSTMORTEM, title="2025 checkout outage"),
    ]
    ranked = [
        candidate(1, ["E1", "E2"], fault=FaultType.BAD_DEPLOY, service="checkout"),
        candidate(2, ["E2"], fault=FaultType.LATENCY, service="frontend", propagated=True),
    ]
    answer = "*Most likely cause:* checkout [E1] [E2].\n*Seen before:* outage [E3]."
    return report(items, ranked, answer=answer)


def test_a_report_becomes_a_valid_message_ending_in_feedback() -> None:
    small = _small()
    message = report_message(small, "r-1", title=TITLE)
    assert_within_limits(message)
    assert_inert(message, small.evidence)
    assert message.blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": TITLE}}
    feedback = feedback_of(message)
    assert feedback["action_id"] == ACTION_FEEDBACK
    assert feedback["positive_button"]["value"] == "positive:r-1"
    assert feedback["negative_button"]["value"] == "negative:r-1"


def test_citations_in_the_answer_open_their_evidence() -> None:
    small = _small()
    answer = report_message(small, "r-1", title=TITLE).blocks[1]["text"]["text"]
    assert f"<{mrkdwn.slack_url(small.evidence[0].link)}|[E1]>" in answer
    assert "[E2]" in answer and "|[E2]>" not in answer  # a bundle file: not linkable
    assert f"<{mrkdwn.slack_url(small.evidence[2].link)}|[E3]>" in answer


def test_each_candidate_can_be_confirmed_and_a_symptom_is_marked() -> None:
    message = report_message(_small(), "r-1", title=TITLE)
    assert confirm_values(message) == [{"r": "r-1", "c": 1}, {"r": "r-1", "c": 2}]
    texts = [b["text"]["text"] for b in message.blocks if "accessory" in b]
    assert "likely a symptom" in texts[1] and "likely a symptom" not in texts[0]


def test_context_names_the_writer_and_the_sources_that_failed() -> None:
    failed = SourceStatus(source="logs", backend="elasticsearch", ok=False, detail="unreachable")
    base = _small()
    llm = base.model_copy(update={"answer_by": "llm", "model": "qwen <!here>", "sources": [failed]})
    message = report_message(llm, "r-1", title=TITLE)
    (meta,) = [b for b in message.blocks if b["type"] == "context"]
    shown = " ".join(e["text"] for e in meta["elements"])
    assert "Written by the model qwen ‹!here›" in shown
    assert "logs: unreachable" in shown


def test_past_incidents_and_next_checks_are_shown() -> None:
    message = report_message(_small(), "r-1", title=TITLE)
    texts = "\n".join(mrkdwn_texts(message))
    assert "*Seen before*" in texts and "2025 checkout outage" in texts
    assert "*Next checks*" in texts and "Compare checkout's last change" in texts


def test_the_evidence_digest_has_a_show_evidence_button() -> None:
    message = report_message(_small(), "r-7", title=TITLE)
    (row,) = [b for b in message.blocks if b["type"] == "actions"]
    (show,) = row["elements"]
    assert (show["action_id"], show["value"]) == (ACTION_SHOW_EVIDENCE, "r-7")


def test_a_huge_hostile_report_still_fits_slack() -> None:
    big = big_report()
    message = report_message(big, "r-" + "9" * 100, title="<!channel> " + "t" * 500)
    assert_within_limits(message)
    assert_inert(message, big.evidence)
    assert len(confirm_values(message)) == blocks.CANDIDATES_SHOWN
    assert feedback_of(message)["action_id"] == ACTION_FEEDBACK
    assert any("Lower-ranked candidates" in t for t in mrkdwn_texts(message))


def test_when_blocks_run_short_the_least_important_go_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    full = report_message(_small(), "r-1", title=TITLE)
    monkeypatch.setattr(kit, "MAX_BLOCKS", 6)
    short = report_message(_small(), "r-1", title=TITLE)
    assert len(short.blocks) == 6 < len(full.blocks)
    kinds = [b["type"] for b in short.blocks]
    assert kinds[:3] == ["header", "section", "context"]  # title, answer, who wrote it
    assert kinds[-1] == "context_actions"
    assert short.blocks[3] == full.blocks[3]  # the top candidate stays
    assert not any("*Seen before*" in t for t in mrkdwn_texts(short))


def test_report_ids_that_do_not_fit_a_button_are_refused() -> None:
    with pytest.raises(ValueError, match="report_id"):
        report_message(_small(), "", title=TITLE)
    with pytest.raises(ValueError, match="report_id"):
        report_message(_small(), "r" * (blocks.REPORT_ID_CHARS + 1), title=TITLE)


def test_an_empty_answer_says_so() -> None:
    empty = report([evidence(1)], answer="")
    message = report_message(empty, "r-1", title=TITLE)
    assert blocks.NO_ANSWER in message.blocks[1]["text"]["text"]
    assert_within_limits(message)


@st.composite
def _hostile_reports(draw: st.DrawFn) -> Report:
    count = draw(st.integers(1, 60))
    items = [
        evidence(
            i,
            source=draw(st.sampled_from(list(Source))),
            title=draw(hostile_text(200)) or "t",
            summary=draw(hostile_text(1_000)),
            service=draw(hostile_text(200)) or None,
            link=draw(st.sampled_from(["https://g.example/a|b>c?x=1&y=2", "file:///b", ""])),
        )
        for i in range(1, count + 1)
    ]
    ranked = [
        candidate(
            r,
            [f"E{draw(st.integers(1, count))}"],
            fault=draw(st.sampled_from(list(FaultType))),
            service=draw(hostile_text(100)) or "s",
            hypothesis=draw(hostile_text(3_000)) + f" [E{draw(st.integers(1, count))}]",
            propagated=draw(st.booleans()),
        )
        for r in range(1, draw(st.integers(0, 10)) + 1)
    ]
    cites = " ".join(f"[E{draw(st.integers(1, count))}]" for _ in range(draw(st.integers(0, 30))))
    answer = cites + "\n" + draw(hostile_text(20_000))
    failed = [
        SourceStatus(source=draw(st.sampled_from(HOSTILE)), backend="b", ok=False, detail=d)
        for d in draw(st.lists(hostile_text(400), max_size=3))
    ]
    return report(
        items,
        ranked,
        answer=answer,
        sources=failed,
        answer_note=draw(hostile_text(300)),
        model=draw(hostile_text(100)) or None,
        answer_by=draw(st.sampled_from(["llm", "deterministic", "<!here>"])),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_reports(), hostile_text(400))
def test_hostile_reports_keep_limits_and_make_no_markup(hostile: Report, title: str) -> None:
    message = report_message(hostile, "r-1", title=title)
    assert_within_limits(message)
    assert_inert(message, hostile.evidence)
    assert feedback_of(message)["positive_button"]["value"] == "positive:r-1"
    shown = [c.rank for c in hostile.candidates[: blocks.CANDIDATES_SHOWN]]
    assert [v["c"] for v in confirm_values(message)] == shown


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_reports(), hostile_text(300), hostile_text(300), hostile_text(3_000))
def test_alert_summaries_keep_limits_and_make_no_markup(
    hostile: Report, name: str, service: str, summary: str
) -> None:
    message = alert_summary_message(name, "firing", service, summary, None, hostile, "r-1")
    assert_within_limits(message)
    assert_inert(message, hostile.evidence)


@pytest.mark.parametrize(("status", "mark"), [("firing", "🔥 FIRING"), ("RESOLVED", "✅ RESOLVED")])
def test_alert_summary_leads_with_the_status(status: str, mark: str) -> None:
    message = alert_summary_message("HighErrorRate", status, "checkout", "5xx > 5%", None)
    assert message.text.startswith(f"{mark} HighErrorRate (checkout)")
    assert message.blocks[0]["text"]["text"].startswith(f"{mark} · *HighErrorRate* · checkout")
    assert "5xx &gt; 5%" in message.blocks[0]["text"]["text"]
    assert len(message.blocks) == 1  # no report yet


def test_alert_summary_shows_the_answer_and_a_button_once_there_is_a_report() -> None:
    small = _small()
    started = small.window.start
    message = alert_summary_message("HighErrorRate", "firing", None, "s", started, small, "r-3")
    assert f"Started {started:%Y-%m-%d %H:%M} UTC" in message.blocks[0]["text"]["text"]
    answer = message.blocks[1]["text"]["text"]
    assert re.search(r"<https://[^|]+\|\[E1\]>", answer)
    (row,) = [b for b in message.blocks if b["type"] == "actions"]
    assert row["elements"][0]["value"] == "r-3"
    assert_within_limits(message)


def test_an_answer_already_streamed_is_not_repeated_but_its_evidence_still_links() -> None:
    small = _small()
    full = report_message(small, "r1", title=TITLE)
    shown = report_message(small, "r1", title=TITLE, answer_shown=True)
    assert_within_limits(shown)
    assert "*Most likely cause:*" in str(full.blocks)
    assert "*Most likely cause:*" not in str(shown.blocks)
    assert shown.blocks[-1] == full.blocks[-1]  # the feedback buttons stay last
    assert "Deploy v42 of checkout" in str(shown.blocks)  # the cited evidence is still listed
