"""``/rca`` end to end: a signed slash command into ``rcabot serve``, the report in the channel
of the Slack stand-in (tests/bot/slackbot.py); the model behind it is the TGI stand-in
(tests/servers/tgi.py) or an unreachable port."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.commands import investigate_bundle
from bot.config import Settings
from bot.investigation.report import CITATION
from bot.slack.blocks import ACTION_CONFIRM, ACTION_FEEDBACK
from bot.store.base import ReportRecord
from tests.bot.slackbot import BotUnderTest, bot_under_test
from tests.servers import unreachable_url
from tests.servers.slack_messages import VisibleMessage
from tests.servers.slack_requests import CHANNEL_ID, event_callback, message, slash_command
from tests.servers.tgi import Reply, TgiStandin

Json = dict[str, Any]
_CITED_LINK = re.compile(r"<(https?://[^|<>]+)\|\[(E\d+)\]>")


@pytest.fixture(autouse=True)
def _fast_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stage shown (the throttle is tested in tests/bot/slack/test_responder.py)."""
    monkeypatch.setattr("bot.slack.responder.UPDATE_EVERY_S", 0.0)


@pytest.fixture
def deep_links(monkeypatch: pytest.MonkeyPatch) -> None:
    """UI links in the evidence, so citations open something."""
    monkeypatch.setenv("RCABOT_LINKS__GRAFANA_URL", "https://grafana.example.com")
    monkeypatch.setenv("RCABOT_LINKS__KIBANA_URL", "https://kibana.example.com")
    monkeypatch.setenv("RCABOT_LINKS__JAEGER_UI_URL", "https://jaeger.example.com")


class Hook:
    """A stand-in for Slack's ``response_url`` (hooks.slack.com cannot be reached here)."""

    def __init__(self) -> None:
        self.url = ""
        self.posted: list[Json] = []


@pytest.fixture
async def response_hook() -> AsyncIterator[Hook]:
    hook = Hook()

    async def receive(request: web.Request) -> web.Response:
        hook.posted.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/commands/{rest:.*}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    hook.url = f"http://{host}:{port}/commands/T0001/1/r"
    try:
        yield hook
    finally:
        await runner.cleanup()


def assert_every_call_ok(bot: BotUnderTest) -> None:
    refused = [(c.method, c.status, c.error) for c in bot.slack.calls() if not c.ok]
    assert refused == []


def report_id_of(shown: VisibleMessage) -> str:
    closing = shown.blocks[-1]
    assert closing["type"] == "context_actions"
    [buttons] = closing["elements"]
    assert buttons["type"] == "feedback_buttons" and buttons["action_id"] == ACTION_FEEDBACK
    kind, _, report_id = str(buttons["positive_button"]["value"]).partition(":")
    assert kind == "positive"
    return report_id


async def stored_report(bot: BotUnderTest, shown: VisibleMessage) -> ReportRecord:
    record = await bot.bot.services.store.get_report(report_id_of(shown))
    assert record is not None
    return record


async def the_report(bot: BotUnderTest) -> tuple[VisibleMessage, ReportRecord]:
    """The one top-level message the command left, and the report it shows."""
    [shown] = bot.top_level()
    return shown, await stored_report(bot, shown)


def updates_of(bot: BotUnderTest, ts: str) -> list[str]:
    return [str(c.args.get("text")) for c in bot.slack.calls("chat.update") if c.args["ts"] == ts]


async def test_rca_acks_at_once_then_shows_progress_and_the_report_in_the_channel(
    tmp_path: Path, small_bundle: Path, deep_links: None
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        bot.slack.slow("chat.postMessage", 1.5, times=1)  # Slack slow: the ack must not wait
        started = time.monotonic()
        answer = await bot.command(slash_command("api 30m"))
        assert time.monotonic() - started < 1.0
        assert answer.status_code == 200 and answer.text == ""
        assert bot.slack.calls("chat.update") == []  # acked before anything was investigated
        await bot.slack.wait_for(lambda: bot.slack.calls("chat.postMessage"))
        await bot.settle()
        assert_every_call_ok(bot)
        shown, record = await the_report(bot)
        report = record.report
        assert (record.channel, record.thread_ts) == (CHANNEL_ID, shown.ts)
        assert record.message_ts == shown.ts
        assert shown.thread_ts is None  # top-level in the channel, not a reply

        [first] = bot.slack.calls("chat.postMessage")
        assert "investigating" in first.args["text"]
        texts = updates_of(bot, shown.ts)
        assert any("Ranking the likely causes" in t for t in texts[:-1]), texts
        assert texts[-1] == shown.text  # the report came last

        blocks = shown.blocks
        assert len(blocks) <= 50
        assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"] == "/rca api (30m)"
        summary = blocks[1]["text"]["text"]
        linked = dict((cite, html.unescape(url)) for url, cite in _CITED_LINK.findall(summary))
        by_id = report.evidence_by_id()
        linkable = {
            i
            for i in CITATION.findall(report.answer)
            if (by_id[i].link or "").startswith("https://")
        }
        assert linkable and set(linked) == linkable  # each [E#] opens its evidence's link
        assert all(linked[i] == by_id[i].link for i in linked)
        confirms = [b for b in blocks if b.get("accessory", {}).get("action_id") == ACTION_CONFIRM]
        assert [json.loads(b["accessory"]["value"]) for b in confirms] == [
            {"r": record.report_id, "c": c.rank} for c in report.candidates[: len(confirms)]
        ]
        assert confirms and report.candidates[0].service in confirms[0]["text"]["text"]
        assert report.candidates[0].service == "api"


async def test_rca_of_an_alert_name_investigates_that_alert(
    tmp_path: Path, small_bundle: Path
) -> None:
    alert = json.loads((small_bundle / "alerts.json").read_text())["commonLabels"]["alertname"]
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        await bot.command(slash_command(alert))
        await bot.settle()
        assert_every_call_ok(bot)
        shown, record = await the_report(bot)
        assert alert in shown.blocks[0]["text"]["text"]
        assert record.report.scope.startswith("alert")
        assert alert in record.report.question
        assert record.report.evidence[0].source.value == "alert"


async def test_rca_of_an_unknown_service_names_the_known_ones(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answer = await bot.command(slash_command("nosuch"))
        assert answer.status_code == 200
        await bot.settle()
        assert_every_call_ok(bot)
        [shown] = bot.top_level()
        said = shown.shown_text
        assert "nosuch" in said and all(s in said for s in ("web", "api", "db"))
        assert not any(b["type"] == "context_actions" for b in shown.blocks)  # no report


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "say what to investigate"),
        ("api 30m extra", "at most 2 words"),
        ("api soon", "is not a duration"),
        ("api 2099-01-01T00:00Z/2099-01-01T01:00Z", "in the future"),
        ("api 2026-03-02T10:00Z/2026-03-02T09:00Z", "ends before it starts"),
    ],
)
async def test_bad_arguments_get_usage_in_the_ack_and_nothing_is_posted(
    tmp_path: Path, small_bundle: Path, text: str, problem: str
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        answer = await bot.command(slash_command(text))
        assert answer.status_code == 200
        body = answer.json()
        assert body["response_type"] == "ephemeral"
        assert problem in body["text"] and "/rca" in body["text"]
        await bot.settle()
        assert [c.method for c in bot.slack.calls() if c.method != "auth.test"] == []
        assert bot.bot.services.work.stats.submitted == 0


async def test_a_channel_not_allowed_gets_an_ephemeral_refusal(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, allowed_channels=["C0OTHER"]) as bot:
        answer = await bot.command(slash_command("api 30m"))
        body = answer.json()
        assert body["response_type"] == "ephemeral" and "not enabled" in body["text"]
        await bot.settle()
        assert [c.method for c in bot.slack.calls() if c.method != "auth.test"] == []


async def test_a_reply_in_the_reports_thread_is_a_follow_up(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        await bot.command(slash_command("api 30m"))
        await bot.settle()
        shown, record = await the_report(bot)
        follow = message("and what about the db?", thread_ts=shown.ts)
        await bot.event(event_callback(follow))
        await bot.settle()
        assert_every_call_ok(bot)
        [reply] = bot.replies(shown.ts)
        assert reply.stopped and reply.shown_text
        state = await bot.bot.services.store.get_thread(CHANNEL_ID, shown.ts)
        assert state is not None
        turns = [t.question for t in state.conversation.turns]
        assert turns == [record.report.question, "and what about the db?"]


async def test_a_rate_limited_post_is_retried_and_the_report_still_posted(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        bot.slack.fail("chat.postMessage")  # 429 with Retry-After: 1, once
        await bot.command(slash_command("api 30m"))
        await bot.slack.wait_for(lambda: len(bot.slack.calls("chat.postMessage")) == 2)
        await bot.settle()
        first, second = bot.slack.calls("chat.postMessage")
        assert (first.status, first.error) == (429, "ratelimited")
        assert second.ok and second.at - first.at >= 0.9  # after Retry-After
        _, record = await the_report(bot)
        assert record.report.candidates


async def test_a_channel_rcabot_is_not_in_is_told_through_the_response_url(
    tmp_path: Path, small_bundle: Path, response_hook: Hook
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        bot.slack.fail("chat.postMessage", error="not_in_channel")
        fields = slash_command("api 30m") | {"response_url": response_hook.url}
        answer = await bot.command(fields)
        assert answer.status_code == 200
        await bot.settle()
        [told] = response_hook.posted
        assert told["response_type"] == "ephemeral" and "/invite" in told["text"]
        assert bot.top_level() == [] and bot.bot.services.work.stats.submitted == 0


class Watch(logging.Handler):
    """Waits for one ``log_event`` line on the ``rcabot.slack`` logger."""

    def __init__(self, event: str) -> None:
        super().__init__()
        self.event = event
        self.lines: list[Json] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        line = json.loads(record.getMessage())
        if line["event"] == self.event:
            self.lines.append(line)
            self.seen.set()


async def test_an_unreachable_response_url_is_logged_not_hung_on(
    tmp_path: Path, small_bundle: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rcabot.slack")
    watch = Watch("respond_failed")
    logging.getLogger("rcabot.slack").addHandler(watch)
    try:
        async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
            bot.slack.fail("chat.postMessage", error="not_in_channel")
            fields = slash_command("api 30m") | {"response_url": unreachable_url() + "/x"}
            await bot.command(fields)
            await asyncio.wait_for(watch.seen.wait(), 10)
    finally:
        logging.getLogger("rcabot.slack").removeHandler(watch)
    [failed] = watch.lines
    assert failed["channel"] == CHANNEL_ID
    assert not [r for r in caplog.records if "listener_failed" in r.getMessage()]


async def test_rca_with_a_model_streams_its_statements_then_posts_its_answer(
    tmp_path: Path, small_bundle: Path, tgi_standin: TgiStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranked = await investigate_bundle(Settings(), small_bundle, service="api", use_llm=False)
    top, second = ranked.candidates[:2]
    statements = [
        {
            "text": f"The {top.service} service is the likely cause",
            "evidence": top.evidence_ids[:1],
        },
        {"text": f"The {second.service} service is hit too", "evidence": second.evidence_ids[:1]},
    ]
    tgi_standin.script(Reply.json({"statements": statements}))
    monkeypatch.setenv("RCABOT_LLM__URL", tgi_standin.url)
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        await bot.command(slash_command("api"))
        await bot.slack.wait_for(lambda: bot.slack.calls("chat.postMessage"))
        await bot.settle()
        assert_every_call_ok(bot)
        shown, record = await the_report(bot)
        assert record.report.answer_by == "llm"
        assert "/generate_stream" in tgi_standin.paths()
        said = [str(s["text"]) for s in statements]
        progress = updates_of(bot, shown.ts)[:-1]
        assert all(any(text in update for update in progress) for text in said), progress
        assert all(text in shown.blocks[1]["text"]["text"] for text in said)
        assert "Written by the model" in shown.shown_text


async def test_rca_with_the_model_down_posts_the_ranked_answer_and_says_why(
    tmp_path: Path, small_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCABOT_LLM__URL", unreachable_url())
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        await bot.command(slash_command("api 30m"))
        await bot.slack.wait_for(lambda: bot.slack.calls("chat.postMessage"))
        await bot.settle()
        assert_every_call_ok(bot)
        shown, record = await the_report(bot)
        report = record.report
        assert report.answer_by == "deterministic" and report.candidates[0].service == "api"
        assert report.answer_note and "model not used" in report.answer_note
        assert "model not used" in shown.shown_text and "unavailable" in shown.shown_text
