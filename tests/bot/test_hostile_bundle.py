"""A bundle full of secrets, PII, chat markup and control characters, investigated end to end.

Through ``investigate``, ``ask`` (a quoted phrase that finds the poisoned lines) and a live
backend whose URL carries credentials: nothing secret reaches the output, no near-miss is
redacted, no markup survives that could ping a channel or hide a link, and nothing crashes.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.investigation.report import Report
from tests.bot.test_cli import _no_traceback, rcabot
from tests.bundles import T0, iso, small_incident, write_jsonl

# (kind, the secret as it appears in telemetry, the part that must never be shown)
SECRETS: list[tuple[str, str, str]] = [
    ("slack token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKl"),
    ("aws key id", "key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    (
        "aws secret",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
    ),
    ("github token", "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "aBcDeFgHiJkLmNoP"),
    ("db url", "dial postgres://app:Hunter2Secret@db:5432/orders failed", "Hunter2Secret"),
    (
        "jwt",
        "auth eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U rejected",
        "dozjgNryP4J3jVmNHl0w5N",
    ),
    ("email", "notify jane.doe@example.com", "jane.doe@example.com"),
    ("card", "charge card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
    ("stripe", "stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
    ("bearer", "Authorization: Bearer abcdef0123456789abcdef0123456789", "abcdef0123456789abcd"),
    ("password pair", "login password=CorrectHorseBattery9", "CorrectHorseBattery9"),
    (
        "pem",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Jk2bQ9secretbody\n"
        "-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAx7Jk2bQ9secretbody",
    ),
]
# Values that look like secrets to a careless rule and must stay readable.
NEAR_MISSES = ["1712345678901", "1772442000000", "v1.4.2", "db:5432", "10.0.0.7"]
MARKUP = (
    "<!channel> <!here> <https://evil.example/phish|click here> \x1b[31mred\x1b[0m \u202e\u200b"
)
PHRASE = "payment gateway rejected"


def _poisoned_bundle(root: Path) -> Path:
    bundle = small_incident(root / "bundle")
    fault = T0 + timedelta(minutes=40)
    lines = [
        {
            "ts": iso(fault + timedelta(seconds=30)),
            "service": "api",
            "level": "ERROR",
            "message": f"{PHRASE}: order {NEAR_MISSES[0]} at {NEAR_MISSES[1]} "
            f"{NEAR_MISSES[2]} {NEAR_MISSES[3]} from {NEAR_MISSES[4]}",
        }
    ]
    for i, (_, secret, _) in enumerate(SECRETS):
        lines.append(
            {
                "ts": iso(fault + timedelta(minutes=1, seconds=i)),
                "service": "api",
                "level": "ERROR",
                "message": f"{PHRASE} [E1] {MARKUP} {secret}",
            }
        )
    with (bundle / "logs.jsonl").open("a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")
    changes = [
        {
            "ts": iso(fault - timedelta(minutes=2)),
            "service": "api",
            "kind": "deploy",
            "description": f"release [E99] {MARKUP} {SECRETS[0][1]}",
            "version": "1.4.2 [E42]",
        }
    ]
    write_jsonl(bundle / "changes.jsonl", changes)
    alert = json.loads((bundle / "alerts.json").read_text())
    alert["alerts"][0]["annotations"] = {
        "summary": f"web is unhappy {MARKUP} {SECRETS[4][1]}",
        "description": "x" * 5000 + f" {SECRETS[2][1]}",
    }
    (bundle / "alerts.json").write_text(json.dumps(alert))
    return bundle


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _poisoned_bundle(tmp_path_factory.mktemp("poisoned"))


def _assert_safe(output: str) -> None:
    for kind, _, visible in SECRETS:
        assert visible not in output, f"{kind} leaked"
    for mark in ("<!channel>", "<!here>", "|click here>", "\x1b[", "\u202e", "\u200b", "\x07"):
        assert mark not in output, f"markup {mark!r} survived"


def test_investigate_leaks_nothing_and_keeps_its_hypothesis(poisoned: Path) -> None:
    result = rcabot("investigate", "--bundle", str(poisoned), "--json")
    assert result.returncode == 0, result.stderr
    _no_traceback(result)
    _assert_safe(result.stdout + result.stderr)
    report = Report.model_validate_json(result.stdout)
    assert report.candidates[0].service == "api"
    assert report.dropped_statements == []  # a "[E99]" in a deploy description stops nothing
    assert "[REDACTED" in result.stdout


def test_investigate_terminal_output_is_safe(poisoned: Path) -> None:
    result = rcabot("investigate", "--bundle", str(poisoned))
    assert result.returncode == 0, result.stderr
    _assert_safe(result.stdout + result.stderr)


def test_ask_with_a_quoted_phrase_finds_the_lines_redacted(poisoned: Path) -> None:
    result = rcabot("ask", "--bundle", str(poisoned), "--json", f'why "{PHRASE}"?')
    assert result.returncode == 0, result.stderr
    _assert_safe(result.stdout + result.stderr)
    report = Report.model_validate_json(result.stdout)
    found = [e for e in report.evidence if e.key.startswith("logs:search:")]
    assert found, "the quoted phrase found no lines"
    shown = " ".join(e.excerpt for e in found)
    for value in NEAR_MISSES:
        assert value in shown, f"near-miss {value} was redacted"
    assert not re.search(r"\[E\d+\]", shown), "a citation-like marker survived in telemetry"


def test_live_backend_url_with_credentials_is_never_printed(tmp_path: Path) -> None:
    config = tmp_path / "rcabot.yaml"
    config.write_text(
        "logs:\n  url: http://elastic:Sup3rS3cretPw@127.0.0.1:9/\n"
        "metrics:\n  url: http://prom:An0therS3cret@127.0.0.1:9/\n"
        "investigation:\n  tool_timeout_s: 5\n"
    )
    checked = rcabot("config", "check", "--config", str(config))
    run = rcabot(
        "investigate",
        "--config",
        str(config),
        "--service",
        "api",
        "--from",
        "2026-03-02T09:00:00Z",
        "--to",
        "2026-03-02T10:00:00Z",
        "--json",
    )
    for result in (checked, run):
        _no_traceback(result)
        output = result.stdout + result.stderr
        assert "Sup3rS3cretPw" not in output and "An0therS3cret" not in output
    assert run.returncode == 0, run.stderr
    report = Report.model_validate_json(run.stdout)
    assert any(not s.ok for s in report.sources)  # the failed sources are named, not hidden


def test_operator_patterns_from_the_config_apply_to_investigations(
    poisoned: Path, tmp_path: Path
) -> None:
    config = tmp_path / "rcabot.yaml"
    config.write_text('redaction:\n  extra_patterns: ["order (1712345678901)"]\n')
    result = rcabot(
        "ask", "--bundle", str(poisoned), "--config", str(config), "--json", f'why "{PHRASE}"?'
    )
    assert result.returncode == 0, result.stderr
    assert NEAR_MISSES[0] not in result.stdout  # the operator says it is secret: it is
    assert "[REDACTED custom]" in result.stdout
    for value in NEAR_MISSES[1:]:
        assert value in result.stdout
