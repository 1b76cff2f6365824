"""The one-call writer: the deterministic report, re-explained by the model, never made worse.

Plain functions (the agent uses the last two for its final answer)::

    WriteLimits.from_settings(llm) -> WriteLimits
    async write_with_model(report, model, limits, text) -> Report
    stream_with_model(report, model, limits, text) -> AsyncIterator[Kept | Report]
    with_model_answer(report, raw, *, model_name, text, tokens) -> Report
    fall_back(report, failure, *, model_name, tokens=None) -> Report

``report`` is the deterministic report (its answer is the fallback). The model gets one
prompt (``bot.llm.budget.fit_prompt``) and no tools, within ``limits.timeout_s`` in all. Any
:class:`ModelError` (unreachable, timed out, malformed), or an answer of which too little is
grounded (``bot.llm.answer.too_little``), gives back the deterministic answer with
``answer_note`` saying why and ``fallback`` naming the kind of failure. The result is never
empty and these functions never raise a ``ModelError``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from bot.investigation.compact import estimate_tokens
from bot.investigation.report import Fallback, Report, TokenCounts
from bot.investigation.validate import validate_answer
from bot.llm.answer import (
    ANSWER_SCHEMA,
    Kept,
    Statement,
    check_statement,
    check_statements,
    parse_answer,
    render_statements,
    too_little,
)
from bot.llm.answer_stream import StatementScanner
from bot.llm.budget import Fitted, fit_prompt
from bot.llm.model import ChatModel, Usage
from bot.llm.settings import LlmSettings
from tools.errors import ModelError, ModelOutputError, ModelTimeout, ModelUnavailable
from tools.text import TextPipeline

DEFAULT_PROMPT_BUDGET = 8_000


@dataclass(frozen=True, slots=True)
class WriteLimits:
    timeout_s: float = 60.0
    max_new_tokens: int = 700
    prompt_budget_tokens: int = DEFAULT_PROMPT_BUDGET

    @classmethod
    def from_settings(cls, llm: LlmSettings) -> WriteLimits:
        """From the ``llm`` settings."""
        return cls(
            timeout_s=llm.timeout_s,
            max_new_tokens=llm.max_new_tokens,
            prompt_budget_tokens=llm.prompt_budget_tokens,
        )


def report_services(report: Report) -> set[str]:
    return {c.service for c in report.candidates} | {
        e.service for e in report.evidence if e.service
    }


@dataclass(frozen=True, slots=True)
class Failure:
    """Why the model's answer is not used: its kind (``Report.fallback``) and, for people,
    the words (``Report.answer_note``)."""

    kind: Fallback
    why: str


def model_failure(exc: ModelError) -> Failure:
    """Why the model could not be used."""
    detail = " ".join(str(exc).split())[:200]
    if isinstance(exc, ModelTimeout):
        return Failure(Fallback.TIMEOUT, f"the model did not answer in time ({detail})")
    if isinstance(exc, ModelUnavailable):
        return Failure(Fallback.UNAVAILABLE, f"the model server was unavailable ({detail})")
    if isinstance(exc, ModelOutputError):
        return Failure(Fallback.MALFORMED, f"the model's output was malformed ({detail})")
    return Failure(Fallback.OTHER, f"the model failed ({detail})")


def deadline_passed(seconds: float) -> Failure:
    return Failure(Fallback.TIMEOUT, f"the model did not answer within {seconds:g} s")


def _tokens(
    fitted: Fitted, budget: int, prompt: int, completion: int, estimated: bool
) -> TokenCounts:
    return TokenCounts(
        prompt=prompt,
        completion=completion,
        evidence=0,
        estimated=estimated,
        budget=budget,
        trimmed_evidence=fitted.trimmed,
    )


def fall_back(
    report: Report,
    failure: Failure,
    *,
    model_name: str | None,
    tokens: TokenCounts | None = None,
) -> Report:
    """``report`` with its deterministic answer, saying the model was not used and why."""
    update: dict[str, Any] = {
        "answer_by": "deterministic",
        "answer_note": f"model not used: {failure.why}; deterministic answer shown",
        "model": model_name,
        "fallback": failure.kind,
    }
    if tokens is not None:
        update["tokens"] = tokens.model_copy(update={"evidence": report.tokens.evidence})
    return report.model_copy(update=update)


def with_model_answer(
    report: Report,
    raw: str,
    *,
    model_name: str,
    text: TextPipeline,
    tokens: TokenCounts | None = None,
    require_top: bool = True,
) -> Report:
    """``report`` answered by the model's ``raw`` JSON when enough of it is grounded in
    ``report.evidence``; otherwise :func:`fall_back` with the reason. Never raises.

    ``require_top``: a kept statement must cite the top candidate's evidence (an RCA summary
    must); a question (the agent) may be about something else, so it passes ``False``."""
    try:
        answer = parse_answer(raw)
    except ModelOutputError as exc:
        return fall_back(report, model_failure(exc), model_name=model_name, tokens=tokens)
    by_id = report.evidence_by_id()
    checked = check_statements(
        answer.statements, by_id, report_services(report), text, _top(report)
    )
    dropped = [d.line() for d in checked.dropped]
    top = report.candidates[0].evidence_ids if report.candidates and require_top else []
    reason = too_little(checked, top)
    if reason is None:
        validated = validate_answer(render_statements(checked.kept), by_id.keys())
        if validated.text.strip():
            update: dict[str, Any] = {
                "answer": validated.text,
                "answer_by": "llm",
                "answer_note": f"written by {model_name}; {len(checked.kept)} statements kept, "
                f"{len(dropped) + len(validated.dropped)} dropped",
                "model": model_name,
                "dropped_statements": [*dropped, *validated.dropped],
            }
            if tokens is not None:
                update["tokens"] = tokens.model_copy(update={"evidence": report.tokens.evidence})
            return report.model_copy(update=update)
        reason = "nothing survived validation"
    ungrounded = Failure(Fallback.UNGROUNDED, reason)
    failed = fall_back(report, ungrounded, model_name=model_name, tokens=tokens)
    return failed.model_copy(update={"dropped_statements": [*report.dropped_statements, *dropped]})


async def write_with_model(
    report: Report, model: ChatModel, limits: WriteLimits, text: TextPipeline
) -> Report:
    """One model call (no tools) explaining ``report``; the deterministic answer on failure."""
    final = report
    async with aclosing(stream_with_model(report, model, limits, text, stream=False)) as events:
        async for event in events:
            if isinstance(event, Report):
                final = event
    return final


async def stream_with_model(
    report: Report,
    model: ChatModel,
    limits: WriteLimits,
    text: TextPipeline,
    *,
    stream: bool = True,
) -> AsyncGenerator[Kept | Report, None]:
    """Each grounded statement as it completes (``Kept``), then the final :class:`Report`.

    Streamed statements are provisional: when too little is grounded in the end, the final
    report carries the deterministic answer instead. With ``stream=False`` one
    ``complete_json`` call is made (exact token usage) and only the report is yielded.
    """
    deadline = time.monotonic() + limits.timeout_s
    fitted: Fitted | None = None
    try:
        fitted = await asyncio.wait_for(
            fit_prompt(report, model, limits.prompt_budget_tokens), limits.timeout_s
        )
        if not stream:
            done = await asyncio.wait_for(
                model.complete_json(
                    fitted.messages, ANSWER_SCHEMA, max_new_tokens=limits.max_new_tokens
                ),
                _left(deadline),
            )
            tokens = _tokens(
                fitted,
                limits.prompt_budget_tokens,
                done.usage.prompt_tokens,
                done.usage.completion_tokens,
                False,
            )
            yield with_model_answer(
                report, done.text, model_name=model.name, text=text, tokens=tokens
            )
            return
        scanner = StatementScanner()
        by_id, services = report.evidence_by_id(), report_services(report)
        async with aclosing(
            model.stream_json(fitted.messages, ANSWER_SCHEMA, max_new_tokens=limits.max_new_tokens)
        ) as chunks:  # closed now (its connection too) if our reader stops early
            while True:
                try:
                    chunk = await asyncio.wait_for(anext(chunks), _left(deadline))
                except StopAsyncIteration:
                    break
                for raw in scanner.feed(chunk):
                    kept = grounded_statement(raw, by_id, services, text, _top(report))
                    if kept is not None:
                        yield kept
        usage = getattr(model, "last_usage", None)  # a served model's count of the stream
        if isinstance(usage, Usage):
            counted = (usage.prompt_tokens, usage.completion_tokens, False)
        else:
            counted = (fitted.prompt_tokens, estimate_tokens(scanner.text), True)
        tokens = _tokens(fitted, limits.prompt_budget_tokens, *counted)
        yield with_model_answer(
            report, scanner.text, model_name=model.name, text=text, tokens=tokens
        )
    except TimeoutError:
        late = deadline_passed(limits.timeout_s)
        yield fall_back(report, late, model_name=model.name, tokens=_spent(fitted, limits))
    except ModelError as exc:
        yield fall_back(
            report, model_failure(exc), model_name=model.name, tokens=_spent(fitted, limits)
        )


def _left(deadline: float) -> float:
    return max(0.001, deadline - time.monotonic())


def _spent(fitted: Fitted | None, limits: WriteLimits) -> TokenCounts | None:
    if fitted is None:
        return None
    return _tokens(fitted, limits.prompt_budget_tokens, fitted.prompt_tokens, 0, fitted.estimated)


def _top(report: Report) -> str | None:
    return report.candidates[0].service if report.candidates else None


def grounded_statement(
    raw: dict[str, Any],
    by_id: dict[str, Any],
    services: set[str],
    text: TextPipeline,
    top: str | None,
) -> Kept | None:
    try:
        statement = Statement.model_validate(raw)
    except ValueError:
        return None
    result = check_statement(statement, by_id, services, text, top)
    return result if isinstance(result, Kept) else None
