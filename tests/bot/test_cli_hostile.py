"""Hostile command-line input through ``bot.cli.main``: bad options and arguments, times out
of range, hostile services and questions, broken configuration, broken archives. Each case is
a clear one-line error (exit 2) or a warning — see :mod:`tests.bot.hostile_cases`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.hostile_cases import (
    INV,
    Case,
    check,
    config_file,
    scratch_file,
    truncated_archive,
)
from tests.bundles import T0, iso

CASES: list[Case] = [
    # -- usage errors, from the argument parser
    Case("unknown command", ("bogus",), "No such command"),
    Case("unknown sub-command", ("config", "bogus"), "No such command"),
    Case("unknown flag", (*INV, "--bogus"), "--bogus"),
    Case("missing argument", ("ask", "--bundle", "{b}"), "question"),
    Case("missing option value", ("investigate", "--bundle"), "--bundle"),
    Case("missing required option", ("import", "nezha", "{t}"), "--out"),
    Case("demo seed not a number", ("demo", "--seed", "abc"), "--seed"),
    Case("search k zero", ("search", "x", "-k", "0"), "-k"),
    Case("search k too large", ("search", "x", "-k", "51"), "-k"),
    Case("search bad mode", ("search", "x", "--mode", "fuzzy"), "--mode"),
    Case("search bad day", ("search", "x", "--since", "yesterday"), "--since"),
    Case("demo unknown fault", ("demo", "--fault", "meteor", "--out", "{t}/d"), "meteor"),
    Case("load without confirmation", ("load", "{b}"), "--to-backends"),
    Case("load bad url", ("load", "{b}", "--to-backends", "--otlp-url", "x"), "--otlp-url"),
    # -- times given on the command line
    Case("from inf", (*INV, "--from", "inf"), "--from"),
    Case("from -inf", (*INV, "--from", "-inf"), "--from"),
    Case("from nan", (*INV, "--from", "nan"), "--from"),
    Case("from 1e300", (*INV, "--from", "1e300"), "--from"),
    Case("from big integer", (*INV, "--from", "9" * 400), "--from"),
    Case("from year 9999", (*INV, "--from", "9999-12-31T23:59:59Z"), "--from"),
    Case("from zero time", (*INV, "--from", "0001-01-01T00:00:00Z"), "--from"),
    Case("from negative epoch", (*INV, "--from", "-1e12"), "--from"),
    Case("to without offset", (*INV, "--to", "2026-03-02T10:00:00"), "--to"),
    Case("to before from", (*INV, "--from", iso(T0), "--to", iso(T0)), "--to"),
    # -- --service and questions
    Case("service with markup", (*INV, "--service", "[red]web[/red]"), "--service"),
    Case("service with control chars", (*INV, "--service", "\x1b[31mweb\x07"), "--service"),
    Case("service 100k chars", (*INV, "--service", "s" * 100_000), "--service"),
    Case("ask empty", ("ask", "--bundle", "{b}", ""), "question"),
    Case("ask 100k chars", ("ask", "--bundle", "{b}", "why " * 25_000), "question"),
    Case("ask control chars", ("ask", "--bundle", "{b}", "--json", "why\x00 \x1b[2J web?"), "", 0),
    # -- configuration
    Case("config missing", (*INV, "--config", "{t}/none.yaml"), "none.yaml"),
    Case("config a directory", (*INV, "--config", "{t}"), "config"),
    Case(
        "config bad yaml",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "rcabot.yaml",
        setup=config_file("a: ["),
    ),
    Case(
        "config binary",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "rcabot.yaml",
        setup=config_file(bytes(range(256))),
    ),
    Case(
        "config a list",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "rcabot.yaml",
        setup=config_file("- 1\n- 2\n"),
    ),
    Case(
        "config nested deep",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "rcabot.yaml",
        setup=config_file("a: " + "[" * 10_000 + "]" * 10_000),
    ),
    Case(
        "config unknown key",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "bogus",
        setup=config_file("bogus: 1\n"),
    ),
    Case(
        "config unknown nested key",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "investigation.nope",
        setup=config_file("investigation:\n  nope: 1\n"),
    ),
    Case(
        "config window 1e10",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "default_window_minutes",
        setup=config_file("investigation:\n  default_window_minutes: 1e10\n"),
    ),
    Case(
        "config window huge int",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "default_window_minutes",
        setup=config_file("investigation:\n  default_window_minutes: 10000000000\n"),
    ),
    Case(
        "config zero candidates",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "max_candidates",
        setup=config_file("investigation:\n  max_candidates: 0\n"),
    ),
    Case(
        "config negative evidence",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "max_evidence",
        setup=config_file("investigation:\n  max_evidence: -1\n"),
    ),
    Case(
        "config huge evidence",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "max_evidence",
        setup=config_file("investigation:\n  max_evidence: 1000000000\n"),
    ),
    Case(
        "config timeout inf",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "tool_timeout_s",
        setup=config_file("investigation:\n  tool_timeout_s: .inf\n"),
    ),
    Case(
        "config timeout nan",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "tool_timeout_s",
        setup=config_file("investigation:\n  tool_timeout_s: .nan\n"),
    ),
    Case(
        "config traces timeout huge",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "timeout_s",
        setup=config_file("traces:\n  timeout_s: 1e12\n"),
    ),
    Case(
        "config llm tokens huge",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "max_new_tokens",
        setup=config_file("llm:\n  max_new_tokens: 1e12\n"),
    ),
    Case(
        "config window a string",
        (*INV, "--config", "{t}/rcabot.yaml"),
        "default_window_minutes",
        setup=config_file("investigation:\n  default_window_minutes: soon\n"),
    ),
    Case(
        "env bad number",
        INV,
        "RCABOT_INVESTIGATION__MAX_CANDIDATES",
        env=(("RCABOT_INVESTIGATION__MAX_CANDIDATES", "abc"),),
    ),
    Case(
        "env huge window",
        INV,
        "RCABOT_INVESTIGATION__DEFAULT_WINDOW_MINUTES",
        env=(("RCABOT_INVESTIGATION__DEFAULT_WINDOW_MINUTES", "1e10"),),
    ),
    # -- import nezha
    Case(
        "nezha truncated archive",
        ("import", "nezha", "{t}/nezha.tar.xz", "--out", "{t}/out"),
        "nezha.tar.xz",
        setup=truncated_archive,
    ),
    Case(
        "nezha garbage archive",
        ("import", "nezha", "{t}/x.tar.xz", "--out", "{t}/out"),
        "x.tar.xz",
        setup=scratch_file("x.tar.xz", b"\xfd7zXZ\x00garbage"),
    ),
    Case(
        "nezha empty archive file",
        ("import", "nezha", "{t}/e.tar.xz", "--out", "{t}/out"),
        "e.tar.xz",
        setup=scratch_file("e.tar.xz", b""),
    ),
    Case("nezha missing source", ("import", "nezha", "{t}/none", "--out", "{t}/out"), "none"),
    Case("nezha not a dataset", ("import", "nezha", "{b}", "--out", "{t}/out"), "import nezha"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_arguments_and_settings_are_clear_errors(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    check(case, tmp_path, capsys, monkeypatch)
