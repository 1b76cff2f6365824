"""deploy/grafana/rcabot-dashboard.json: it parses, lays its panels out on Grafana's 24-column
grid without overlap, every query is PromQL a real Prometheus accepts, and every series it
reads is one rcabot really exports (scraped from a running ``rcabot serve``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.exported import DEPLOY, PROMETHEUS_OWN, exported_by_rcabot, metric_names

DASHBOARD = DEPLOY / "grafana" / "rcabot-dashboard.json"
GRID_COLUMNS = 24
# what the dashboard must show (issue 12): ack latency, investigations and their stages, the
# queue, tool errors, the model's latency and tokens, fallbacks
REQUIRED_SERIES = {
    "rcabot_slack_ack_duration_seconds_bucket",
    "rcabot_investigations_total",
    "rcabot_investigation_stage_duration_seconds_bucket",
    "rcabot_work_waiting",
    "rcabot_work_refused_total",
    "rcabot_tool_errors_total",
    "rcabot_llm_duration_seconds_bucket",
    "rcabot_llm_tokens_total",
    "rcabot_llm_fallbacks_total",
}
# Grafana's variables, as a Prometheus query would see them
VARIABLES = {"$__rate_interval": "5m", "$job": ".*"}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def expressions() -> list[str]:
    found = [t["expr"] for p in panels() for t in p["targets"]]
    found += [
        v["query"]["query"].removeprefix("label_values(").split(",")[0]
        for v in dashboard()["templating"]["list"]
        if v["type"] == "query"
    ]
    return found


def test_the_dashboard_parses_and_its_panels_fit_the_grid_without_overlap() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    taken: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= GRID_COLUMNS, panel["title"]
        cells = {
            (grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
    for panel in panels():
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"] and panel["description"], panel["title"]
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


async def test_every_series_the_dashboard_reads_is_exported_by_rcabot(
    tmp_path: Path, small_bundle: Path
) -> None:
    exported = await exported_by_rcabot(tmp_path, small_bundle)
    read = set().union(*(metric_names(expr) for expr in expressions()))
    assert read >= REQUIRED_SERIES
    assert read - exported - PROMETHEUS_OWN == set()


@pytest.mark.parametrize("expr", expressions())
async def test_every_query_is_promql_prometheus_accepts(prometheus_url: str, expr: str) -> None:
    query = expr
    for variable, value in VARIABLES.items():
        query = query.replace(variable, value)
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{prometheus_url}/api/v1/query", params={"query": query})
    assert answer.status_code == 200, f"{query}: {answer.text}"
    assert answer.json()["status"] == "success"
