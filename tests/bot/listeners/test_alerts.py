"""Alerts end to end: Alertmanager's webhook (``POST /alertmanager``) and alert bots' messages in
watched channels, into ``rcabot serve`` on the small incident bundle; the Slack stand-in shows
what the channel sees, the store what rcabot remembers (tests/bot/slackbot.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.slack.alertmanager import MAX_BODY
from bot.slack.kit import SlackMessage
from bot.store.base import ReportRecord
from tests.bot.slack.reports import assert_inert, assert_within_limits
from tests.bot.slackbot import WEBHOOK_TOKEN, BotUnderTest, bot_under_test
from tests.bundles import iso
from tests.servers.slack_messages import BOT_ID, VisibleMessage
from tests.servers.slack_requests import CHANNEL_ID, bot_message, event_callback, message

OTHER_CHANNEL = "C0002"
FINGERPRINT = "4f1a2b3c4d5e6f70"
Json = dict[str, Any]
CITATION = re.compile(r"\[(E\d+)\]")
SLACK_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")


# -- what Alertmanager and alert bots send ------------------------------------------------------


def am_alert(
    bundle: Path, fingerprint: str, *, status: str = "firing", name: str = "", starts: str = ""
) -> Json:
    """One alert as Alertmanager's webhook notifier (version 4) sends it: by default the
    bundle's own alert (alerts.json), so the investigation lands on the bundle's incident."""
    recorded = json.loads((bundle / "alerts.json").read_text())["alerts"][0]
    labels = {**recorded["labels"], "severity": "critical"} | ({"alertname": name} if name else {})
    starts = starts or recorded["startsAt"]
    return {
        "status": status,
        "labels": labels,
        "annotations": {**recorded["annotations"], "description": "web 5xx ratio above 5%"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else iso(datetime.now(UTC)),
        "generatorURL": recorded["generatorURL"],
        "fingerprint": fingerprint,
    }


def am_payload(*alerts: Json) -> Json:
    """A notification for one group, the way Alertmanager builds it around its alerts."""
    common = {k: v for k, v in alerts[0]["labels"].items() if k != "alertname"}
    return {
        "receiver": "rcabot",
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "alerts": list(alerts),
        "groupLabels": {"service": common["service"]},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}/{severity="critical"}:{service="web"}',
        "truncatedAlerts": 0,
    }


AM_SLACK_TEXT = (  # the widely used text template: *Alert:* / *Description:* / *Details:*
    "*Alert:* api 5xx ratio above 5% - `critical`\n*Description:* api returns 20% errors &amp; "
    "rising\n*Details:*\n  • *alertname:* `ApiHighErrorRate`\n  • *service:* `api`\n"
    "  • *severity:* `critical`\n"
)
GRAFANA_TEXT = (
    "**Firing**\n\nValue: A=0.2, C=1\nLabels:\n - alertname = ApiHighErrorRate\n"
    " - grafana_folder = prod\n - service = api\nAnnotations:\n - summary = api is failing\n"
    "Source: <http://grafana:3000/alerting/grafana/fdk2a1/view?orgId=1>\n"
)


def alertmanager_slack(status: str = "FIRING", **fields: Any) -> Json:
    """Alertmanager's Slack notifier: an incoming-webhook message with one attachment."""
    title, link = f"[{status}:1] ApiHighErrorRate (api critical)", "http://alertmanager:9093/"
    attachment = {
        "color": "danger" if status == "FIRING" else "good",
        "title": title,
        "title_link": link,
        "text": AM_SLACK_TEXT,
        "fallback": f"{title} | &lt;{link}&gt;",
        "mrkdwn_in": ["fallback", "pretext", "text"],
    }
    return bot_message(attachments=[attachment], **fields)


def grafana_slack() -> Json:
    """Grafana alerting's Slack contact point."""
    attachment = {
        "color": "#D63232",
        "title": "[FIRING:1] ApiHighErrorRate prod",
        "title_link": "http://grafana:3000/alerting/list",
        "text": GRAFANA_TEXT,
        "fallback": "[FIRING:1] ApiHighErrorRate prod",
        "footer": "Grafana v10.4.1",
    }
    return bot_message(attachments=[attachment], username="Grafana", bot_id="B0GRAF")


# -- what users see -----------------------------------------------------------------------------


def readable(text: str) -> str:
    """Slack mrkdwn as read on screen: link labels, entities undone."""
    shown = SLACK_LINK.sub(lambda m: m.group(2), text)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def report_of(bot: BotUnderTest, channel: str, thread_ts: str) -> ReportRecord:
    """The one report rcabot stored for the thread."""
    state = await bot.bot.services.store.get_thread(channel, thread_ts)
    assert state is not None
    [report_id] = state.report_ids
    record = await bot.bot.services.store.get_report(report_id)
    assert record is not None
    return record


def assert_shown_well(shown: VisibleMessage, record: ReportRecord) -> None:
    """Within Slack's limits, nothing that pings, every [E#] an evidence item of the report."""
    as_sent = SlackMessage(text=shown.text, blocks=shown.blocks)
    assert_within_limits(as_sent)
    assert_inert(as_sent, record.report.evidence)
    ids = {e.id for e in record.report.evidence}
    cited = set(CITATION.findall(shown.shown_text))
    assert cited, "the answer cites its evidence"
    assert cited <= ids


def headline(summary: VisibleMessage) -> str:
    """What an alert summary's first line says of the alert: FIRING or RESOLVED."""
    first = summary.shown_text.splitlines()[0]
    [status] = [s for s in ("FIRING", "RESOLVED") if s in first]
    return status


def first_line(record: ReportRecord) -> str:
    return next(line for line in record.report.answer.splitlines() if line.strip())


async def outcome(bot: BotUnderTest, payload: Json, *, settle: bool = True) -> str:
    """Send ``payload`` to the webhook; what rcabot said it did with its one alert."""
    answer = await bot.webhook(payload)
    if settle:
        await bot.settle()
    assert answer.status_code == 200
    [alert] = answer.json()["alerts"]
    return str(alert["outcome"])


def bot_calls(bot: BotUnderTest) -> list[str]:
    return [c.method for c in bot.slack.calls() if c.method != "auth.test"]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the Alertmanager webhook -------------------------------------------------------------------


async def test_a_firing_alert_gets_a_summary_with_the_investigation_in_its_thread(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        alert = am_alert(small_bundle, FINGERPRINT)
        alert["annotations"]["summary"] += " <!channel> <@U0BOSS> <https://evil.example|docs>"
        answer = await bot.webhook(am_payload(alert), query=f"?channel={OTHER_CHANNEL}")
        assert answer.status_code == 200
        assert answer.json()["alerts"] == [
            {"alert": "WebHighErrorRate", "status": "firing", "outcome": "investigating"}
        ]
        await bot.settle()
        assert bot.top_level(CHANNEL_ID) == []
        [summary] = bot.top_level(OTHER_CHANNEL)
        [reply] = bot.replies(summary.ts, OTHER_CHANNEL)
        record = await report_of(bot, OTHER_CHANNEL, summary.ts)
        assert (record.thread_ts, record.message_ts) == (summary.ts, reply.ts)

        assert reply.blocks[0]["text"]["text"] == "WebHighErrorRate: what rcabot found"
        assert_shown_well(reply, record)
        feedback = reply.blocks[-1]["elements"][0]
        assert feedback["positive_button"]["value"] == f"positive:{record.report_id}"

        assert summary.shown_text.startswith("🔥 FIRING · *WebHighErrorRate* · web\n")
        assert summary.edited and first_line(record) in readable(summary.shown_text)
        assert "The full investigation is in the thread." in summary.shown_text
        assert_shown_well(summary, record)

        post = await bot.bot.services.store.get_alert_post(FINGERPRINT)
        assert post is not None and post.own_message and post.status == "firing"
        assert (post.channel, post.ts) == (OTHER_CHANNEL, summary.ts)


BASIC = {
    "alertmanager_token": None,
    "alertmanager_username": "alertmanager",
    "alertmanager_password": "s3cret pass",
}


@pytest.mark.parametrize(
    ("settings", "authorization", "status"),
    [
        ({}, None, 401),
        ({}, f"Bearer {WEBHOOK_TOKEN}x", 401),
        ({}, "Bearer", 401),
        ({}, WEBHOOK_TOKEN, 401),
        ({}, basic("rcabot", WEBHOOK_TOKEN), 401),  # no basic auth configured
        (BASIC, basic("alertmanager", "s3cret pass"), 200),
        (BASIC, basic("alertmanager", "wrong"), 401),
        (BASIC, basic("someone", "s3cret pass"), 401),
        (BASIC, f"Bearer {WEBHOOK_TOKEN}", 401),  # no token configured: a bearer never passes
    ],
)
async def test_only_the_credentials_alertmanager_was_given_are_accepted(
    tmp_path: Path,
    small_bundle: Path,
    settings: dict[str, Any],
    authorization: str | None,
    status: int,
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, **settings) as bot:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        body = json.dumps(am_payload(am_alert(small_bundle, "0123456789abcdef"))).encode()
        answer = await bot.http.post(f"{bot.url}/alertmanager", content=body, headers=headers)
        await bot.settle()
        assert answer.status_code == status
        if status == 401:
            assert answer.json() == {"error": "unauthorized"}
            assert bot_calls(bot) == []
            assert await bot.bot.services.store.get_alert_post("0123456789abcdef") is None
        else:
            [summary] = bot.top_level()
            assert len(bot.replies(summary.ts)) == 1


async def test_an_alert_is_summarised_once_per_firing_and_marked_resolved_once(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        firing = am_payload(am_alert(small_bundle, FINGERPRINT))
        resolved = am_payload(am_alert(small_bundle, FINGERPRINT, status="resolved"))
        assert await outcome(bot, resolved) == "unknown"  # never summarised: nothing to say
        assert bot_calls(bot) == []
        outcomes = [await outcome(bot, firing), await outcome(bot, firing)]  # a repeat
        [summary] = bot.top_level()
        record = await report_of(bot, CHANNEL_ID, summary.ts)
        # a resolve, sent again (Alertmanager HA: each replica may send it)
        outcomes += [await outcome(bot, resolved), await outcome(bot, resolved)]
        assert outcomes == ["investigating", "duplicate", "resolved", "duplicate"]
        [summary] = bot.top_level()
        assert headline(summary) == "RESOLVED" and "FIRING" not in summary.shown_text
        assert first_line(record) in readable(summary.shown_text), "the diagnosis stays"
        [report, said] = bot.replies(summary.ts)
        assert report.ts == record.message_ts and said.shown_text.startswith("Resolved at ")
        post = await bot.bot.services.store.get_alert_post(FINGERPRINT)
        assert post is not None and (post.ts, post.status) == (summary.ts, "resolved")

        # it fires again later: a new episode of the same alert (same fingerprint)
        again = am_alert(small_bundle, FINGERPRINT, starts="2026-03-02T09:55:00Z")
        assert await outcome(bot, am_payload(again)) == "investigating"
        [_, second] = bot.top_level()
        assert headline(second) == "FIRING" and len(bot.replies(second.ts)) == 1
        assert await outcome(bot, resolved) == "resolved"
        assert [headline(s) for s in bot.top_level()] == ["RESOLVED", "RESOLVED"]
        assert bot.bot.services.work.stats.submitted == 2


async def test_resolves_show_on_alerts_still_being_investigated_or_refused_for_a_full_queue(
    tmp_path: Path, small_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, max_concurrent=1, queue_size=1) as bot:
        investigator, busy, go_on = bot.bot.services.investigator, asyncio.Event(), asyncio.Event()
        investigate = investigator.alert

        async def slow_alert(alert: Any, **kwargs: Any) -> Any:
            busy.set()
            await go_on.wait()  # still investigating when the resolves arrive
            return await investigate(alert, **kwargs)

        monkeypatch.setattr(investigator, "alert", slow_alert)
        running, waiting, refused = (am_alert(small_bundle, f"{n:016x}") for n in (1, 2, 3))
        assert await outcome(bot, am_payload(running), settle=False) == "investigating"
        await busy.wait()
        assert await outcome(bot, am_payload(waiting), settle=False) == "investigating"
        assert await outcome(bot, am_payload(refused), settle=False) == "refused"
        for alert in (running, refused):
            resolved = am_payload({**alert, "status": "resolved"})
            assert await outcome(bot, resolved, settle=False) == "resolved"
        go_on.set()
        await bot.settle()
        summaries = bot.top_level()
        assert [headline(s) for s in summaries] == ["RESOLVED", "FIRING", "RESOLVED"]
        for summary in summaries[:2]:  # the answers' first lines, resolved or not
            record = await report_of(bot, CHANNEL_ID, summary.ts)
            assert first_line(record) in readable(summary.shown_text)
        said = [r.shown_text for r in bot.replies(summaries[2].ts)]
        assert "rcabot is busy" in said[0] and said[1].startswith("Resolved at ")


def _payload(bundle: Path, *, labels: Json | None = None, **changes: Any) -> bytes:
    payload = am_payload(am_alert(bundle, FINGERPRINT))
    if labels is not None:  # an alert that lost its labels (and so its alertname)
        payload["alerts"][0]["labels"] = payload["commonLabels"] = labels
    return json.dumps({**payload, **changes}).encode()


@pytest.mark.parametrize(
    ("body", "settings", "status", "said"),
    [
        (lambda b: b'{"version": "4", "alerts": [', {}, 400, "payload is not JSON"),
        (lambda b: _payload(b, version="3"), {}, 400, "only version 4"),
        (lambda b: _payload(b, alerts=[]), {}, 400, "no 'alerts' list"),
        (lambda b: _payload(b, labels={}), {}, 400, "alerts[0] has no 'alertname' label"),
        (lambda b: _payload(b, commonAnnotations={"x": "x" * MAX_BODY}), {}, 413, "larger"),
        (_payload, {"allowed_channels": [CHANNEL_ID]}, 403, f"{OTHER_CHANNEL} is not allowed"),
    ],
    ids=["bad-json", "version-3", "no-alerts", "no-labels", "oversized", "channel-not-allowed"],
)
async def test_a_webhook_rcabot_cannot_use_is_refused_saying_why_and_nothing_is_posted(
    tmp_path: Path,
    small_bundle: Path,
    body: Any,
    settings: dict[str, Any],
    status: int,
    said: str,
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, **settings) as bot:
        answer = await bot.webhook(body(small_bundle), query=f"?channel={OTHER_CHANNEL}")
        await bot.settle()
        assert answer.status_code == status
        assert said in answer.json()["error"]
        assert bot_calls(bot) == []


async def test_an_alert_storm_starts_one_investigation_per_channel_rate(
    tmp_path: Path, small_bundle: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rcabot.slack")
    async with bot_under_test(tmp_path, bundle=small_bundle, channel_rate_per_min=1) as bot:
        storm = [
            am_alert(small_bundle, f"{n:016x}", name=f"WebHighErrorRate{n}") for n in (1, 2, 3)
        ]
        answer = await bot.webhook(am_payload(*storm))
        await bot.settle()
        outcomes = [a["outcome"] for a in answer.json()["alerts"]]
        assert sorted(outcomes) == ["investigating", "rate-limited", "rate-limited"]
        assert len(bot.top_level()) == 1
        assert bot.bot.services.work.stats.submitted == 1
        logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "rcabot.slack"]
        skipped = [e for e in logged if e.get("reason") == "channel rate limit"]
        assert len(skipped) == 2


# -- alert bots' messages in watched channels ---------------------------------------------------


@pytest.mark.parametrize(
    "posted", [alertmanager_slack, grafana_slack], ids=["alertmanager", "grafana"]
)
async def test_an_alert_bots_message_is_answered_in_its_thread(
    tmp_path: Path, small_bundle: Path, posted: Any
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, watched_channels=[CHANNEL_ID]) as bot:
        alert = posted()
        answer = await bot.event(event_callback(alert))
        await bot.settle()
        assert answer.status_code == 200
        assert bot.top_level() == []
        [reply] = bot.replies(alert["ts"])
        assert reply.thread_ts == alert["ts"]
        record = await report_of(bot, CHANNEL_ID, alert["ts"])
        assert record.message_ts == reply.ts
        assert reply.blocks[0]["text"]["text"] == "ApiHighErrorRate: what rcabot found"
        assert "api" in reply.shown_text
        assert_shown_well(reply, record)


RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


async def test_an_alert_bots_message_is_answered_once_and_its_resolve_said_in_its_thread(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, watched_channels=[CHANNEL_ID]) as bot:
        firing = alertmanager_slack()
        delivered = event_callback(firing)
        await bot.event(delivered)
        assert (await bot.event(delivered, **RETRY)).status_code == 200  # Slack's retry
        await bot.event(event_callback(firing))  # the same message under a new event id
        await bot.settle()
        assert len(bot.replies(firing["ts"])) == 1
        resolved = alertmanager_slack("RESOLVED")
        await bot.event(event_callback(resolved))
        await bot.settle()
        [_, said] = bot.replies(firing["ts"])
        assert said.shown_text.startswith("Resolved at ")
        assert bot.replies(resolved["ts"]) == [] and bot.top_level() == []
        assert bot.bot.services.work.stats.submitted == 1


@pytest.mark.parametrize(
    "event",
    [
        lambda: alertmanager_slack(channel=OTHER_CHANNEL),
        lambda: {**alertmanager_slack(), "thread_ts": "1710000000.000001"},  # a reply
        lambda: message("deploying api 1.4.3 now, expect a blip"),
        lambda: message("[FIRING:1] ApiHighErrorRate (api critical)\n*Alert:* api errors"),
        lambda: bot_message("Build #412 of api passed", username="CI"),
        lambda: alertmanager_slack(bot_id=BOT_ID, username="rcabot"),  # rcabot's own message
    ],
    ids=["not-watched", "in-a-thread", "chatter", "pasted-alert", "ci-bot", "rcabot-itself"],
)
async def test_messages_that_are_not_a_watched_alert_get_no_answer(
    tmp_path: Path, small_bundle: Path, event: Any
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle, watched_channels=[CHANNEL_ID]) as bot:
        answer = await bot.event(event_callback(event()))
        await bot.settle()
        assert answer.status_code == 200
        assert bot_calls(bot) == []
        assert bot.bot.services.work.stats.submitted == 0
