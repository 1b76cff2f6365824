"""Investigating through configured backends when they fail: the report names each failure.

The backends here are unreachable (a closed port) or a local stand-in HTTP server that answers
500, garbage or too slowly for every request; the investigation must still return a report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.commands import investigate_live
from bot.config import Settings, load_settings
from tests.bundles import T0, alert_payload
from tests.servers import unreachable_url
from tests.servers.canned import ELASTICSEARCH_PRODUCT, running_canned_server
from tools.errors import ConfigError, InvestigationError

#: How the stand-in is broken (status, body, delay): every request gets that answer.
BROKEN: dict[str, tuple[int, bytes, float]] = {
    "500": (500, b'{"error":"boom"}', 0.0),
    "garbage": (200, b"{not json", 0.0),
    "slow": (200, b"{not json", 1.5),  # longer than the backends' 0.5 s per-attempt timeout
}


@pytest.fixture
def misbehaving(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(base URL, mode) of a stand-in server answering every request in that broken way."""
    status, body, delay_s = BROKEN[request.param]
    with running_canned_server(
        status, body, delay_s=delay_s, extra_headers=ELASTICSEARCH_PRODUCT
    ) as server:
        yield server.url, request.param


def _alert_file(tmp_path: Path) -> Path:
    path = tmp_path / "alert.json"
    path.write_text(json.dumps(alert_payload("WebErrors", "web", T0 + timedelta(minutes=41))))
    return path


def _settings(url: str, timeout_s: float = 5.0) -> Settings:
    return load_settings(
        logs={"url": url, "timeout_s": timeout_s},
        metrics={"url": url, "timeout_s": timeout_s},
        traces={"url": url, "timeout_s": timeout_s},
        investigation={"tool_timeout_s": 20},
    )


async def test_unreachable_backends_are_named_and_the_report_still_comes(tmp_path: Path) -> None:
    settings = _settings(unreachable_url())
    report = await investigate_live(settings, alert_file=_alert_file(tmp_path))
    by_source = {s.source: s for s in report.sources}
    for source in ("logs", "metrics", "traces"):
        assert not by_source[source].ok, source
        assert by_source[source].detail, source
    assert "unreachable" in by_source["metrics"].detail
    assert not by_source["changes"].ok
    assert "change" in by_source["changes"].detail
    assert report.candidates == []
    assert report.evidence[0].source.value == "alert"  # the alert itself is still cited


@pytest.mark.parametrize("misbehaving", ["500", "garbage", "slow"], indirect=True)
async def test_broken_backends_are_reported_not_raised(
    misbehaving: tuple[str, str], tmp_path: Path
) -> None:
    url, mode = misbehaving
    settings = _settings(url, timeout_s=0.5 if mode == "slow" else 5.0)
    started = time.perf_counter()
    report = await investigate_live(settings, alert_file=_alert_file(tmp_path))
    assert time.perf_counter() - started < 60
    failed = {s.source: s.detail for s in report.sources if not s.ok}
    assert {"logs", "metrics", "traces"} <= set(failed)
    expected = {"500": "500", "garbage": "JSON", "slow": "time"}[mode]
    assert expected.lower() in failed["metrics"].lower(), failed["metrics"]
    assert report.candidates == []


async def test_nothing_configured_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="RCABOT_METRICS__URL"):
        await investigate_live(load_settings(), service="web")


async def test_no_scope_is_a_clear_error() -> None:
    settings = load_settings(metrics={"url": "http://127.0.0.1:1"})
    with pytest.raises(InvestigationError, match="--alert FILE or --service NAME"):
        await investigate_live(settings)
