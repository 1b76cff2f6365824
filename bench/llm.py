"""The model writer over the demo's faults and the Nezha cases, printed as a table.

    python bench/llm.py                          # serves SmolLM2-135M with llama.cpp itself
    python bench/llm.py --url http://gpu:8080 --model meta-llama/Llama-3.1-8B-Instruct
    python bench/llm.py --no-nezha               # the demo faults only

Each case is investigated deterministically first (exactly as ``rcabot demo`` / ``rcabot
investigate`` do, without a model); then the model writes the answer from the report's evidence
(:func:`write_measured`) and the bench records: prompt tokens (the served model's count), the
statements kept and dropped by the grounding check, whether the deterministic answer was used
instead and why, the latency to the first progress (the first statement the stream completes)
and to the full answer.

Without ``--url`` the bench starts llama-cpp-python's OpenAI-compatible server on the
SmolLM2-135M-Instruct GGUF that ``make model`` fetches (the same server the tests use): a real
model, but a tiny one, so expect many dropped statements and fallbacks: the figures measure the
wire path and the guard rails, not answer quality. With ``--url`` point it at any
OpenAI-compatible server (TGI's Messages API, vLLM, SGLang, llama.cpp). Goals (issue 9): prompt
≤ 8k tokens p95; full answer p95 ≤ 20 s with an 8B model on one GPU. Figures are printed, not
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.commands import investigate_bundle, run_demo  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.demo import FAULTS  # noqa: E402
from bot.importers.nezha import import_nezha  # noqa: E402
from bot.investigation.report import Report  # noqa: E402
from bot.llm.model import ChatModel  # noqa: E402
from bot.llm.openai_compat import OpenAICompatModel  # noqa: E402
from bot.llm.settings import LlmApi, LlmSettings  # noqa: E402
from bot.llm.tgi import TgiModel  # noqa: E402
from bot.llm.writer import WriteLimits, stream_with_model  # noqa: E402
from tools.text import TextPipeline  # noqa: E402

NEZHA = REPO.parent / "shared" / "datasets" / "nezha-tt-2023-01-29.tar.xz"
SEED = 7
LOCAL_CONTEXT = 8192  # SmolLM2's context; prompt budget + new tokens must fit in it


@dataclass(frozen=True)
class Case:
    name: str
    report: Report  # the deterministic investigation's report


@dataclass(frozen=True)
class Row:
    """What one model-written answer cost and what came of it."""

    case: str
    prompt_tokens: int
    estimated: bool  # some token count is an estimate (a stream's completion always is)
    trimmed: int  # evidence items left out to fit the budget
    kept: int  # grounded statements streamed
    dropped: int  # statements the grounding check removed
    fallback: str | None  # why the deterministic answer was used, or None
    first_s: float  # to the writer's first progress event (a statement, or the final report)
    full_s: float


def make_model(llm: LlmSettings) -> ChatModel:
    return TgiModel(llm) if llm.api == "tgi" else OpenAICompatModel(llm)


def _reason(note: str) -> str:
    """The reason in the writer's "model not used: <reason>; deterministic answer shown"."""
    return note.removeprefix("model not used: ").removesuffix("; deterministic answer shown")


async def write_measured(
    report: Report, model: ChatModel, limits: WriteLimits, text: TextPipeline, name: str
) -> Row:
    """The writer (``bot.llm.writer.stream_with_model``) on ``report``, measured."""
    started = time.perf_counter()
    first: float | None = None
    kept = 0
    final = report
    async for event in stream_with_model(report, model, limits, text):
        if first is None:
            first = time.perf_counter() - started
        if isinstance(event, Report):
            final = event
        else:
            kept += 1
    full = time.perf_counter() - started
    used = final.answer_by == "llm"
    return Row(
        case=name,
        prompt_tokens=final.tokens.prompt,
        estimated=final.tokens.estimated,
        trimmed=len(final.tokens.trimmed_evidence),
        kept=kept,
        dropped=len(final.dropped_statements) - len(report.dropped_statements),
        fallback=None if used else _reason(final.answer_note),
        first_s=full if first is None else first,
        full_s=full,
    )


# --- the cases ---------------------------------------------------------------------------------


def without_model(settings: Settings) -> Settings:
    """``settings`` with no model configured: the investigation stays deterministic."""
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"url": None})})


async def demo_cases(settings: Settings, out: Path) -> list[Case]:
    cases = []
    for fault in FAULTS:
        run = await run_demo(settings, out / fault, fault, SEED, use_llm=False)
        cases.append(Case(f"demo:{fault}", run.report))
    return cases


async def nezha_cases(settings: Settings, source: Path, out: Path, limit: int | None) -> list[Case]:
    imported = sorted(import_nezha(source, out), key=lambda c: c.case_dir)[:limit]
    cases = []
    for case in imported:
        report = await investigate_bundle(settings, case.case_dir / "bundle", use_llm=False)
        cases.append(Case(f"nezha:{case.case_dir.name}", report))
    return cases


# --- the table ---------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def print_table(rows: Sequence[Row], model: str) -> None:
    print(f"\nmodel: {model}\n")
    print(
        f"{'case':<46}{'prompt':>8}{'trim':>6}{'kept':>6}{'drop':>6}"
        f"{'first s':>9}{'full s':>8}  answer"
    )
    for r in rows:
        first = f"{r.first_s:.2f}"
        count = f"{r.prompt_tokens}{'~' if r.estimated else ''}"
        print(
            f"{r.case[:45]:<46}{count:>8}{r.trimmed:>6}{r.kept:>6}{r.dropped:>6}"
            f"{first:>9}{r.full_s:>8.2f}  {'fallback' if r.fallback else 'llm'}"
        )
    if not rows:
        return
    tokens = [float(r.prompt_tokens) for r in rows]
    full = [r.full_s for r in rows]
    firsts = [r.first_s for r in rows]
    print(f"\n{len(rows)} answers ({sum(r.estimated for r in rows)} with an estimated count)")
    print(f"prompt tokens     p50 {statistics.median(tokens):.0f}   p95 {pct(tokens, 0.95):.0f}")
    print(
        f"statements        kept {sum(r.kept for r in rows)}   dropped "
        f"{sum(r.dropped for r in rows)}"
    )
    print(
        f"first progress    p50 {statistics.median(firsts):.2f} s   p95 {pct(firsts, 0.95):.2f} s"
    )
    print(f"full answer       p50 {statistics.median(full):.2f} s   p95 {pct(full, 0.95):.2f} s")
    reasons = Counter(r.fallback for r in rows if r.fallback)
    print(f"fallbacks         {sum(reasons.values())} of {len(rows)}")
    for reason, times in reasons.most_common():
        print(f"  {times:>3} × {reason}")


# --- main --------------------------------------------------------------------------------------


@contextlib.contextmanager
def served(url: str | None) -> Iterator[tuple[str, str | None]]:
    """The model server's base URL, and the model it serves when the bench started it."""
    if url is not None:
        yield url, None
        return
    from tests.servers.llamacpp import missing, running_llamacpp

    why = missing()
    if why is not None:
        sys.exit(f"{why}: run `make model`, or give --url")
    started = time.perf_counter()
    with running_llamacpp(context_tokens=LOCAL_CONTEXT) as server:
        print(
            f"llama.cpp server with {server.model} ready in {time.perf_counter() - started:.1f} s"
        )
        yield server.url, server.model


async def investigate_all(args: argparse.Namespace, settings: Settings) -> list[Case]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        cases = [] if args.no_demo else await demo_cases(settings, Path(tmp) / "demo")
        if not args.no_nezha:
            if args.nezha.exists():
                cases += await nezha_cases(settings, args.nezha, Path(tmp) / "nezha", args.limit)
            else:
                print(f"(no Nezha cases: {args.nezha} is missing)")
        elapsed = time.perf_counter() - started
        print(f"investigated {len(cases)} cases in {elapsed:.1f} s", flush=True)
    return cases


async def write_all(cases: Sequence[Case], llm: LlmSettings, text: TextPipeline) -> list[Row]:
    model = make_model(llm)
    limits = WriteLimits.from_settings(llm)
    rows = []
    try:
        for case in cases:
            rows.append(await write_measured(case.report, model, limits, text, case.name))
            print(f"  {case.name}: {rows[-1].full_s:.1f} s", flush=True)
    finally:
        await model.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="model server base URL, without /v1 (default: start one)")
    parser.add_argument("--api", choices=("openai", "tgi"), default="openai")
    parser.add_argument("--model", default="tgi", help="model name to send (with --url)")
    parser.add_argument("--nezha", type=Path, default=NEZHA, help="Nezha archive or directory")
    parser.add_argument("--no-nezha", action="store_true", help="the demo faults only")
    parser.add_argument("--no-demo", action="store_true", help="the Nezha cases only")
    parser.add_argument("--limit", type=int, help="at most this many Nezha cases")
    parser.add_argument("--budget", type=int, help="prompt budget in tokens (default 8000)")
    parser.add_argument("--max-new-tokens", type=int, default=700)
    parser.add_argument("--timeout", type=float, default=120.0, help="per answer, seconds")
    args = parser.parse_args()
    settings = load_settings()
    cases = asyncio.run(investigate_all(args, without_model(settings)))
    text = TextPipeline.from_settings(settings.redaction)
    with served(args.url) as (url, served_model):
        budget = args.budget or (8_000 if args.url else LOCAL_CONTEXT - args.max_new_tokens - 64)
        api: LlmApi = args.api
        llm = LlmSettings(
            url=url,
            api=api,
            model=served_model or args.model,
            timeout_s=args.timeout,
            max_new_tokens=args.max_new_tokens,
            prompt_budget_tokens=budget,
        )
        rows = asyncio.run(write_all(cases, llm, text))
    print_table(rows, f"{llm.api}:{llm.model} at {url} (prompt budget {budget})")


if __name__ == "__main__":
    main()
