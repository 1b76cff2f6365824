"""What the ``rcabot`` commands share: their common options, the console, the settings and
how a report is printed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bot import commands
from bot.config import Settings, load_settings
from bot.investigation.progress import Progress
from bot.investigation.report import Report
from bot.render.terminal import print_report

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML config file.", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the whole Report as JSON.")]
BundleOption = Annotated[Path, typer.Option("--bundle", help="Telemetry bundle directory.")]
NoLlmOption = Annotated[
    bool, typer.Option("--no-llm", help="Do not ask the configured model: deterministic answer.")
]
ReferenceFromOption = Annotated[
    str | None,
    typer.Option(
        "--reference-from",
        help="ISO 8601 start of a healthy period to compare against (normal behaviour).",
        show_default=False,
    ),
]
ReferenceToOption = Annotated[
    str | None,
    typer.Option("--reference-to", help="ISO 8601 end of that period.", show_default=False),
]
ProgressOption = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Show progress on stderr (default: when stderr is a terminal).",
        show_default=False,
    ),
]

stdout = Console(soft_wrap=False)


def settings_from(config: Path | None) -> Settings:
    return load_settings(config)


def emit(report: Report, as_json: bool, queries: bool = True) -> None:
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        print_report(report, stdout, show_queries=queries)
        if report.answer_note:
            stdout.print(f"[dim]answer_by: {report.answer_by} — {escape(report.answer_note)}[/dim]")


def progress_to_stderr(show: bool | None) -> commands.OnProgress | None:
    """Progress lines on stderr (never stdout: ``--json`` stays clean)."""
    if not (sys.stderr.isatty() if show is None else show):
        return None
    err = Console(stderr=True, soft_wrap=True, highlight=False)

    def show_event(event: Progress) -> None:
        if event.kind != "report":
            err.print(f"[dim]{escape(event.line())}[/dim]")

    return show_event
