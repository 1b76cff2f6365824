"""The CLI against backends, as a user runs it: ``rcabot load``, ``config check``, live
``investigate``. Elasticsearch here is the noida-db **stand-in** (tests/servers/elasticsearch.py),
traces go to the Jaeger/Tempo **stand-in**; Prometheus is real."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml

from bot.investigation.report import Report
from tests.bot.test_cli import _no_traceback, rcabot
from tests.servers.prometheus import running_prometheus
from tests.servers.traces import TracesStandIn

pytestmark = pytest.mark.elasticsearch


def test_load_refuses_without_confirmation(small_bundle: Path) -> None:
    result = rcabot("load", str(small_bundle))
    assert result.returncode == 2
    assert "--to-backends" in result.stderr
    _no_traceback(result)


def test_load_with_no_target_says_what_to_set(small_bundle: Path, tmp_path: Path) -> None:
    result = rcabot("load", str(small_bundle), "--to-backends", cwd=tmp_path)
    assert result.returncode == 2
    assert "RCABOT_LOAD__PROMETHEUS_DATA_DIR" in result.stderr
    _no_traceback(result)


def test_load_with_a_bad_url_is_a_clear_error(small_bundle: Path, tmp_path: Path) -> None:
    result = rcabot(
        "load", str(small_bundle), "--to-backends", "--otlp-url", "collector:4318", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "--otlp-url" in result.stderr and "http://" in result.stderr
    _no_traceback(result)


def test_load_reports_a_failed_target_and_loads_the_others(
    small_bundle: Path, tmp_path: Path, traces_standin: TracesStandIn
) -> None:
    traces_standin.reset()
    result = rcabot(
        "load",
        str(small_bundle),
        "--to-backends",
        "--elasticsearch-url",
        "http://127.0.0.1:9",  # nothing listens there
        "--otlp-url",
        traces_standin.url,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "logs: FAILED" in result.stdout
    assert "traces:" in result.stdout and "spans" in result.stdout
    assert traces_standin.span_count() > 0
    _no_traceback(result)


def test_load_then_check_then_investigate_live(
    small_bundle: Path, tmp_path: Path, elasticsearch_url: str, traces_standin: TracesStandIn
) -> None:
    traces_standin.reset()
    index = f"rcabot-test-{uuid.uuid4().hex[:12]}"
    data_dir = tmp_path / "prometheus"
    result = rcabot(
        "load",
        str(small_bundle),
        "--to-backends",
        "--elasticsearch-url",
        elasticsearch_url,
        "--index",
        index,
        "--prometheus-data-dir",
        str(data_dir),
        "--otlp-url",
        traces_standin.url,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(result.stdout.split("put this in rcabot.yaml:")[1])
    assert config["logs"] == {"url": elasticsearch_url, "index": index + "*"}
    assert config["metrics"]["step_s"] == 60  # the bundle's resolution
    assert config["metrics"]["queries"]["error_ratio"] == 'error_ratio{service=~"{services}"}'

    with running_prometheus(data_dir) as prometheus_url:
        config["metrics"]["url"] = prometheus_url
        config["traces"] = {"kind": "tempo", "url": traces_standin.tempo_url}
        path = tmp_path / "rcabot.yaml"
        path.write_text(yaml.safe_dump(config))
        check = rcabot("config", "check", "--config", str(path), cwd=tmp_path)
        assert "index and fields ok" in check.stdout, check.stdout
        assert check.stdout.count("reachable") >= 3

        alert = tmp_path / "alert.json"
        alert.write_text((small_bundle / "alerts.json").read_text())
        live = rcabot(
            "investigate", "--alert", str(alert), "--config", str(path), "--json", cwd=tmp_path
        )
        assert live.returncode == 0, live.stderr
        report = Report.model_validate_json(live.stdout)
        assert report.candidates[0].service == "api"  # the bundle's root cause
        backends = {s.source: s.backend for s in report.sources if s.ok}
        assert backends == {"logs": "elasticsearch", "metrics": "prometheus", "traces": "tempo"}

        config["logs"]["fields"] = {"service": "app.name"}
        path.write_text(yaml.safe_dump(config))
        bad = rcabot("config", "check", "--config", str(path), cwd=tmp_path)
        assert bad.returncode == 1
        assert "RCABOT_LOGS__FIELDS__SERVICE" in bad.stdout
        _no_traceback(bad)
    assert json.loads(alert.read_text())["alerts"]  # the input file is left as it was
