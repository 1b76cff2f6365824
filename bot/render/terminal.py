"""Render a :class:`Report` for a terminal with rich."""

from __future__ import annotations

import re

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.investigation.report import Report

# Bold as Slack's mrkdwn writes it: asterisks at the edges of words, around text that starts
# and ends with a non-space; a log template's "<*> took <*>ms" stays as written.
_BOLD = re.compile(r"(?<![\w<*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w>*])")


def _answer_markup(answer: str) -> str:
    text = escape(answer)
    text = _BOLD.sub(r"[bold]\1[/bold]", text)
    return re.sub(r"\\?\[(E\d+)\\?\]", r"[cyan]\[\1][/cyan]", text)


def render_report(report: Report, *, show_queries: bool = True) -> RenderableType:
    parts: list[RenderableType] = []
    header = Text.assemble(
        ("Question: ", "bold"),
        report.question,
        "\n",
        ("Scope: ", "bold"),
        report.scope,
        "   ",
        ("Window: ", "bold"),
        f"{report.window.start:%Y-%m-%d %H:%M} – {report.window.end:%H:%M} UTC   ",
        ("Incident start: ", "bold"),
        report.incident_start[11:19],
    )
    parts.append(Panel(header, title="rcabot investigation", border_style="blue"))
    answer = report.answer or "No answer: no evidence strong enough to cite."
    parts.append(
        Panel(
            Text.from_markup(_answer_markup(answer)),
            title=f"Answer ({report.answer_by})",
            border_style="green",
        )
    )

    candidates = Table(title="Ranked candidates", expand=True)
    for col in ("#", "service", "fault", "score", "evidence", "signals"):
        candidates.add_column(col, overflow="fold")
    for c in report.candidates:
        signals = ", ".join(
            f"{k} {v:.2f}" for k, v in sorted(c.signals.items(), key=lambda kv: -kv[1])[:3]
        )
        candidates.add_row(
            str(c.rank),
            c.service,
            c.fault_type.value,
            f"{c.score:.2f}",
            " ".join(c.evidence_ids[:6]),
            signals,
        )
    parts.append(candidates)

    evidence = Table(title="Evidence", expand=True, show_lines=show_queries)
    for col, ratio in (("id", 1), ("source", 2), ("service", 3), ("finding", 12)):
        evidence.add_column(col, ratio=ratio, overflow="fold")
    for e in report.evidence:
        finding = Text(e.summary)
        if show_queries:
            finding.append(f"\nquery: {e.query}", style="dim")
            if e.link:
                finding.append(f"\nlink:  {e.link}", style="dim underline")
        evidence.add_row(e.id, e.source.value, e.service or "", finding)
    parts.append(evidence)

    sources = Table(title="Sources", expand=True)
    for col in ("source", "backend", "status", "evidence", "ms", "detail"):
        sources.add_column(col, overflow="fold")
    for s in report.sources:
        status = Text("ok", "green") if s.ok else Text("FAILED", "bold red")
        sources.add_row(
            s.source, s.backend, status, str(s.evidence_count), f"{s.elapsed_ms:.0f}", s.detail
        )
    parts.append(sources)

    footer = Text()
    timings = "  ".join(f"{t.stage} {t.ms:.0f} ms" for t in report.timings)
    footer.append(f"Timings: {timings}\n", "dim")
    footer.append(f"Evidence for a model: ~{report.tokens.evidence} tokens\n", "dim")
    for w in report.warnings:
        footer.append(f"warning: {w}\n", "yellow")
    for d in report.dropped_statements:
        footer.append(f"dropped (uncited): {d}\n", "yellow")
    parts.append(footer)
    return Group(*parts)


def print_report(report: Report, console: Console, *, show_queries: bool = True) -> None:
    console.print(render_report(report, show_queries=show_queries))
