"""The question agent against a scripted model, over the small synthetic bundle's real tools."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.investigation.conversation import Conversation, Turn
from bot.investigation.engine import investigate
from bot.investigation.report import Fallback, Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.sources import bundle_sources
from bot.llm.agent import AgentLimits, answer_question
from bot.llm.model import Message
from tests.bot.llm.fakes import AgentModel, Step, call, statements
from tools.errors import ModelUnavailable
from tools.evidence import Evidence, Source
from tools.gateway import ToolGateway
from tools.registry import TOOLS

QUESTION = "why is web failing?"
ROOMY = AgentLimits(deadline_s=20.0)


@pytest.fixture
async def seeded(small_bundle: Path) -> tuple[Report, ToolGateway]:
    """The deterministic investigation of the question, and a gateway over the same bundle."""
    sources = await bundle_sources(small_bundle, load_settings())
    request = InvestigationRequest(question=QUESTION, alert=sources.alert)
    report = await investigate(request, sources.deps, sources.window)
    return report, ToolGateway(sources.deps)


def on_top(report: Report) -> tuple[str, list[str]]:
    """A grounded statement about the top candidate."""
    top = report.candidates[0]
    return ("This is the most likely cause.", top.evidence_ids[:1])


def search(report: Report, call_id: str = "c1", **extra: Any) -> Any:
    window = {"start": report.window.start.isoformat(), "end": report.window.end.isoformat()}
    return call(
        "search_logs",
        call_id,
        window=window,
        services=["api"],
        text="Timeout acquiring connection",
        **extra,
    )


async def ask(
    seeded: tuple[Report, ToolGateway],
    steps: Sequence[Step],
    answer: Any,
    limits: AgentLimits = ROOMY,
    history: Conversation | None = None,
    answer_delay_s: float = 0.0,
) -> tuple[Report, AgentModel]:
    report, gateway = seeded
    model = AgentModel(steps, answer, answer_delay_s=answer_delay_s)
    return await answer_question(report, QUESTION, model, gateway, limits, history=history), model


def agent_calls(report: Report) -> list[str]:
    return [s.detail for s in report.sources if s.detail.startswith("agent:")]


def tool_messages(model: AgentModel) -> list[Message]:
    return [m for _, messages in model.calls for m in messages if m.role == "tool"]


async def test_answers_from_the_seeded_context_without_calling_a_tool(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    answered, model = await ask(seeded, ["the evidence is enough"], statements(on_top(report)))
    assert answered.answer_by == "llm" and answered.model == "fake:agent"
    assert answered.answer.startswith("This is the most likely cause [")
    assert "agent: 0 tool calls" in answered.answer_note
    assert [kind for kind, _ in model.calls] == ["complete_tools", "complete_json"]
    # the tools are the registry's, with their schemas; the context is the investigation's
    assert [t.name for t in model.tools_seen[0]] == TOOLS.names
    assert model.tools_seen[0][0].parameters == next(iter(TOOLS)).input_schema()
    seed = model.calls[0][1][1].content
    assert f"service={report.candidates[0].service}" in seed
    assert '<evidence id="E1"' in seed
    assert answered.evidence == report.evidence and answered.candidates == report.candidates


async def test_a_tool_result_becomes_the_next_evidence_and_can_be_cited(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    new = f"E{len(report.evidence) + 1}"
    answer = statements(on_top(report), ("The logs show connection timeouts.", [new]))
    answered, model = await ask(seeded, [[search(report)]], answer)
    assert answered.answer_by == "llm", answered.answer_note
    found = answered.evidence_by_id()[new]
    assert found.source is Source.LOGS and found.key.startswith("logs:search:")
    assert f"connection timeouts [{new}]" in answered.answer
    assert "agent: 1 tool call" in answered.answer_note
    assert any(s.detail == "agent: search_logs" for s in answered.sources)
    (result,) = tool_messages(model)
    assert result.tool_call_id == "c1" and f'<evidence id="{new}"' in result.content
    assert "Tool search_logs: ok" in result.content


async def test_an_answer_about_something_other_than_the_top_suspect_is_kept(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    new = f"E{len(report.evidence) + 1}"
    answer = statements(("The logs show connection timeouts.", [new]))
    answered, _ = await ask(seeded, [[search(report)]], answer)
    assert answered.answer_by == "llm", answered.answer_note
    assert answered.answer == f"The logs show connection timeouts [{new}]."


async def test_the_prompt_budget_trims_the_seed_but_never_the_top_candidates_evidence(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    tight = AgentLimits(deadline_s=20.0, prompt_budget_tokens=400)
    answered, model = await ask(seeded, ["enough"], statements(on_top(report)), tight)
    seed = model.calls[0][1][1].content
    shown = {e.id for e in report.evidence if f'<evidence id="{e.id}"' in seed}
    assert set(report.candidates[0].evidence_ids) <= shown
    assert len(shown) < len(report.evidence)
    assert answered.answer_by == "llm", answered.answer_note


async def test_the_step_limit_is_enforced(seeded: tuple[Report, ToolGateway]) -> None:
    report, _ = seeded
    steps: list[Step] = [[search(report, f"c{n}", limit=n + 1)] for n in range(6)]
    answered, model = await ask(
        seeded, steps, statements(on_top(report)), AgentLimits(max_tool_calls=2, deadline_s=20)
    )
    assert [kind for kind, _ in model.calls].count("complete_tools") == 2
    assert len(agent_calls(answered)) == 2
    assert "limit of 2 tool calls" in answered.answer_note
    assert answered.answer_by == "llm"


async def test_calls_beyond_the_limit_in_one_turn_are_not_run(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    many = [search(report, f"c{n}", limit=n + 1) for n in range(3)]
    answered, model = await ask(
        seeded, [many], statements(on_top(report)), AgentLimits(max_tool_calls=1, deadline_s=20)
    )
    assert len(agent_calls(answered)) == 1
    assert "search_logs not run, over the limit of 1 tool calls" in answered.answer_note
    assert [kind for kind, _ in model.calls] == ["complete_tools", "complete_json"]


async def test_the_tool_loop_deadline_leaves_time_to_answer(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    answered, _ = await ask(seeded, [30.0], statements(on_top(report)), AgentLimits(deadline_s=0.5))
    assert answered.answer_by == "llm"
    assert "deadline" in answered.answer_note


async def test_an_answer_past_the_deadline_falls_back(seeded: tuple[Report, ToolGateway]) -> None:
    report, _ = seeded
    answered, _ = await ask(
        seeded, [], statements(on_top(report)), AgentLimits(deadline_s=0.3), answer_delay_s=30
    )
    assert answered.answer_by == "deterministic"
    assert answered.answer == report.answer
    assert "did not answer within 0.3 s" in answered.answer_note
    assert answered.fallback is Fallback.TIMEOUT


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (call("rm_rf", path="/"), "unknown tool"),
        (call("search_logs", window="yesterday"), "invalid arguments"),
    ],
)
async def test_an_unknown_tool_or_bad_arguments_stop_the_loop(
    seeded: tuple[Report, ToolGateway], bad: Any, why: str
) -> None:
    report, _ = seeded
    answered, model = await ask(seeded, [[bad], [search(report)]], statements(on_top(report)))
    assert [kind for kind, _ in model.calls] == ["complete_tools", "complete_json"]
    (refused,) = agent_calls(answered)
    assert why in refused  # the gateway's structured error
    assert why in answered.answer_note
    last_prompt = model.calls[-1][1][-1].content
    assert "Note: stopped:" in last_prompt and why in last_prompt
    assert answered.answer_by == "llm"  # answered with what there was


async def test_a_repeated_call_is_not_run_again(seeded: tuple[Report, ToolGateway]) -> None:
    report, _ = seeded
    steps: list[Step] = [[search(report, "c1")], [search(report, "c2")], [search(report, "c3")]]
    answered, model = await ask(seeded, steps, statements(on_top(report)))
    assert len(agent_calls(answered)) == 1
    assert "repeats an earlier call" in answered.answer_note
    assert [kind for kind, _ in model.calls].count("complete_tools") == 2


async def test_a_model_error_mid_loop_gives_the_deterministic_answer(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    steps: list[Step] = [[search(report)], ModelUnavailable("connection refused")]
    answered, _ = await ask(seeded, steps, statements(on_top(report)))
    assert answered.answer_by == "deterministic"
    assert answered.answer == report.answer
    assert "unavailable (connection refused)" in answered.answer_note
    assert answered.fallback is Fallback.UNAVAILABLE
    Report.model_validate_json(answered.model_dump_json())  # a valid report all the same


async def test_an_ungrounded_answer_falls_back_with_the_reason(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    made_up = statements(("The db ran out of disk at 97%.", report.candidates[0].evidence_ids))
    answered, _ = await ask(seeded, [], made_up)
    # what the model saw and what was kept, in the message: this failed once in CI, not since
    cited = [e for e in answered.evidence if e.id in report.candidates[0].evidence_ids]
    why = f"{answered.answer_note!r}; kept {answered.answer!r}; cited {cited!r}"
    assert answered.answer_by == "deterministic" and answered.answer == report.answer, why
    assert "grounded" in answered.answer_note
    assert answered.fallback is Fallback.UNGROUNDED
    assert answered.dropped_statements


async def test_a_follow_up_sees_earlier_turns_with_their_evidence_renumbered(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, _ = seeded
    earlier = Evidence(
        id="E1",
        key="logs:search:earlier",
        source=Source.LOGS,
        title="Pool exhausted in the earlier look",
        summary="connection pool exhausted",
        query="message:pool",
    )
    turn = Turn(
        question="what broke first?",
        answer="The pool was exhausted [E1]. Unknown [E9].",
        evidence=[earlier],
        answered_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
    )
    carried = f"E{len(report.evidence) + 1}"
    answer = statements(on_top(report), ("The pool was exhausted earlier.", [carried]))
    answered, model = await ask(seeded, [], answer, history=Conversation(turns=[turn]))
    seed = model.calls[0][1][1].content
    assert '<turn n="1">' in seed and "question: what broke first?" in seed
    assert f"The pool was exhausted [{carried}]. Unknown ." in seed
    assert f'<evidence id="{carried}" source="logs">' in seed
    assert answered.evidence_by_id()[carried].key == "logs:search:earlier"
    assert f"[{carried}]" in answered.answer and answered.answer_by == "llm"


async def test_the_answer_streams_statement_by_statement_when_asked(
    seeded: tuple[Report, ToolGateway],
) -> None:
    report, gateway = seeded
    top = report.candidates[0]
    answer = statements(
        ("This is the most likely cause.", top.evidence_ids[:1]),
        ("An invented claim without evidence.", ["E999"]),
        ("Its errors started with the incident.", top.evidence_ids[1:2] or top.evidence_ids[:1]),
    )
    model = AgentModel(["the evidence is enough"], answer)
    shown: list[str] = []
    answered = await answer_question(
        report, QUESTION, model, gateway, ROOMY, on_statement=shown.append
    )
    assert [kind for kind, _ in model.calls] == ["complete_tools", "stream_json"]
    assert answered.answer_by == "llm"
    assert len(shown) == 2  # the ungrounded statement is never shown
    assert all(line in answered.answer for line in shown)
    assert answered.tokens.completion > 0
