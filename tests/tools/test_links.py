from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from tests.bundles import T0
from tools.evidence import TimeWindow
from tools.links import Links, rison_string
from tools.settings import LinksSettings

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(hours=2))


def test_rison_escapes_quotes_and_bangs() -> None:
    assert rison_string("it's!") == "'it!'s!!'"


def test_kibana_discover_carries_query_and_time() -> None:
    link = Links(LinksSettings(kibana_url="https://kb.example")).kibana_discover(
        'service.name:"payments"', WINDOW
    )
    assert link is not None
    decoded = unquote(link)
    assert "from:'2026-03-02T09:00:00.000Z',to:'2026-03-02T11:00:00.000Z'" in decoded
    assert "query:(language:kuery,query:'service.name:\"payments\"')" in decoded


def test_grafana_explore_panes_are_json() -> None:
    link = Links(LinksSettings(grafana_url="https://g.example")).metrics("up", WINDOW)
    assert link is not None
    panes = json.loads(parse_qs(urlsplit(link).query)["panes"][0])
    assert panes["a"]["queries"][0]["expr"] == "up"
    assert panes["a"]["range"] == {"from": "1772442000000", "to": "1772449200000"}


def test_prometheus_graph_when_no_grafana() -> None:
    link = Links(LinksSettings(prometheus_url="http://prom:9090")).metrics("up", WINDOW)
    assert link is not None
    params = parse_qs(urlsplit(link).query)
    assert params["g0.expr"] == ["up"] and params["g0.range_input"] == ["7200s"]


def test_no_ui_configured_means_bundle_file_or_nothing(tmp_path: object) -> None:
    assert Links(LinksSettings()).metrics("up", WINDOW) is None
    assert Links(LinksSettings()).jaeger_trace("abc") is None
