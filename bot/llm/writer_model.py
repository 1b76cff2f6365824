"""Which model (if any) writes an investigation's answer, for the CLI and the bot.

``async with answer_model(llm, use_llm=...) as chosen:`` gives ``chosen.model`` (a
``ChatModel`` or ``None``), the ``WriteLimits`` from the settings, and ``chosen.note``: why
there is no model (``--no-llm``, not configured, could not be created; only the last is a
``fallback``). The model is closed on exit. ``chosen.finish(report)`` puts that note (and the
fallback) on a deterministic report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.investigation.report import Fallback, Report
from bot.llm.model import ChatModel
from bot.llm.settings import LlmSettings
from bot.llm.writer import WriteLimits, model_failure
from tools.errors import ModelError


@dataclass(frozen=True, slots=True)
class ChosenModel:
    model: ChatModel | None
    limits: WriteLimits
    note: str  # why no model, when there is none
    fallback: Fallback | None = None  # one was configured and could not be created

    def finish(self, report: Report) -> Report:
        if self.model is not None or report.answer_by != "deterministic":
            return report
        return report.model_copy(update={"answer_note": self.note, "fallback": self.fallback})


@asynccontextmanager
async def answer_model(llm: LlmSettings, *, use_llm: bool = True) -> AsyncIterator[ChosenModel]:
    limits = WriteLimits.from_settings(llm)
    if not use_llm:
        yield ChosenModel(None, limits, "model not used: --no-llm")
        return
    if not llm.url:
        yield ChosenModel(None, limits, "no model configured (llm.url is not set)")
        return
    from bot.llm.factory import model_from_settings  # the clients are imported only when used

    try:
        model = model_from_settings(llm)
    except ModelError as exc:
        failure = model_failure(exc)
        note = f"model not used: {failure.why}; deterministic answer shown"
        yield ChosenModel(None, limits, note, failure.kind)
        return
    try:
        yield ChosenModel(model, limits, "" if model else "no model configured")
    finally:
        if model is not None:
            await model.aclose()
