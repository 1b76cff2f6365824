"""What rcabot's ``/metrics`` really exports, and the metric names a PromQL expression reads:
the Grafana dashboard and the alert rules may only query series rcabot (or Prometheus itself,
``up``) writes. Not a test module: tests/deploy/test_grafana.py and test_prometheus_rules.py
share it.
"""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.bot.slackbot import bot_under_test

PROMETHEUS_OWN = frozenset({"up"})  # written by Prometheus for every scrape target
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# the series each family type is exposed as (a family with no sample yet still has its type)
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
    "untyped": ("",),
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_VARIABLE = re.compile(r"\$\{?\w+\}?")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*")
KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right", "inf", "nan"}
)


def series_names(exposition: str) -> set[str]:
    """Every series name the Prometheus text ``exposition`` declares or holds."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
        names.update(s.name for s in family.samples)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names PromQL ``expr`` selects (Grafana variables removed)."""
    text = _VARIABLE.sub("", expr)
    for pattern in (_STRING, _MATCHERS, _RANGE, _GROUPING):
        text = pattern.sub(" ", text)
    found = set()
    for match in _NAME.finditer(text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or aggregation
        if match.group().lower() not in KEYWORDS:
            found.add(match.group())
    return found


async def exported_by_rcabot(tmp_path: Path, bundle: Path) -> set[str]:
    """The series names a running ``rcabot serve`` exports at ``/metrics``."""
    async with bot_under_test(tmp_path, bundle=bundle) as bot:
        scraped = await bot.http.get(f"{bot.url}/metrics")
    scraped.raise_for_status()
    return series_names(scraped.text)
