from __future__ import annotations

import pytest

from bot.slack.texts import USAGE, failure_message, progress_line, usage_message

ENGINE_STAGES = ("scope", "metrics", "gather", "rank", "postmortems", "write", "validate", "model")


@pytest.mark.parametrize("stage", ENGINE_STAGES)
def test_each_engine_stage_has_its_own_words(stage: str) -> None:
    line = progress_line(stage)
    assert line.endswith("…") and line != progress_line("not-a-stage")
    others = {progress_line(s) for s in ENGINE_STAGES if s != stage}
    assert line not in others


def test_an_unknown_stage_gets_a_generic_line_not_its_name() -> None:
    assert "<!here>" not in progress_line("<!here>")
    assert progress_line("<!here>") == progress_line("something-new")


def test_usage_names_the_command_and_window_forms() -> None:
    usage = usage_message(None)
    assert "`/rca &lt;alert|service&gt; [window]`" in usage
    for window in ("30m", "2h", "2026-11-30T14:00Z/2026-11-30T15:00Z"):
        assert window in usage
    assert "<" not in usage


def test_usage_after_a_problem_states_it_escaped() -> None:
    message = usage_message("unknown window <!channel> & 3d")
    assert message.startswith("unknown window ‹!channel› &amp; 3d\n\n")
    assert message.endswith(USAGE)


def test_failure_messages_are_short_and_escaped() -> None:
    message = failure_message("backend down: <@U1> " + "x" * 5_000)
    assert message.startswith(":warning: rcabot could not investigate: backend down: ‹@U1›")
    assert len(message) < 1_100 and "<" not in message
