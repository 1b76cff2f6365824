from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.investigation.engine import investigate, investigate_stream
from bot.investigation.report import CITATION, Fallback, Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.sources import bundle_sources
from bot.llm.budget import fit_prompt, protected_ids
from bot.llm.writer import WriteLimits, stream_with_model, write_with_model
from tests.bot.llm.fakes import FakeModel, statements
from tests.bundles import small_incident
from tools.errors import ModelError, ModelOutputError, ModelTimeout, ModelUnavailable
from tools.text import TextPipeline

TEXT = TextPipeline()


@pytest.fixture
async def base(tmp_path: Path) -> Report:
    sources = await bundle_sources(small_incident(tmp_path / "b"), load_settings())
    return await investigate(
        InvestigationRequest(alert=sources.alert), sources.deps, sources.window
    )


def _good(report: Report) -> str:
    top = report.candidates[0].evidence_ids[0]
    return statements((report.evidence_by_id()[top].title, [top]))


async def test_a_grounded_answer_is_used_with_citations_and_real_tokens(base: Report) -> None:
    report = await write_with_model(base, FakeModel(_good(base)), WriteLimits(), TEXT)
    assert report.answer_by == "llm" and report.model == "fake:scripted"
    assert CITATION.search(report.answer)
    assert report.tokens.prompt > 0 and report.tokens.completion > 0
    assert not report.tokens.estimated
    assert report.candidates == base.candidates and report.evidence == base.evidence


@pytest.mark.parametrize(
    ("reply", "reason", "kind"),
    [
        (ModelUnavailable("connection refused"), "unavailable", Fallback.UNAVAILABLE),
        (ModelTimeout("read timeout"), "did not answer in time", Fallback.TIMEOUT),
        (ModelOutputError("bad grammar"), "malformed", Fallback.MALFORMED),
        (ModelError("a new kind of failure"), "the model failed", Fallback.OTHER),
        ("not json at all", "malformed", Fallback.MALFORMED),
        ('{"statements": "nope"}', "malformed", Fallback.MALFORMED),
        (statements(("api failed", ["E999"])), "no statement was grounded", Fallback.UNGROUNDED),
        ('{"statements": []}', "no statements", Fallback.UNGROUNDED),
        (
            statements(("api error ratio rose to 77% at 23:59", ["E2"])),
            "no statement",
            Fallback.UNGROUNDED,
        ),
    ],
)
async def test_every_failure_falls_back_with_one_line_why_and_its_kind(
    base: Report, reply: str | Exception, reason: str, kind: Fallback
) -> None:
    report = await write_with_model(base, FakeModel(reply), WriteLimits(), TEXT)
    assert report.answer_by == "deterministic"
    assert report.answer == base.answer and report.answer.strip()
    assert reason in report.answer_note and "\n" not in report.answer_note
    assert report.fallback is kind


async def test_slow_past_the_deadline_falls_back(base: Report) -> None:
    model = FakeModel(_good(base), delay_s=2.0)
    report = await write_with_model(base, model, WriteLimits(timeout_s=0.05), TEXT)
    assert report.answer_by == "deterministic"
    assert "did not answer within 0.05 s" in report.answer_note
    assert report.fallback is Fallback.TIMEOUT


async def test_a_statement_that_skips_the_top_candidate_is_not_enough(base: Report) -> None:
    other = next(e for e in base.evidence if e.id not in base.candidates[0].evidence_ids)
    report = await write_with_model(
        base, FakeModel(statements((other.title, [other.id]))), WriteLimits(), TEXT
    )
    assert report.answer_by == "deterministic"
    assert "top candidate" in report.answer_note
    assert report.fallback is Fallback.UNGROUNDED


async def test_count_failure_is_estimated_and_flagged(base: Report) -> None:
    model = FakeModel(_good(base), count_error=ModelUnavailable("no /tokenize"))
    # one call: the answer's usage replaces the estimate the budget was fitted with
    report = await write_with_model(base, model, WriteLimits(), TEXT)
    assert report.answer_by == "llm" and not report.tokens.estimated
    assert report.tokens.prompt > 0
    # streamed by a model that reports no usage: the counts stay estimates, and say so
    streamed = [e async for e in stream_with_model(base, model, WriteLimits(), TEXT)]
    final = streamed[-1]
    assert isinstance(final, Report) and final.answer_by == "llm" and final.tokens.estimated


@pytest.mark.parametrize("budget", [50, 800, 1500, 2500])
async def test_budget_trims_by_score_never_the_alert_or_top_candidate(
    base: Report, budget: int
) -> None:
    model = FakeModel(_good(base))
    fitted = await fit_prompt(base, model, budget)
    kept = {e.id for e in fitted.evidence}
    assert protected_ids(base) <= kept
    assert fitted.prompt_tokens == await model.count_tokens(fitted.messages)
    fits_at_all = len(kept) > len(protected_ids(base))
    assert fitted.prompt_tokens <= budget or not fits_at_all
    dropped = [e for e in base.evidence if e.id in fitted.trimmed]
    for gone in dropped:  # nothing kept scores lower than something trimmed (bar protected)
        assert all(
            e.score >= gone.score for e in fitted.evidence if e.id not in protected_ids(base)
        )


async def test_streaming_order_stages_then_statements_then_report(tmp_path: Path) -> None:
    sources = await bundle_sources(small_incident(tmp_path / "b"), load_settings())
    base = await investigate(
        InvestigationRequest(alert=sources.alert), sources.deps, sources.window
    )
    model = FakeModel(json.dumps(json.loads(_good(base))), chunk=3)
    events = [
        e
        async for e in investigate_stream(
            InvestigationRequest(alert=sources.alert), sources.deps, sources.window, model=model
        )
    ]
    kinds = [e.kind for e in events]
    assert kinds[-1] == "report" and kinds.count("report") == 1
    assert kinds.index("statement") > max(i for i, k in enumerate(kinds) if k == "stage")
    stages = [e.stage for e in events if e.kind == "stage"]
    assert stages[:4] == ["scope", "metrics", "gather", "rank"] and stages[-1] == "model"
    final = events[-1].report
    assert final is not None and final.answer_by == "llm"
    assert [kind for kind, _ in model.calls] == ["stream_json"]
    assert final.tokens.estimated  # a stream reports no usage: the completion is estimated


async def test_a_reader_that_stops_early_closes_the_model_stream_at_once(
    tmp_path: Path,
) -> None:
    """Leaving the investigation's stream closes the model's (a connection), not at GC."""
    sources = await bundle_sources(small_incident(tmp_path / "b"), load_settings())
    request = InvestigationRequest(alert=sources.alert)
    base = await investigate(request, sources.deps, sources.window)
    model = FakeModel(json.dumps(json.loads(_good(base))), chunk=3)
    stream = investigate_stream(request, sources.deps, sources.window, model=model)
    async for event in stream:
        if event.kind == "statement":
            break
    assert model.open_streams == 1  # the reader stopped mid-answer
    await stream.aclose()
    assert model.open_streams == 0
