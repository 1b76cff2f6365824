"""deploy/compose*.yaml: valid against the Compose specification's JSON schema, and wired the way
rcabot reads it: every reference resolves, the model server's limits hold rcabot's prompts, and
the demo loader writes where Prometheus, Elasticsearch and Jaeger read.

The schema is the Compose specification's own (compose-spec.json, vendored; README.md here).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from bot.demo.generator import case_name, generate_case
from bot.llm.settings import LlmSettings
from bot.loader.bundle import raw_metric_queries
from tests.deploy.deploy_files import (
    DEPLOY,
    ENV_EXAMPLE,
    compose,
    env_file,
    load_yaml,
    option,
    service_environment,
)

SCHEMA = Path(__file__).with_name("compose-spec.json")
COMPOSE_FILES = sorted(path.name for path in DEPLOY.glob("compose*.yaml"))


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_file_follows_the_compose_spec(name: str) -> None:
    errors = [
        f"{'/'.join(map(str, error.path))}: {error.message}"
        for error in _validator().iter_errors(load_yaml(DEPLOY / name))
    ]
    assert errors == []


def test_the_schema_refuses_a_misspelt_key() -> None:
    project = load_yaml(DEPLOY / "compose.yaml")
    project["services"]["rcabot"]["dependson"] = project["services"]["rcabot"].pop("depends_on")
    assert not _validator().is_valid(project)


@pytest.mark.parametrize("overrides", [(), ("compose.vllm.yaml",), ("compose.socket.yaml",)])
def test_every_reference_resolves(overrides: tuple[str, ...]) -> None:
    env = {"RCABOT_SLACK__APP_TOKEN": "xapp-1"} if "compose.socket.yaml" in overrides else {}
    project = compose(*overrides, env={**env_file(ENV_EXAMPLE), **env})
    services = project["services"]
    for name, spec in services.items():
        for needed in spec.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown service {needed}"
        for config in spec.get("configs", []):
            assert config["source"] in project["configs"], f"{name}: config {config['source']}"
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in project["volumes"], f"{name}: volume {source} is not declared"
        build = spec.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()


def test_the_model_server_reserves_a_gpu_and_holds_rcabots_prompts() -> None:
    llm = compose()["services"]["llm"]
    devices = llm["deploy"]["resources"]["reservations"]["devices"]
    assert any("gpu" in device["capabilities"] for device in devices)
    assert option(llm["command"], "--model-id")
    _assert_limits_hold_prompts(
        max_input=int(option(llm["command"], "--max-input-tokens")),
        max_total=int(option(llm["command"], "--max-total-tokens")),
    )
    vllm = compose("compose.vllm.yaml")["services"]["llm"]
    max_len = int(option(vllm["command"], "--max-model-len"))
    _assert_limits_hold_prompts(max_input=max_len - LlmSettings().max_new_tokens, max_total=max_len)


def _assert_limits_hold_prompts(max_input: int, max_total: int) -> None:
    defaults = LlmSettings()
    # The prompt: evidence trimmed to prompt_budget_tokens, plus instructions and the schema.
    assert max_input >= defaults.prompt_budget_tokens * 1.25
    assert max_total >= max_input + defaults.max_new_tokens


@pytest.mark.parametrize("overrides", [(), ("compose.vllm.yaml",)])
def test_rcabot_reaches_the_model_where_it_listens(overrides: tuple[str, ...]) -> None:
    project = compose(*overrides)
    url = urlsplit(service_environment(project, "rcabot")["RCABOT_LLM__URL"])
    llm = project["services"]["llm"]
    assert url.hostname == "llm"
    assert str(url.port) == option(llm["command"], "--port")
    assert str(url.port) in " ".join(llm["healthcheck"]["test"])


def test_prometheus_scrapes_rcabot_and_loads_its_rules() -> None:
    project = compose()
    prometheus = project["services"]["prometheus"]
    config = yaml.safe_load(project["configs"]["prometheus_yml"]["content"])
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = jobs["rcabot"]["static_configs"][0]["targets"]
    assert targets == ["rcabot:3000"]
    mounts = [volume.split(":") for volume in prometheus["volumes"]]
    rules = [source for source, target, *_ in mounts if target.startswith("/etc/prometheus/rules")]
    assert rules, "rcabot's alert rules are not mounted"
    for source in rules:
        text = (DEPLOY / source).read_text(encoding="utf-8")
        assert set(re.findall(r'job="([^"]+)"', text)) <= set(jobs)  # the rules' jobs exist


def _demo_script() -> tuple[dict[str, Any], str]:
    demo = compose()["services"]["demo-load"]
    assert demo["profiles"] == ["demo"]
    return demo, demo["command"][0]


def test_demo_load_writes_where_the_backends_read() -> None:
    project = compose()
    demo, _ = _demo_script()
    env = service_environment(project, "demo-load")
    prometheus = project["services"]["prometheus"]
    data_dir = option(prometheus["command"], "--storage.tsdb.path")
    assert env["RCABOT_LOAD__PROMETHEUS_DATA_DIR"] == data_dir
    mounts = {v.split(":")[1]: v.split(":")[0] for v in demo["volumes"]}
    assert f"{mounts[data_dir]}:{data_dir}" in prometheus["volumes"]  # the same volume
    rcabot = service_environment(project, "rcabot")
    assert env["RCABOT_LOGS__URL"] == rcabot["RCABOT_LOGS__URL"]
    assert (
        urlsplit(env["RCABOT_LOAD__OTLP_URL"]).hostname
        == urlsplit(rcabot["RCABOT_TRACES__URL"]).hostname
    )


def test_demo_queries_are_what_rcabot_load_prints_for_the_demo(tmp_path: Path) -> None:
    _, script = _demo_script()
    fault, seed = option(script.split(), "--fault"), int(option(script.split(), "--seed"))
    out = option(script.split(), "--out")
    assert f"bundle={out}/{case_name(fault, seed)}/bundle" in script
    case = generate_case(tmp_path, fault, seed)
    header, *rows = (case.bundle_dir / "metrics.csv").read_text(encoding="utf-8").splitlines()
    column = header.split(",").index("metric")
    metrics = sorted({row.split(",")[column] for row in rows})
    config = yaml.safe_load(compose()["configs"]["rcabot_yaml"]["content"])
    assert config["metrics"]["queries"] == raw_metric_queries(metrics)
