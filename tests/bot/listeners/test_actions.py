"""The buttons on a report, end to end: feedback, "Show evidence" and "Confirm root cause" (and
its twin, a reply naming the cause), clicked as Slack delivers clicks (signed, form-encoded
``block_actions``) into ``rcabot serve``; what the thread shows and what the store and the
postmortem index hold afterwards."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.slack.blocks import ACTION_CONFIRM, ACTION_FEEDBACK, ACTION_SHOW_EVIDENCE, confirm_value
from bot.slack.evidence_blocks import cited_evidence
from bot.slack.investigator import Investigator
from bot.slack.kit import SlackMessage
from bot.store.base import ReportRecord
from retrieval.index import PostmortemIndex
from tests.bot.slack.reports import assert_within_limits
from tests.bot.slackbot import BotUnderTest, bot_under_test
from tests.servers.slack_messages import BOT_USER_ID, VisibleMessage
from tests.servers.slack_requests import (
    CHANNEL_ID,
    USER_ID,
    app_mention,
    block_actions,
    event_callback,
    feedback_action,
    message,
)
from tools.evidence import Source

OTHER_USER = "U0BOB"
CONFIRMED = "Root cause confirmed: api"


@dataclass
class Answered:
    """A question rcabot answered: the thread, the report message and the stored report."""

    thread_ts: str
    reply: VisibleMessage
    report_id: str
    record: ReportRecord


async def ask(bot: BotUnderTest, question: str = "why is api failing?") -> Answered:
    mention = app_mention(f"<@{BOT_USER_ID}> {question}")
    # the person's message exists in the channel (Slack's permalinks point at it)
    bot.slack.add_message(CHANNEL_ID, mention["text"], ts=mention["ts"])
    await bot.event(event_callback(mention))
    await bot.settle()
    state = await bot.bot.services.store.get_thread(CHANNEL_ID, mention["ts"])
    assert state is not None
    report_id = state.report_ids[-1]
    record = await bot.bot.services.store.get_report(report_id)
    assert record is not None
    [reply] = [m for m in bot.replies(mention["ts"]) if m.ts == record.message_ts]
    return Answered(mention["ts"], reply, report_id, record)


def new_alert(bundle: Path) -> dict[str, Any]:
    """The bundle's alert as Alertmanager's webhook sends it: the same incident, firing."""
    payload: dict[str, Any] = json.loads((bundle / "alerts.json").read_text())
    alert = payload["alerts"][0]
    alert["fingerprint"] = "c0ffee00c0ffee00"
    alert["labels"]["severity"] = "critical"
    return {
        **payload,
        "groupLabels": {"alertname": alert["labels"]["alertname"]},
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093",
        "groupKey": '{}:{alertname="WebHighErrorRate"}',
        "truncatedAlerts": 0,
    }


async def alerted(bot: BotUnderTest, bundle: Path) -> Answered:
    """The bundle's alert through Alertmanager's webhook: its summary is the message clicked."""
    await bot.webhook(new_alert(bundle))
    await bot.settle()
    [summary] = bot.top_level()
    state = await bot.bot.services.store.get_thread(CHANNEL_ID, summary.ts)
    assert state is not None
    record = await bot.bot.services.store.get_report(state.report_ids[-1])
    assert record is not None
    return Answered(summary.ts, summary, record.report_id, record)


async def click(
    bot: BotUnderTest, answered: Answered, action_id: str, value: str, *, user: str = USER_ID
) -> None:
    """``user`` clicks the button ``action_id`` (with ``value``) on the report message."""
    where: dict[str, Any] = {
        "user": user,
        "message_ts": answered.reply.ts,
        "thread_ts": answered.thread_ts,
        "message_blocks": answered.reply.blocks,
    }
    if action_id == ACTION_FEEDBACK:  # Slack's feedback_buttons element
        payload = feedback_action(value, action_id=action_id, **where)
    else:
        payload = block_actions(action_id, value, **where)
    answer = await bot.action(payload)
    assert answer.status_code == 200
    await bot.settle()


def buttons(message: VisibleMessage, action_id: str) -> list[str]:
    """The values of the buttons ``action_id`` on ``message`` (as Slack shows them)."""
    found: list[str] = []
    for block in message.blocks:
        for element in [block.get("accessory") or {}, *block.get("elements", [])]:
            if element.get("action_id") == action_id:
                found.append(element.get("value") or element["positive_button"]["value"])
    return found


def visible(bot: BotUnderTest, thread_ts: str) -> list[VisibleMessage]:
    """rcabot's replies in the thread that everyone sees."""
    return [m for m in bot.replies(thread_ts) if not m.ephemeral]


def unescaped(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# -- feedback -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["positive", "negative"])
async def test_a_feedback_click_is_stored_with_who_voted(
    tmp_path: Path, small_bundle: Path, kind: str
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answered = await ask(bot)
        assert buttons(answered.reply, ACTION_FEEDBACK) == [f"positive:{answered.report_id}"]
        before = bot.slack.calls()
        await click(bot, answered, ACTION_FEEDBACK, f"{kind}:{answered.report_id}")
        [vote] = await bot.bot.services.store.feedback(answered.report_id)
        assert (vote.user, vote.kind, vote.report_id) == (USER_ID, kind, answered.report_id)
        assert bot.slack.calls() == before  # nothing posted


@pytest.mark.parametrize(
    "value", ["positive:0123456789abcdef", "positive:", "meh:{rid}", "{rid}", ""]
)
async def test_feedback_on_an_unknown_report_or_with_an_odd_value_stores_nothing(
    tmp_path: Path, small_bundle: Path, value: str
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answered = await ask(bot)
        before = bot.slack.calls()
        await click(bot, answered, ACTION_FEEDBACK, value.format(rid=answered.report_id))
        assert await bot.bot.services.store.feedback(answered.report_id) == []
        assert await bot.bot.services.store.feedback("0123456789abcdef") == []
        assert bot.slack.calls() == before


# -- show evidence ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["report", "alert summary"])
async def test_show_evidence_posts_every_cited_item_with_its_query_to_the_clicker_only(
    tmp_path: Path, small_bundle: Path, where: str
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answered = await (ask(bot) if where == "report" else alerted(bot, small_bundle))
        assert buttons(answered.reply, ACTION_SHOW_EVIDENCE) == [answered.report_id]
        seen_by_all = visible(bot, answered.thread_ts)
        await click(bot, answered, ACTION_SHOW_EVIDENCE, answered.report_id, user=OTHER_USER)
        pages = [m for m in bot.replies(answered.thread_ts) if m.ephemeral]
        assert pages, "the evidence is shown"
        assert all(p.visible_to == OTHER_USER and p.thread_ts == answered.thread_ts for p in pages)
        for page in pages:
            assert_within_limits(SlackMessage(text=page.text, blocks=page.blocks))
            assert not any(ping in page.shown_text for ping in ("<!", "<@"))
        shown = unescaped("\n".join(p.shown_text for p in pages))
        evidence = cited_evidence(answered.record.report)
        assert any(e.query for e in evidence)
        uncited = [e for e in answered.record.report.evidence if e not in evidence]
        assert all(f"*[{e.id}]*" not in shown for e in uncited)  # only what the answer cites
        for item in evidence:
            assert f"*[{item.id}]*" in shown
            if item.query:
                assert f"```\n{item.query}\n```" in shown, f"{item.id}'s exact query"
        assert visible(bot, answered.thread_ts) == seen_by_all


async def test_show_evidence_for_an_unknown_report_shows_nothing(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answered = await ask(bot)
        before = bot.slack.calls()
        await click(bot, answered, ACTION_SHOW_EVIDENCE, "0123456789abcdef")
        assert bot.slack.calls() == before


# -- confirm root cause -------------------------------------------------------------------------


async def test_confirming_a_candidate_that_is_not_there_says_so_and_stores_nothing(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answered = await ask(bot)
        await click(bot, answered, ACTION_CONFIRM, confirm_value(answered.report_id, 9))
        assert await bot.bot.services.store.feedback(answered.report_id) == []
        [_, said] = visible(bot, answered.thread_ts)
        assert "no candidate #9" in said.shown_text
        unknown = confirm_value("0123456789abcdef", 1)
        await click(bot, answered, ACTION_CONFIRM, unknown)
        await click(bot, answered, ACTION_CONFIRM, "not json")
        assert len(visible(bot, answered.thread_ts)) == 2


@pytest.mark.slow
async def test_a_confirmed_cause_is_remembered_and_the_next_alert_shows_it_seen_before(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answered = await ask(bot)
        values = [json.loads(v) for v in buttons(answered.reply, ACTION_CONFIRM)]
        assert values[0] == {"r": answered.report_id, "c": 1}
        top = answered.record.report.candidates[0]
        assert top.service == "api"
        for _ in range(2):  # a double click is one confirmation
            await click(bot, answered, ACTION_CONFIRM, confirm_value(answered.report_id, 1))

        [confirmed] = await bot.bot.services.store.feedback(answered.report_id)
        assert (confirmed.kind, confirmed.user) == ("confirm", USER_ID)
        assert (confirmed.service, confirmed.fault) == ("api", top.fault_type.value)
        [_, said] = visible(bot, answered.thread_ts)
        assert said.shown_text.startswith(CONFIRMED) and "Seen before" in said.shown_text
        [permalink_call] = bot.slack.calls("chat.getPermalink")
        permalink = permalink_call.response["permalink"]
        index = _index(bot)
        assert index is not None and (await index.stats()).documents == 1
        [hit] = await index.search("api bad deploy connection pool timeout", k=3)
        assert hit.document.doc_id == f"slack/{CHANNEL_ID}/{answered.thread_ts}"
        assert hit.document.url == permalink

        alert = await alerted(bot, small_bundle)  # the same incident alerts again
        [past] = [e for e in alert.record.report.evidence if e.source is Source.POSTMORTEM]
        assert past.link == permalink
        [report] = visible(bot, alert.thread_ts)
        assert f"<{permalink}|[{past.id}]>" in report.shown_text, "the answer cites it"
        [seen] = [b["text"]["text"] for b in report.blocks if "*Seen before*" in str(b)]
        assert f"• [{past.id}] <{permalink}|past incident" in seen


@pytest.mark.slow
async def test_a_reply_naming_the_cause_records_it_instead_of_investigating_again(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answered = await ask(bot)
        investigations = bot.bot.services.work.stats.submitted
        await bot.event(event_callback(message("root cause: api", thread_ts=answered.thread_ts)))
        await bot.settle()
        [confirmed] = await bot.bot.services.store.feedback(answered.report_id)
        assert (confirmed.kind, confirmed.user, confirmed.service) == ("confirm", USER_ID, "api")
        [report, said] = visible(bot, answered.thread_ts)
        assert report.ts == answered.reply.ts and said.shown_text.startswith(CONFIRMED)
        assert bot.bot.services.work.stats.submitted == investigations + 1  # the recording only
        state = await bot.bot.services.store.get_thread(CHANNEL_ID, answered.thread_ts)
        assert state is not None
        assert state.report_ids == [answered.report_id] and len(state.conversation.turns) == 1
        index = _index(bot)
        assert index is not None and (await index.stats()).documents == 1


def _index(bot: BotUnderTest) -> PostmortemIndex | None:
    """The postmortem index of the bot's inline investigator (the tests run it inline)."""
    investigator = bot.bot.services.investigator
    assert isinstance(investigator, Investigator)
    return investigator.index
