"""rcabot's own observability end to end (bot/app.py): ``rcabot serve`` answers a mention, and
its ``/metrics`` shows the ack, the investigation, its stages and the queue; ``/readyz`` and
``/healthz`` answer; the completion log line carries the report id."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.bot.slackbot import bot_under_test
from tests.servers import unreachable_url
from tests.servers.slack_messages import BOT_USER_ID
from tests.servers.slack_requests import CHANNEL_ID, app_mention, event_callback

Sample = tuple[str, frozenset[tuple[str, str]]]


def samples(text: str) -> dict[Sample, float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(found: dict[Sample, float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_an_answered_mention_shows_in_metrics_and_its_log_line(
    tmp_path: Path, small_bundle: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rcabot.slack")
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        before = samples((await bot.http.get(f"{bot.url}/metrics")).text)
        mention = app_mention(f"<@{BOT_USER_ID}> why is api failing?")
        assert (await bot.event(event_callback(mention))).status_code == 200
        await bot.settle()
        scraped = await bot.http.get(f"{bot.url}/metrics")
        state = await bot.bot.services.store.get_thread(CHANNEL_ID, mention["ts"])
    assert scraped.status_code == 200
    after = samples(scraped.text)
    assert sample(before, "rcabot_investigations_total", outcome="answered") == 0
    assert sample(after, "rcabot_investigations_total", outcome="answered") == 1
    acks = "rcabot_slack_ack_duration_seconds_count"
    assert sample(after, acks, status="2xx") == sample(before, acks, status="2xx") + 1
    stages = {
        dict(labels)["stage"]
        for (name, labels), count in after.items()
        if name == "rcabot_investigation_stage_duration_seconds_count" and count > 0
    }
    assert {"gather", "validate"} <= stages
    assert sample(after, "rcabot_work_jobs_total", result="done") == 1
    assert sample(after, "rcabot_work_waiting") == 0
    assert sample(after, "rcabot_work_queue_capacity") > 0
    assert sample(after, "rcabot_llm_answers_total") == 0  # no model configured
    assert state is not None
    answered = [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.getMessage().startswith('{"event": "answered"')
    ]
    assert [line["report_id"] for line in answered] == state.report_ids
    assert answered[0]["fallback"] is None and answered[0]["ms"] >= 0


async def test_readyz_and_healthz_answer_without_backends(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with bot_under_test(tmp_path, bundle=small_bundle) as bot:
        ready = await bot.http.get(f"{bot.url}/readyz")
        health = await bot.http.get(f"{bot.url}/healthz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["ready"] and body["failing"] == []
    assert body["checks"]["metrics (Prometheus)"]["status"] == "not configured"
    assert health.status_code == 200 and health.json()["ok"]


async def test_readyz_names_an_unreachable_model(tmp_path: Path, small_bundle: Path) -> None:
    async with bot_under_test(
        tmp_path, bundle=small_bundle, llm={"url": unreachable_url(), "api": "tgi"}
    ) as bot:
        ready = await bot.http.get(f"{bot.url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["llm (tgi)"]
