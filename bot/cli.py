"""The ``rcabot`` command line: wiring only; the work lives in ``bot.commands`` and
``bot.ask_commands``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot import ask_commands, commands
from bot.cli_options import (
    BundleOption,
    ConfigOption,
    JsonOption,
    NoLlmOption,
    ProgressOption,
    ReferenceFromOption,
    ReferenceToOption,
    emit,
    progress_to_stderr,
    settings_from,
    stdout,
)
from bot.cli_postmortems import ingest, search
from bot.config_check import check_settings
from bot.demo import DEFAULT_FAULT, DEFAULT_SEED, FAULTS
from bot.investigation.conversation import (
    Conversation,
    Turn,
    read_conversation,
    write_conversation,
)
from bot.investigation.report import Report
from bot.loader.bundle import investigation_config, load_to_backends
from tools.errors import RcabotError

DEFAULT_DEMO_DIR = Path(".cache/rcabot/demo")

app = typer.Typer(
    name="rcabot",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Investigate production incidents from logs, metrics and traces.",
)
config_app = typer.Typer(no_args_is_help=True, help="Configuration.")
import_app = typer.Typer(no_args_is_help=True, help="Convert public datasets into bundles.")
app.add_typer(config_app, name="config")
app.add_typer(import_app, name="import")


@app.command()
def demo(
    fault: Annotated[str, typer.Option(help=f"One of: {', '.join(FAULTS)}.")] = DEFAULT_FAULT,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same data.")] = DEFAULT_SEED,
    out: Annotated[Path, typer.Option(help="Where to generate the case.")] = DEFAULT_DEMO_DIR,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    no_llm: NoLlmOption = False,
    progress: ProgressOption = None,
) -> None:
    """Generate a demo incident (offline) and investigate it."""
    run = asyncio.run(
        commands.run_demo(
            settings_from(config),
            out,
            fault,
            seed,
            use_llm=not no_llm,
            on_progress=progress_to_stderr(progress),
        )
    )
    emit(run.report, as_json)
    if not as_json:
        top = run.report.candidates[0].service if run.report.candidates else "nothing"
        truth = run.label.get("service", "?")
        verdict = "[green]correct[/green]" if top == truth else "[red]missed[/red]"
        stdout.print(
            f"Bundle: {run.bundle_dir}  (generated in {run.seconds_generate:.1f}s)\n"
            f"Ground truth (kept outside the bundle, read after the investigation): "
            f"{truth} / {run.label.get('fault_type')} — ranked first: {top} {verdict}"
        )


@app.command()
def investigate(
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle", help="Telemetry bundle directory; omit to use the configured backends."
        ),
    ] = None,
    alert: Annotated[Path | None, typer.Option(help="Alertmanager webhook JSON file.")] = None,
    service: Annotated[str | None, typer.Option(help="Service to investigate.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="ISO 8601 start.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO 8601 end.")] = None,
    reference_from: ReferenceFromOption = None,
    reference_to: ReferenceToOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    no_llm: NoLlmOption = False,
    progress: ProgressOption = None,
) -> None:
    """Investigate an alert or a service: in a bundle, or through the configured backends.

    Normal behaviour is --reference-from/--reference-to when given, else the bundle's
    reference period, else (live backends) the same window reference_offset_hours earlier."""
    settings = settings_from(config)
    shown = progress_to_stderr(progress)
    if bundle is None:
        report = asyncio.run(
            commands.investigate_live(
                settings,
                alert_file=alert,
                service=service,
                start=start,
                end=end,
                use_llm=not no_llm,
                on_progress=shown,
                reference_from=reference_from,
                reference_to=reference_to,
            )
        )
    else:
        report = asyncio.run(
            commands.investigate_bundle(
                settings,
                bundle,
                alert_file=alert,
                service=service,
                start=start,
                end=end,
                use_llm=not no_llm,
                on_progress=shown,
                reference_from=reference_from,
                reference_to=reference_to,
            )
        )
    emit(report, as_json)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in plain words.")],
    bundle: BundleOption,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            help="JSON conversation so far (earlier questions, answers, evidence): a follow-up.",
        ),
    ] = None,
    save_history: Annotated[
        Path | None,
        typer.Option("--save-history", help="Write the conversation with this turn, as JSON."),
    ] = None,
    no_llm: NoLlmOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    reference_from: ReferenceFromOption = None,
    reference_to: ReferenceToOption = None,
) -> None:
    """Ask a question about a telemetry bundle (the model's agent answers when configured)."""
    settings = settings_from(config)
    earlier = read_conversation(history) if history else None
    report = asyncio.run(
        ask_commands.ask_bundle(
            settings,
            bundle,
            question,
            history=earlier,
            use_llm=not no_llm,
            reference_from=reference_from,
            reference_to=reference_to,
        )
    )
    emit(report, as_json)
    if save_history is not None:
        write_conversation(save_history, (earlier or Conversation()).then(Turn.from_report(report)))


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 3000,
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle",
            help="Investigate this telemetry bundle instead of the configured backends "
            "(demos, tests, drills).",
        ),
    ] = None,
    socket: Annotated[
        bool,
        typer.Option("--socket", help="Socket Mode (slack.app_token) instead of HTTP events."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run the Slack bot: HTTP (/slack/events, /alertmanager, /healthz) or Socket Mode."""
    from bot.serve import serve as run_bot  # Slack, uvicorn: imported only to serve

    settings = settings_from(config)
    asyncio.run(run_bot(settings, host=host, port=port, bundle=bundle, socket=socket))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the Report that --json prints."""
    sys.stdout.write(json.dumps(Report.model_json_schema(), indent=2) + "\n")


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration and probe every configured backend."""
    settings = settings_from(config)
    checks = asyncio.run(check_settings(settings))
    table = Table(title="rcabot configuration")
    for col in ("backend", "status", "detail"):
        table.add_column(col, overflow="fold")
    for check in checks:
        status = (
            "[green]ok[/green]"
            if check.ok
            else "[red]FAILED[/red]"
            if check.configured
            else "[dim]off[/dim]"
        )
        table.add_row(check.name, status, check.detail)
    stdout.print("Configuration is valid.")
    stdout.print(table)
    if any(c.configured and not c.ok for c in checks):
        raise typer.Exit(1)


@import_app.command("nezha")
def import_nezha(
    source: Annotated[Path, typer.Argument(help="Nezha archive (.tar.xz) or unpacked dir.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the bundles.")],
    case: Annotated[
        list[str] | None, typer.Option(help="Only cases whose id contains this.")
    ] = None,
) -> None:
    """Convert Nezha fault cases (TrainTicket, OnlineBoutique): a bundle + label.json each."""
    from bot.importers.nezha import import_nezha as run_import

    try:
        cases = run_import(source, out, cases=case or None)
    except (ValueError, OSError) as exc:
        raise RcabotError(f"import nezha: {exc}") from exc
    for item in cases:
        note = f"  ({len(item.warnings)} warnings)" if item.warnings else ""
        stdout.print(f"{item.case_id}: {item.bundle_dir}{note}")
    stdout.print(f"{len(cases)} cases written to {out}")


app.command()(ingest)
app.command()(search)


@app.command()
def load(
    bundle: Annotated[Path, typer.Argument(help="Telemetry bundle directory.")],
    to_backends: Annotated[
        bool,
        typer.Option(
            "--to-backends", help="Write into the configured backends (required: this writes)."
        ),
    ] = False,
    elasticsearch_url: Annotated[
        str | None, typer.Option(help="Elasticsearch to index logs into (default: logs.url).")
    ] = None,
    index: Annotated[str | None, typer.Option(help="Index for the logs.")] = None,
    prometheus_data_dir: Annotated[
        Path | None, typer.Option(help="Prometheus data directory to backfill (promtool).")
    ] = None,
    otlp_url: Annotated[
        str | None, typer.Option(help="OTLP/HTTP receiver (Jaeger collector, Tempo) for spans.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Push a bundle into Elasticsearch, Prometheus and Jaeger/Tempo, to investigate it there."""
    if not to_backends:
        raise RcabotError("rcabot load writes into your backends: pass --to-backends to confirm")
    overrides = {
        "elasticsearch_url": elasticsearch_url,
        "index": index,
        "prometheus_data_dir": prometheus_data_dir,
        "otlp_url": otlp_url,
    }
    settings = commands.with_load_targets(settings_from(config), overrides)
    report = asyncio.run(load_to_backends(settings, bundle))
    for source, what in report.loaded.items():
        stdout.print(f"[green]{source}[/green]: {escape(what)}")
    for source, why in report.skipped.items():
        stdout.print(f"[dim]{source}: skipped, {escape(why)}[/dim]")
    for source, error in report.failed.items():
        stdout.print(f"[red]{source}: FAILED[/red] {escape(error)}")
    if report.loaded:
        stdout.print("\nTo investigate what was loaded, put this in rcabot.yaml:\n")
        sys.stdout.write(investigation_config(settings, report))
    if not report.ok:
        raise typer.Exit(1)


def _usage_errors() -> tuple[type[Exception], ...]:
    """The exceptions the argument parser raises for a usage error (bad option, missing
    argument, bad value). Typer ≥ 0.20 raises them from its own copy of click, all subclasses
    of ``typer.TyperException``; older typer raised ``click.ClickException``."""
    kinds: list[type[Exception]] = []
    vendored = getattr(typer, "TyperException", None)
    if isinstance(vendored, type) and issubclass(vendored, Exception):
        kinds.append(vendored)
    try:
        import click
    except ImportError:  # pragma: no cover - typer without click
        pass
    else:
        kinds.append(click.ClickException)
    return tuple(kinds)


def _aborts() -> tuple[type[BaseException], ...]:
    kinds: list[type[BaseException]] = [typer.Abort, KeyboardInterrupt]
    try:
        import click
    except ImportError:  # pragma: no cover
        pass
    else:
        kinds.append(click.Abort)
    return tuple(kinds)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and exit: 0 ok, 1 a check failed,
    2 bad input (one line on stderr saying what and where), 70 a bug, 130 interrupted."""
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    try:
        # standalone_mode=False: click returns an Exit's code instead of calling sys.exit
        args = list(argv) if argv is not None else None
        result = app(args=args, prog_name="rcabot", standalone_mode=False)
    except RcabotError as exc:
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}")
        sys.exit(2)
    except _usage_errors() as exc:  # bad option, missing argument, bad value
        message = _one_line(str(getattr(exc, "format_message", exc.__str__)()))
        ctx = getattr(exc, "ctx", None)
        if not message and ctx is not None:  # a group run without a command: show its help
            exc.show()  # type: ignore[attr-defined]  # every usage error has show()
            sys.exit(2)
        where = getattr(ctx, "command_path", None) or "rcabot"
        err.print(f"[bold red]error:[/bold red] {escape(message)} (see {where} --help)")
        sys.exit(2)
    except _aborts():
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("RCABOT_DEBUG"):
            traceback.print_exc()
        err.print(
            f"[bold red]internal error:[/bold red] {type(exc).__name__}: "
            f"{escape(str(exc))}\nSet RCABOT_DEBUG=1 for the traceback and please report it."
        )
        sys.exit(70)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
