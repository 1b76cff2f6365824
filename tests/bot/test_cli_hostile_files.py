"""Hostile files through ``bot.cli.main``: broken ``--alert`` payloads and broken bundles
(directories, pipes, devices, links, binary garbage, huge lines, deep JSON, wrong types, times
out of range). Each case is a clear one-line error (exit 2) naming the file and field, or a
warning listed in the report (exit 0) — see :mod:`tests.bot.hostile_cases`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bot.hostile_cases import (
    DEEP,
    FUTURE,
    GOOD_LOG,
    INV,
    WITH_ALERT,
    Case,
    alert_json,
    bundle_file,
    check,
    fifo,
    log_lines,
    manifest_with,
    metric_rows,
    one_alert,
    only_logs,
    replace_with_dir,
    symlink,
)
from tests.bundles import T0, iso

CASES: list[Case] = [
    # -- the --alert file
    Case("alert is a directory", WITH_ALERT, "--alert", setup=lambda b, t: None),
    Case("alert missing", (*INV, "--alert", "{t}/none.json"), "--alert"),
    Case("alert empty", WITH_ALERT, "--alert", setup=alert_json("")),
    Case("alert binary", WITH_ALERT, "--alert", setup=alert_json(bytes(range(256)) * 4)),
    Case("alert nested 10k deep", WITH_ALERT, "--alert", setup=alert_json(DEEP)),
    Case("alert a list", WITH_ALERT, "--alert", setup=alert_json([1, 2])),
    Case("alert no alerts", WITH_ALERT, "alerts", setup=alert_json({"alerts": []})),
    Case("alert alerts not list", WITH_ALERT, "alerts", setup=alert_json({"alerts": {"a": 1}})),
    Case(
        "alert zero start",
        WITH_ALERT,
        "startsAt",
        setup=alert_json(one_alert(startsAt="0001-01-01T00:00:00Z")),
    ),
    Case(
        "alert year 9999",
        WITH_ALERT,
        "startsAt",
        setup=alert_json(one_alert(startsAt="9999-01-01T00:00:00Z")),
    ),
    Case("alert start 1e300", WITH_ALERT, "startsAt", setup=alert_json(one_alert(startsAt=1e300))),
    Case(
        "alert start Infinity",
        WITH_ALERT,
        "startsAt",
        setup=alert_json(one_alert(startsAt=float("inf"))),
    ),
    Case(
        "alert start NaN",
        WITH_ALERT,
        "startsAt",
        setup=alert_json(one_alert(startsAt=float("nan"))),
    ),
    Case(
        "alert start big int", WITH_ALERT, "startsAt", setup=alert_json(one_alert(startsAt=10**400))
    ),
    Case("alert start a list", WITH_ALERT, "startsAt", setup=alert_json(one_alert(startsAt=[1]))),
    Case(
        "alert labels a list",
        WITH_ALERT,
        "labels",
        setup=alert_json(one_alert(labels=["alertname"])),
    ),
    Case(
        "alert label value nested",
        WITH_ALERT,
        "labels",
        setup=alert_json(one_alert(labels={"alertname": {"a": 1}})),
    ),
    Case(
        "alert label value 100k",
        WITH_ALERT,
        "labels",
        setup=alert_json(one_alert(labels={"alertname": "x" * 100_000})),
    ),
    Case(
        "alert 1000 labels",
        WITH_ALERT,
        "labels",
        setup=alert_json(
            one_alert(labels={"alertname": "A", **{f"l{i}": "v" for i in range(1000)}})
        ),
    ),
    Case(
        "alert future, live",
        ("investigate", "--alert", "{a}"),
        "future",
        setup=alert_json(one_alert(startsAt=FUTURE)),
    ),
    # skippable: the alert is usable, the bad field is dropped and listed
    Case(
        "alert generatorURL a number",
        (*WITH_ALERT, "--json"),
        "generatorURL",
        0,
        alert_json(one_alert(generatorURL=5)),
    ),
    Case(
        "alert fingerprint a dict",
        (*WITH_ALERT, "--json"),
        "fingerprint",
        0,
        alert_json(one_alert(fingerprint={"a": 1})),
    ),
    Case(
        "alert status a number",
        (*WITH_ALERT, "--json"),
        "status",
        0,
        alert_json(one_alert(status=3)),
    ),
    Case(
        "alert annotations a list",
        (*WITH_ALERT, "--json"),
        "annotations",
        0,
        alert_json(one_alert(annotations=[1])),
    ),
    Case("alert endsAt zero is unset", (*WITH_ALERT, "--json"), "", 0, alert_json(one_alert())),
    Case(
        "alert with BOM",
        (*WITH_ALERT, "--json"),
        "",
        0,
        alert_json("\ufeff" + json.dumps(one_alert())),
    ),
    Case(
        "alert one bad of two",
        (*WITH_ALERT, "--json"),
        "alerts[0]",
        0,
        alert_json({"alerts": [{"labels": []}, one_alert()["alerts"][0]]}),
    ),
    Case(
        "alert long description",
        (*WITH_ALERT, "--json"),
        "",
        0,
        alert_json(one_alert(annotations={"description": "d" * 100_000})),
    ),
    # -- the bundle directory and its files
    Case("bundle is a file", ("investigate", "--bundle", "{b}/logs.jsonl"), "not a directory"),
    Case("bundle is /dev/null", ("investigate", "--bundle", "/dev/null"), "/dev/null"),
    Case("bundle empty dir", ("investigate", "--bundle", "{t}"), "none of the bundle files"),
    Case("logs is a directory", INV, "logs.jsonl", setup=replace_with_dir("logs.jsonl")),
    Case("logs is a symlink loop", INV, "logs.jsonl", setup=symlink("logs.jsonl", "self")),
    Case("logs is a dangling link", INV, "logs.jsonl", setup=symlink("logs.jsonl", "/nonexistent")),
    Case("logs is a fifo", INV, "logs.jsonl", setup=fifo("logs.jsonl")),
    Case("logs is /dev/zero", INV, "logs.jsonl", setup=symlink("logs.jsonl", "/dev/zero")),
    Case("logs empty", (*INV, "--json"), "", 0, bundle_file("logs.jsonl", "")),
    Case(
        "logs binary only",
        INV,
        "logs.jsonl",
        setup=bundle_file("logs.jsonl", bytes(range(1, 256)) * 64),
    ),
    Case(
        "logs with BOM",
        (*INV, "--json"),
        "",
        0,
        bundle_file("logs.jsonl", "\ufeff" + json.dumps(GOOD_LOG) + "\n"),
    ),
    Case("logs nested line", (*INV, "--json"), "logs.jsonl", 0, log_lines(DEEP)),
    Case("logs only nested lines", INV, "logs.jsonl", setup=only_logs(DEEP, DEEP)),
    Case(
        "logs 5 MB line",
        (*INV, "--json"),
        "logs.jsonl",
        0,
        log_lines({**GOOD_LOG, "message": "m" * 5_000_000}),
    ),
    Case(
        "logs 2 MB token",
        (*INV, "--json"),
        "",
        0,
        log_lines({**GOOD_LOG, "message": "a" * 2_000_000}),
    ),
    Case(
        "logs wrong types",
        (*INV, "--json"),
        "logs.jsonl",
        0,
        log_lines(
            {**GOOD_LOG, "service": ["a"]},
            {**GOOD_LOG, "message": {"a": 1}},
            {**GOOD_LOG, "ts": True},
        ),
    ),
    Case(
        "logs bad times",
        (*INV, "--json"),
        "logs.jsonl",
        0,
        log_lines(
            *(
                {**GOOD_LOG, "ts": v}
                for v in (1e300, "Infinity", "9999-01-01T00:00:00Z", 10**30, "0001-01-01T00:00:00Z")
            )
        ),
    ),
    Case(
        "metrics field over 128 KiB",
        (*INV, "--json"),
        "metrics.csv",
        0,
        metric_rows(f'{iso(T0)},web,error_ratio,"{"9" * 200_000}"'),
    ),
    Case(
        "metrics inf and big times",
        (*INV, "--json"),
        "metrics.csv",
        0,
        metric_rows(
            f"{iso(T0)},web,latency_seconds,inf",
            "1e300,web,error_ratio,0.1",
            f"{10**30},web,error_ratio,0.1",
        ),
    ),
    Case(
        "metrics binary",
        INV,
        "metrics.csv",
        setup=bundle_file("metrics.csv", bytes(range(1, 256)) * 64),
    ),
    Case(
        "openmetrics bad samples",
        (*INV, "--json"),
        "metrics.om",
        0,
        bundle_file(
            "metrics.om",
            'x{service="web"} 1 inf\nx{service="web"} 1 1e300\n'
            'x{service="web",a="\\x"} 1 1\nx{service="web"} 1 1772441000\n',
        ),
    ),
    Case(
        "traces bad numbers",
        (*INV, "--json"),
        "traces.jsonl",
        0,
        bundle_file(
            "traces.jsonl",
            "\n".join(
                json.dumps(
                    {
                        "trace_id": "t",
                        "span_id": str(i),
                        "service": "web",
                        "operation": "op",
                        "start": iso(T0),
                        "duration_ms": d,
                    }
                )
                for i, d in enumerate(["nan", 1e308, "inf", 5])
            )
            + "\n",
        ),
    ),
    Case(
        "traces deep attrs",
        (*INV, "--json"),
        "",
        0,
        bundle_file(
            "traces.jsonl",
            json.dumps(
                {
                    "trace_id": "t",
                    "span_id": "s",
                    "service": "web",
                    "operation": "op",
                    "start": iso(T0),
                    "duration_ms": 1,
                    "attrs": {"a": json.loads("[" * 500 + "]" * 500)},
                }
            )
            + "\n",
        ),
    ),
    Case(
        "changes wrong types",
        (*INV, "--json"),
        "changes.jsonl",
        0,
        bundle_file(
            "changes.jsonl",
            json.dumps({"ts": iso(T0), "service": "web", "kind": 5, "description": "d"})
            + "\n"
            + json.dumps(
                {"ts": iso(T0), "service": "web", "kind": "deploy", "description": "ok", "link": 7}
            )
            + "\n",
        ),
    ),
    Case("manifest nested", INV, "manifest.json", setup=bundle_file("manifest.json", DEEP)),
    Case("manifest a list", INV, "manifest.json", setup=bundle_file("manifest.json", "[]")),
    Case(
        "manifest zero window",
        INV,
        "manifest.json",
        setup=manifest_with(window={"start": "0001-01-01T00:00:00Z", "end": iso(T0)}),
    ),
    Case(
        "manifest window reversed",
        INV,
        "manifest.json",
        setup=manifest_with(window={"start": iso(T0 + timedelta(hours=1)), "end": iso(T0)}),
    ),
    Case("manifest services dicts", INV, "manifest.json", setup=manifest_with(services=[{"a": 1}])),
    Case("manifest window a string", INV, "manifest.json", setup=manifest_with(window="today")),
    Case(
        "alerts.json all bad",
        INV,
        "alerts.json",
        setup=bundle_file(
            "alerts.json",
            json.dumps(
                {"alerts": [{"labels": {"alertname": "A"}, "startsAt": "0001-01-01T00:00:00Z"}]}
            ),
        ),
    ),
    Case("alerts.json nested", INV, "alerts.json", setup=bundle_file("alerts.json", DEEP)),
    Case("alerts.json is a directory", INV, "alerts.json", setup=replace_with_dir("alerts.json")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_files_are_clear_errors_or_warnings(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    check(case, tmp_path, capsys, monkeypatch)
