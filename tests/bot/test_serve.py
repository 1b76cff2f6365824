"""``rcabot serve``: Socket Mode through a local server speaking its envelope protocol, the
start-up checks, and the real small model answering a mention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.investigation.report import CITATION
from bot.serve import running
from tests.bot.slackbot import bot_settings, bot_under_test
from tests.servers import free_port
from tests.servers.llamacpp import LlamaCppServer
from tests.servers.slack import FakeSlack
from tests.servers.slack_messages import BOT_USER_ID
from tests.servers.slack_requests import CHANNEL_ID, app_mention, event_callback, slash_command
from tests.servers.slack_socket import FakeSocketMode
from tools.errors import ConfigError

APP_TOKEN = "xapp-1-A0001-test"


async def test_socket_mode_answers_a_mention_and_a_command(
    tmp_path: Path, small_bundle: Path
) -> None:
    async with FakeSocketMode() as socket, FakeSlack() as slack:
        slack.attach_socket(socket)
        settings = bot_settings(tmp_path, slack.api_url, app_token=APP_TOKEN, signing_secret=None)
        async with running(settings, port=free_port(), bundle=small_bundle, socket=True) as bot:
            await socket.wait_connected()
            mention = app_mention(f"<@{BOT_USER_ID}> why is api failing?")
            envelope = await socket.send_envelope("events_api", event_callback(mention))
            assert (await socket.wait_ack(envelope)).envelope_id == envelope
            command = await socket.send_envelope("slash_commands", slash_command("api"))
            await socket.wait_ack(command)
            await slack.wait_for(lambda: bot.services.work.stats.submitted == 2, timeout=10)
            await bot.services.work.join()
            replies = [m for m in slack.thread(CHANNEL_ID, mention["ts"]) if m.bot]
            assert len(replies) == 1 and replies[0].stopped
            posts = [c for c in slack.calls("chat.postMessage") if "thread_ts" not in c.args]
            assert posts, "the /rca report is posted top-level in the channel"


async def test_serving_http_without_a_signing_secret_is_refused(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        settings = bot_settings(tmp_path, slack.api_url, signing_secret=None)
        with pytest.raises(ConfigError, match="signing_secret"):
            async with running(settings, port=free_port(), bundle=None):
                pass


async def test_a_rejected_bot_token_fails_at_start_naming_the_setting(tmp_path: Path) -> None:
    async with FakeSlack(token="xoxb-the-right-one") as slack:
        settings = bot_settings(tmp_path, slack.api_url)
        with pytest.raises(ConfigError, match=r"slack\.bot_token.*invalid_auth"):
            async with running(settings, port=free_port(), bundle=None):
                pass


def test_cli_serve_with_bad_settings_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCABOT_SLACK__BOT_TOKEN", "xoxb-x")
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", str(free_port())])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "signing_secret" in err and len(err.splitlines()) <= 2


@pytest.mark.slow
async def test_the_real_small_model_answers_a_mention_with_citations_that_resolve(
    tmp_path: Path, small_bundle: Path, llamacpp: LlamaCppServer
) -> None:
    llm = {
        "url": llamacpp.url,
        "api": "openai",
        "model": llamacpp.model,
        "timeout_s": 30,
        "max_new_tokens": 96,
        "prompt_budget_tokens": 1_500,
        "agent_max_tool_calls": 1,
    }
    async with bot_under_test(tmp_path, bundle=small_bundle, llm=llm) as bot:
        mention = app_mention(f"<@{BOT_USER_ID}> why is api failing?")
        await bot.event(event_callback(mention))
        await bot.settle()
        [reply] = bot.replies(mention["ts"])
        assert reply.stopped
        state = await bot.bot.services.store.get_thread(CHANNEL_ID, mention["ts"])
        assert state is not None
        record = await bot.bot.services.store.get_report(state.report_ids[-1])
        assert record is not None
        report = record.report
        assert report.model is not None and llamacpp.model in report.model  # it was asked
        known = {e.id for e in report.evidence}
        assert set(CITATION.findall(json.dumps(reply.blocks))) <= known
        assert report.answer
