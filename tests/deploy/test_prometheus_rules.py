"""deploy/prometheus/rcabot-alerts.yaml: Prometheus' own ``promtool`` accepts the rules and
passes their unit tests (rcabot-alerts.test.yaml), and every series a rule reads is one rcabot
really exports."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.exported import DEPLOY, PROMETHEUS_OWN, exported_by_rcabot, metric_names
from tests.servers.prometheus import binary

RULES = DEPLOY / "prometheus" / "rcabot-alerts.yaml"
RULE_TESTS = DEPLOY / "prometheus" / "rcabot-alerts.test.yaml"
REQUIRED_ALERTS = {
    "RcabotDown",
    "RcabotSlackAckSlow",
    "RcabotRefusingWork",
    "RcabotToolErrors",
    "RcabotModelFallbacks",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("promtool"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=RULES.parent,
        check=False,
    )


def rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_rules() -> None:
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules())} rules found" in checked.stdout


def test_the_rules_pass_their_unit_tests() -> None:
    tested = promtool("test", "rules", RULE_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    tested_alerts = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert tested_alerts == {rule["alert"] for rule in rules()}  # each one seen firing


def test_the_rules_cover_what_an_operator_needs_and_say_how_bad() -> None:
    found = rules()
    assert {rule["alert"] for rule in found} >= REQUIRED_ALERTS
    for rule in found:
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


async def test_every_series_a_rule_reads_is_exported_by_rcabot(
    tmp_path: Path, small_bundle: Path
) -> None:
    exported = await exported_by_rcabot(tmp_path, small_bundle)
    read = set().union(*(metric_names(rule["expr"]) for rule in rules()))
    assert read, "no metric name found in the rules: the extraction is broken"
    assert read - exported - PROMETHEUS_OWN == set()
