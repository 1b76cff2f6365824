"""The prompt budget: the evidence given the model, trimmed by score to fit, counted for real.

``fit_prompt(report, model, budget) -> Fitted`` counts the prompt with the served model's
tokenizer (``ChatModel.count_tokens``); when that fails it estimates
(``bot.investigation.compact.estimate_tokens``) and says so (``Fitted.estimated``). Evidence is
dropped lowest score first until the prompt fits, but never the alert item or the top
candidate's evidence (``protected_ids``): a prompt of only those may exceed the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.investigation.compact import estimate_tokens
from bot.investigation.report import Report
from bot.llm.answer_prompt import answer_messages
from bot.llm.model import ChatModel, Message
from tools.errors import ModelError
from tools.evidence import Evidence

MESSAGE_OVERHEAD = 4  # tokens a chat template adds per message (role markers), estimated


@dataclass(frozen=True, slots=True)
class Fitted:
    messages: list[Message]
    evidence: list[Evidence]  # what the prompt carries
    trimmed: list[str]  # evidence ids left out, in the order they were dropped
    prompt_tokens: int
    estimated: bool  # prompt_tokens is an estimate (the model could not count)


def estimate_messages(messages: Sequence[Message]) -> int:
    return sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD for m in messages)


def protected_ids(report: Report) -> set[str]:
    """Evidence never trimmed: the alert, and the top candidate's items."""
    keep = {e.id for e in report.evidence if e.source.value == "alert"}
    if report.candidates:
        keep.update(report.candidates[0].evidence_ids)
    return keep


def _trim_order(report: Report) -> list[Evidence]:
    """Trimmable evidence, first to go first: lowest score, then latest numbered."""
    keep = protected_ids(report)
    rest = [e for e in report.evidence if e.id not in keep]
    return sorted(rest, key=lambda e: (e.score, -int(e.id[1:])))


async def _count(model: ChatModel, messages: Sequence[Message]) -> tuple[int, bool]:
    try:
        return await model.count_tokens(messages), False
    except ModelError:
        return estimate_messages(messages), True


async def fit_prompt(report: Report, model: ChatModel, budget: int) -> Fitted:
    """The answer prompt for ``report`` within ``budget`` prompt tokens (see the module doc)."""
    evidence = list(report.evidence)
    trimmed: list[str] = []
    messages = answer_messages(report, evidence)
    tokens, estimated = await _count(model, messages)
    order = _trim_order(report)
    while tokens > budget and order:  # each round drops at least one item: bounded
        # drop, by the estimate scaled to the real count, as many items as should make it fit
        scale = tokens / max(1, estimate_messages(messages))
        excess = tokens - budget
        while order and excess > 0:
            item = order.pop(0)
            trimmed.append(item.id)
            excess -= int(estimate_tokens(item.model_dump_json()) * scale * 0.5) + 1
        evidence = [e for e in report.evidence if e.id not in trimmed]
        messages = answer_messages(report, evidence, len(trimmed))
        if estimated:
            tokens = estimate_messages(messages)
        else:
            tokens, estimated = await _count(model, messages)
    return Fitted(messages, evidence, trimmed, tokens, estimated)
