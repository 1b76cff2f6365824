"""The question agent: a bounded tool-calling loop on top of the deterministic investigation.

::

    report = await investigate(...)                      # deterministic, runs first
    report = await answer_question(report, question, model, gateway, limits, history=turns)

The investigation's candidates and evidence (and the earlier turns of the conversation, their
evidence renumbered after it) seed the context, so a weak model can answer without calling
anything. Then a LangGraph ``StateGraph`` (the shape of LangGraph's prebuilt ReAct agent:
agent node → tools node → agent …, ending in an answer node) runs:

- **agent**: :meth:`ChatModel.complete_tools` with the gateway's registry as tools, so TGI and
  OpenAI-compatible servers work through the one interface; no tool call → answer.
- **tools**: every call through :meth:`ToolGateway.call_json`; each result's evidence becomes
  numbered evidence continuing the report's numbering (``E{n+1}``…); the model reads only
  those items (:mod:`bot.llm.agent_context`). The loop stops, and the model answers with what
  there is, at the step limit, on a call of an unknown tool, on arguments the tool refuses and on
  a call repeated with the same arguments.
- **answer**: :meth:`ChatModel.complete_json` for the statements, which the writer's grounded
  contract checks (:func:`bot.llm.writer.with_model_answer`): too little grounded → the
  deterministic answer, with ``answer_note`` saying why.

One deadline bounds the whole run; a share of it is kept for the answer. A model failure
(unreachable, timed out, malformed) gives the deterministic answer with the reason. Never
raises a :class:`ModelError`; never returns an empty answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from pydantic import ValidationError

from bot.investigation.compact import estimate_tokens
from bot.investigation.conversation import Conversation, carry
from bot.investigation.report import Report, SourceStatus, StageTiming, TokenCounts
from bot.llm.agent_context import (
    EvidenceBook,
    answer_messages,
    call_signature,
    seed_messages,
    shown_arguments,
    tool_message,
    tool_specs,
)
from bot.llm.answer import ANSWER_SCHEMA, render_statement
from bot.llm.answer_stream import StatementScanner
from bot.llm.budget import fit_prompt
from bot.llm.model import ChatModel, Completion, Message, ToolCall, Usage
from bot.llm.settings import LlmSettings
from bot.llm.writer import (
    Failure,
    deadline_passed,
    fall_back,
    grounded_statement,
    model_failure,
    report_services,
    with_model_answer,
)
from tools.errors import ModelError
from tools.gateway import ToolGateway
from tools.result import ToolResult

DEFAULT_TOOL_CALLS = 4
ANSWER_SHARE = 0.4  # of the deadline kept for the final answer
SEED_SHARE = 0.6  # of the prompt budget for the investigation's evidence in the first prompt


@dataclass(frozen=True, slots=True)
class AgentLimits:
    max_tool_calls: int = DEFAULT_TOOL_CALLS
    deadline_s: float = 60.0  # the whole run: tool loop and answer
    max_new_tokens: int = 700
    prompt_budget_tokens: int = 8_000

    @classmethod
    def from_settings(cls, llm: LlmSettings) -> AgentLimits:
        """From the ``llm`` settings: the deadline is ``timeout_s``, the step limit
        ``agent_max_tool_calls``, the prompt budget ``prompt_budget_tokens``."""
        return cls(
            max_tool_calls=llm.agent_max_tool_calls,
            deadline_s=llm.timeout_s,
            max_new_tokens=llm.max_new_tokens,
            prompt_budget_tokens=llm.prompt_budget_tokens,
        )


class AgentState(TypedDict):
    messages: list[Message]
    pending: list[ToolCall]
    calls: int  # tool calls run
    seen: list[str]  # call signatures run, to refuse a repeat
    notes: list[str]  # what the loop did and why it stopped (for the report)
    results: list[ToolResult[Any]]
    failed: Failure | None  # why the model cannot be used (None while it can)
    raw: str  # the final answer's JSON
    prompt_tokens: int
    completion_tokens: int


class _Run:
    """One question: the graph's nodes, closing over the model, gateway, book and deadline."""

    def __init__(
        self,
        report: Report,
        question: str,
        model: ChatModel,
        gateway: ToolGateway,
        limits: AgentLimits,
        history: Conversation | None,
        left_out: Collection[str] = (),
        on_statement: Callable[[str], None] | None = None,
    ) -> None:
        self.report, self.question, self.model = report, question, model
        self.on_statement = on_statement
        self.left_out = set(left_out)  # evidence ids trimmed from the seed by the budget
        self.gateway, self.limits = gateway, limits
        carried = carry(history, report.evidence, gateway.deps.text)
        self.turns = carried.turns
        self.book = EvidenceBook(carried.evidence)
        self.specs = tool_specs(gateway.tools)
        self.started = time.monotonic()
        self.deadline = self.started + limits.deadline_s
        self.answer_from = self.deadline - ANSWER_SHARE * limits.deadline_s

    def _left(self, until: float) -> float:
        return until - time.monotonic()

    def _usage(self, state: AgentState, done: Completion) -> dict[str, int]:
        return {
            "prompt_tokens": state["prompt_tokens"] + done.usage.prompt_tokens,
            "completion_tokens": state["completion_tokens"] + done.usage.completion_tokens,
        }

    async def agent(self, state: AgentState) -> dict[str, Any]:
        left = self._left(self.answer_from)
        if left <= 0:
            return {"notes": [*state["notes"], "stopped: the deadline for tool calls passed"]}
        try:
            async with asyncio.timeout(left):
                done = await self.model.complete_tools(
                    state["messages"], self.specs, max_new_tokens=self.limits.max_new_tokens
                )
        except TimeoutError:
            return {"notes": [*state["notes"], "stopped: the deadline for tool calls passed"]}
        except ModelError as exc:
            return {"failed": model_failure(exc)}
        update: dict[str, Any] = self._usage(state, done)
        if done.tool_calls:
            said = Message("assistant", done.text, tool_calls=done.tool_calls)
            update |= {"messages": [*state["messages"], said], "pending": list(done.tool_calls)}
        return update

    async def tools(self, state: AgentState) -> dict[str, Any]:
        messages, notes = list(state["messages"]), list(state["notes"])
        seen, results, calls = list(state["seen"]), list(state["results"]), state["calls"]
        stop = ""
        for call in state["pending"]:
            signature = call_signature(call)
            refused = self._refused(signature, seen, calls, stopped=bool(stop))
            if refused:
                messages.append(tool_message(call, None, [], self.book, refused=refused))
                if not stop:
                    stop = f"stopped: {self.gateway.deps.text.line(call.name)} not run, {refused}"
                continue
            seen.append(signature)
            calls += 1
            result = await self.gateway.call_json(call.name, call.arguments)
            results.append(result)
            ids = self.book.add(result.evidence)
            messages.append(tool_message(call, result, ids, self.book))
            notes.append(
                f"called {result.tool} {shown_arguments(call.arguments)}: {result.status.value}"
                + (f", evidence {', '.join(ids)}" if ids else "")
            )
            problem = self._refusal(call)
            if problem:
                stop = f"stopped: {problem}"
        if not stop and calls >= self.limits.max_tool_calls:
            stop = f"stopped: the limit of {self.limits.max_tool_calls} tool calls was reached"
        return {
            "messages": messages,
            "pending": [],
            "calls": calls,
            "seen": seen,
            "results": results,
            "notes": [*notes, stop] if stop else notes,
        }

    def _refused(self, signature: str, seen: list[str], calls: int, *, stopped: bool) -> str:
        """Why a call is not run ("" when it is)."""
        if stopped:
            return "the loop had stopped"
        if calls >= self.limits.max_tool_calls:
            return f"over the limit of {self.limits.max_tool_calls} tool calls"
        if signature in seen:
            return "it repeats an earlier call with the same arguments"
        return ""

    def _refusal(self, call: ToolCall) -> str:
        """Why ``call`` ends the loop: an unknown tool or arguments it refuses ("" if neither)."""
        found = self.gateway.tools.get(call.name)
        if found is None:
            return f"the model called an unknown tool ({self.gateway.deps.text.line(call.name)})"
        try:
            found.validate(call.arguments)
        except ValidationError:
            return f"the model gave {call.name} invalid arguments"
        return ""

    async def answer(self, state: AgentState) -> dict[str, Any]:
        messages = answer_messages(
            self.report, self.question, self.turns, self.book.items, state["notes"]
        )
        try:
            async with asyncio.timeout(max(0.001, self._left(self.deadline))):
                if self.on_statement is not None:
                    return await self._streamed_answer(state, messages, self.on_statement)
                done = await self.model.complete_json(
                    messages, ANSWER_SCHEMA, max_new_tokens=self.limits.max_new_tokens
                )
        except TimeoutError:
            return {"failed": deadline_passed(self.limits.deadline_s)}
        except ModelError as exc:
            return {"failed": model_failure(exc)}
        return self._usage(state, done) | {"raw": done.text}

    async def _streamed_answer(
        self, state: AgentState, messages: list[Message], show: Callable[[str], None]
    ) -> dict[str, Any]:
        """The answer streamed: each statement shown once it is grounded in the evidence
        (provisional, as the writer's: the whole answer is checked again at the end)."""
        scanner = StatementScanner()
        by_id = {e.id: e for e in self.book.items}
        services = report_services(self.report)
        text = self.gateway.deps.text
        async with aclosing(
            self.model.stream_json(
                messages, ANSWER_SCHEMA, max_new_tokens=self.limits.max_new_tokens
            )
        ) as chunks:  # closed now (its connection too) if showing a statement fails
            async for chunk in chunks:
                for raw in scanner.feed(chunk):
                    kept = grounded_statement(raw, by_id, services, text, None)
                    if kept is not None:
                        show(render_statement(kept))
        usage = getattr(self.model, "last_usage", None)
        prompt, completion = (
            (usage.prompt_tokens, usage.completion_tokens)
            if isinstance(usage, Usage)
            else (0, estimate_tokens(scanner.text))
        )
        return {
            "prompt_tokens": state["prompt_tokens"] + prompt,
            "completion_tokens": state["completion_tokens"] + completion,
            "raw": scanner.text,
        }

    def route_agent(self, state: AgentState) -> Literal["tools", "answer", "__end__"]:
        if state["failed"] is not None:
            return "__end__"
        return "tools" if state["pending"] else "answer"

    def route_tools(self, state: AgentState) -> Literal["agent", "answer"]:
        stopped = any(n.startswith("stopped:") for n in state["notes"])
        return "answer" if stopped else "agent"

    def graph(self) -> Any:
        graph = StateGraph(AgentState)
        graph.add_node("agent", self.agent)
        graph.add_node("tools", self.tools)
        graph.add_node("answer", self.answer)
        graph.add_edge(START, "agent")
        graph.add_conditional_edges("agent", self.route_agent, ["tools", "answer", END])
        graph.add_conditional_edges("tools", self.route_tools, ["agent", "answer"])
        graph.add_edge("answer", END)
        return graph.compile()

    def initial(self) -> AgentState:
        shown = [e for e in self.book.items if e.id not in self.left_out]
        messages = seed_messages(
            self.report, self.question, self.turns, shown, self.limits.max_tool_calls
        )
        return AgentState(
            messages=messages,
            pending=[],
            calls=0,
            seen=[],
            notes=[],
            results=[],
            failed=None,
            raw="",
            prompt_tokens=0,
            completion_tokens=0,
        )


def _source(result: ToolResult[Any]) -> SourceStatus:
    return SourceStatus(
        source=result.source,
        backend=result.backend,
        ok=result.ok,
        detail=f"agent: {result.tool}" + (f": {result.error}" if result.error else ""),
        evidence_count=len(result.evidence),
        elapsed_ms=round(result.elapsed_ms, 1),
    )


async def answer_question(
    report: Report,
    question: str,
    model: ChatModel,
    gateway: ToolGateway,
    limits: AgentLimits,
    *,
    history: Conversation | None = None,
    on_statement: Callable[[str], None] | None = None,
) -> Report:
    """``report`` (the deterministic investigation of ``question``) answered by the agent:
    the model's grounded statements, or the deterministic answer with the reason.
    ``on_statement`` is shown each statement of the answer as it is grounded (the answer is
    then streamed); the final report may still fall back to the deterministic answer."""
    # the seed gets a share of the budget; tool results and earlier turns need the rest
    seeded = await fit_prompt(report, model, int(limits.prompt_budget_tokens * SEED_SHARE))
    run = _Run(report, question, model, gateway, limits, history, seeded.trimmed, on_statement)
    state: AgentState = await run.graph().ainvoke(
        run.initial(), {"recursion_limit": 2 * limits.max_tool_calls + 6}
    )
    steps = state["notes"]
    gathered = report.model_copy(
        update={
            "evidence": run.book.items,
            "sources": [*report.sources, *(_source(r) for r in state["results"])],
            "warnings": [*report.warnings, *(n for n in steps if n.startswith("stopped:"))],
            "timings": [
                *report.timings,
                StageTiming(stage="agent", ms=round((time.monotonic() - run.started) * 1000, 1)),
            ],
        }
    )
    tokens = TokenCounts(
        prompt=state["prompt_tokens"],
        completion=state["completion_tokens"],
        evidence=report.tokens.evidence,
    )
    if state["failed"] is not None:
        answered = fall_back(gathered, state["failed"], model_name=model.name, tokens=tokens)
    else:
        answered = with_model_answer(
            gathered,
            state["raw"],
            model_name=model.name,
            text=gateway.deps.text,
            tokens=tokens,
            require_top=False,  # a question may be about something other than the top suspect
        )
    calls = state["calls"]
    note = f"agent: {calls} tool call{'s' if calls != 1 else ''}"
    stopped = next((n for n in steps if n.startswith("stopped:")), "")
    note += f" ({stopped.removeprefix('stopped: ')})" if stopped else ""
    return Report.model_validate(
        answered.model_dump() | {"answer_note": f"{answered.answer_note}; {note}"}
    )
