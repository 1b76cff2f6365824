"""Deep links into the UIs an on-call engineer already uses.

Every evidence item links to the same data in Kibana Discover, Grafana Explore, the Prometheus
graph page or the Jaeger UI, built from the configured base URLs. Where no UI is configured
(e.g. an offline bundle), the link points at the bundle file the data came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from tools.evidence import TimeWindow
from tools.settings import LinksSettings


def rison_string(text: str) -> str:
    """Encode a string as a Rison literal (Kibana's URL state format)."""
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def _iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class Links:
    def __init__(self, settings: LinksSettings, bundle_dir: Path | None = None) -> None:
        self._s = settings
        self._bundle = bundle_dir.resolve() if bundle_dir is not None else None

    def bundle_file(self, name: str, fragment: str = "") -> str | None:
        if self._bundle is None:
            return None
        uri = (self._bundle / name).as_uri()
        return f"{uri}#{quote(fragment, safe='=&:,')}" if fragment else uri

    def kibana_discover(self, kql: str, window: TimeWindow) -> str | None:
        if not self._s.kibana_url:
            return None
        start, end = rison_string(_iso_ms(window.start)), rison_string(_iso_ms(window.end))
        g = f"(time:(from:{start},to:{end}))"
        parts = [f"query:(language:kuery,query:{rison_string(kql)})"]
        if self._s.kibana_data_view:
            parts.insert(
                0, f"dataSource:(dataViewId:{rison_string(self._s.kibana_data_view)},type:dataView)"
            )
        a = "(" + ",".join(parts) + ")"
        return (
            f"{self._s.kibana_url}/app/discover#/?_g={quote(g, safe='():,!')}"
            f"&_a={quote(a, safe='():,!')}"
        )

    def grafana_explore_promql(self, promql: str, window: TimeWindow) -> str | None:
        if not self._s.grafana_url:
            return None
        uid = self._s.grafana_prometheus_uid
        query = {"refId": "A", "expr": promql, "datasource": {"type": "prometheus", "uid": uid}}
        return self._grafana_explore(uid, query, window)

    def grafana_explore_traceql(self, traceql: str, window: TimeWindow) -> str | None:
        if not self._s.grafana_url:
            return None
        uid = self._s.grafana_tempo_uid
        query = {
            "refId": "A",
            "queryType": "traceql",
            "query": traceql,
            "datasource": {"type": "tempo", "uid": uid},
        }
        return self._grafana_explore(uid, query, window)

    def _grafana_explore(self, uid: str, query: Mapping[str, object], window: TimeWindow) -> str:
        panes = {
            "a": {
                "datasource": uid,
                "queries": [query],
                "range": {"from": str(_ms(window.start)), "to": str(_ms(window.end))},
            }
        }
        params = {
            "schemaVersion": "1",
            "orgId": "1",
            "panes": json.dumps(panes, separators=(",", ":")),
        }
        return f"{self._s.grafana_url}/explore?{urlencode(params, quote_via=quote)}"

    def prometheus_graph(self, promql: str, window: TimeWindow) -> str | None:
        if not self._s.prometheus_url:
            return None
        seconds = max(60, int(window.duration.total_seconds()))
        params = {
            "g0.expr": promql,
            "g0.tab": "0",
            "g0.range_input": f"{seconds}s",
            "g0.end_input": window.end.strftime("%Y-%m-%d %H:%M:%S"),
        }
        return f"{self._s.prometheus_url}/graph?{urlencode(params, quote_via=quote)}"

    def metrics(self, promql: str, window: TimeWindow) -> str | None:
        """Grafana Explore if configured, else the Prometheus graph page."""
        return self.grafana_explore_promql(promql, window) or self.prometheus_graph(promql, window)

    def jaeger_trace(self, trace_id: str) -> str | None:
        if not self._s.jaeger_ui_url:
            return None
        return f"{self._s.jaeger_ui_url}/trace/{quote(trace_id)}"

    def jaeger_search(self, service: str, window: TimeWindow, *, errors_only: bool) -> str | None:
        if not self._s.jaeger_ui_url:
            return None
        params = {
            "service": service,
            "start": str(_ms(window.start) * 1000),
            "end": str(_ms(window.end) * 1000),
            "lookback": "custom",
            "limit": "20",
        }
        if errors_only:
            params["tags"] = json.dumps({"error": "true"})
        return f"{self._s.jaeger_ui_url}/search?{urlencode(params, quote_via=quote)}"
