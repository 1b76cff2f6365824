"""The configuration the deploy files give rcabot is configuration rcabot reads.

pydantic-settings silently ignores an ``RCABOT_*`` variable that names no setting, so a typo in a
compose file or a manifest would leave a setting at its default. Every such name in deploy/ must
therefore walk to a ``Settings`` field (sections nested with ``__``), and the environment plus
config file that compose and the Kubernetes base hand ``rcabot serve`` must load, with what
serving HTTP requires present and every backend pointed at.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel

from bot.config import ENV_PREFIX, Settings, load_settings
from tests.deploy.deploy_files import (
    DEPLOY,
    ENV_EXAMPLE,
    K8S,
    MissingVariable,
    compose,
    env_file,
    generated_config_maps,
    named,
    resources,
    service_environment,
    yaml_documents,
)

VARIABLE = re.compile(rf"\b{ENV_PREFIX}[A-Z][A-Z0-9_]*[A-Z0-9]")
CONFIG_VARIABLE = f"{ENV_PREFIX}CONFIG"  # the config file's path (bot.config.load_settings)
# What `rcabot serve` refuses to start without over HTTP: the bot token (bot/slack/lifecycle.py)
# and the signing secret every request is verified with (bot/serve.py).
REQUIRED_FOR_HTTP = ("slack.bot_token", "slack.signing_secret")


def setting_of(variable: str) -> str | None:
    """The dotted setting ``variable`` sets (``RCABOT_LOGS__URL`` → ``logs.url``), or None."""
    parts = variable.removeprefix(ENV_PREFIX).lower().split("__")
    model: type[BaseModel] = Settings
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        if depth == len(parts) - 1:
            return ".".join(parts)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif typing.get_origin(annotation) is dict:  # metrics.queries.<signal>
            return ".".join(parts)
        else:
            return None
    return None


def variable_of(setting: str) -> str:
    return ENV_PREFIX + setting.upper().replace(".", "__")


def _deploy_texts() -> dict[Path, str]:
    texts = {}
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            try:
                texts[path] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return texts


def test_setting_of_walks_sections_and_refuses_typos() -> None:
    assert setting_of("RCABOT_LOGS__URL") == "logs.url"
    assert setting_of("RCABOT_METRICS__QUERIES__ERROR_RATIO") == "metrics.queries.error_ratio"
    assert setting_of("RCABOT_SLACK__BOT_TOKN") is None
    assert setting_of("RCABOT_SLACK_BOT_TOKEN") is None  # one underscore: no section
    assert setting_of("RCABOT_LOGS__URL__HOST") is None


def test_every_rcabot_variable_in_deploy_is_a_setting() -> None:
    named_variables = {
        (path.relative_to(DEPLOY).as_posix(), variable)
        for path, text in _deploy_texts().items()
        for variable in VARIABLE.findall(text)
    }
    assert len(named_variables) > 20  # compose, .env.example, manifests: they were all read
    unknown = sorted(
        f"{where}: {variable}"
        for where, variable in named_variables
        if variable != CONFIG_VARIABLE and setting_of(variable) is None
    )
    assert unknown == []


def _load(env: dict[str, str], config: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for variable, value in env.items():
        if variable.startswith(ENV_PREFIX) and variable != CONFIG_VARIABLE:
            monkeypatch.setenv(variable, value)
    return load_settings(config)


def _assert_serves_http_against_backends(settings: Settings) -> list[str]:
    """Check what HTTP serving requires; return the backends' hosts (model, logs, metrics,
    traces), each configured."""
    for setting in REQUIRED_FOR_HTTP:
        section, key = setting.split(".")
        assert getattr(getattr(settings, section), key) is not None, f"{setting} not provided"
    urls = (settings.llm.url, settings.logs.url, settings.metrics.url, settings.traces.url)
    assert None not in urls, urls
    return [urlsplit(url or "").hostname or "" for url in urls]


@pytest.mark.parametrize("overrides", [(), ("compose.vllm.yaml",)])
def test_compose_gives_rcabot_serve_a_configuration_that_loads(
    overrides: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = compose(*overrides)
    env = service_environment(project, "rcabot")
    mounted = {c["target"]: c["source"] for c in project["services"]["rcabot"]["configs"]}
    config = tmp_path / "rcabot.yaml"
    config.write_text(project["configs"][mounted[env[CONFIG_VARIABLE]]]["content"])
    settings = _load(env, config, monkeypatch)
    assert set(_assert_serves_http_against_backends(settings)) <= set(project["services"])
    if overrides:
        llm = project["services"]["llm"]["command"]
        assert settings.llm.api == "openai"
        assert settings.llm.model == llm[llm.index("--served-model-name") + 1]


@pytest.mark.parametrize("setting", REQUIRED_FOR_HTTP)
def test_compose_refuses_to_start_without_a_required_setting(setting: str) -> None:
    variable = variable_of(setting)
    documented = env_file(ENV_EXAMPLE)
    assert documented.get(variable), f"{variable} is not in .env.example"
    del documented[variable]
    with pytest.raises(MissingVariable) as refused:
        compose(env=documented)
    assert refused.value.name == variable


def test_socket_mode_requires_the_app_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documented = env_file(ENV_EXAMPLE)
    variable = variable_of("slack.app_token")
    assert f"# {variable}=" in ENV_EXAMPLE.read_text(encoding="utf-8")  # documented, optional
    with pytest.raises(MissingVariable, match=variable):
        compose("compose.socket.yaml", env=documented)
    project = compose("compose.socket.yaml", env={**documented, variable: "xapp-1-A-1-x"})
    assert "--socket" in project["services"]["rcabot"]["command"]
    config = tmp_path / "rcabot.yaml"
    config.write_text("{}")
    settings = _load(service_environment(project, "rcabot"), config, monkeypatch)
    assert settings.slack.app_token is not None


def _container_env(container: dict[str, typing.Any], secret: dict[str, str]) -> dict[str, str]:
    env = {}
    for entry in container["env"]:
        reference = entry.get("valueFrom", {}).get("secretKeyRef")
        if reference is None:
            env[entry["name"]] = entry["value"]
        elif reference["key"] in secret:
            env[entry["name"]] = secret[reference["key"]]
        else:
            assert reference.get("optional"), f"{entry['name']}: {reference['key']} not in Secret"
    return env


def test_kubernetes_gives_rcabot_serve_a_configuration_that_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (secret,) = yaml_documents(K8S / "secret.example.yaml")
    pod = named(resources(), "Deployment", "rcabot")["spec"]["template"]["spec"]
    rcabot = pod["containers"][0]
    for entry in rcabot["env"]:
        reference = entry.get("valueFrom", {}).get("secretKeyRef")
        if reference:
            assert reference["name"] == secret["metadata"]["name"]
    env = _container_env(rcabot, secret["stringData"])
    assert "serve" in rcabot["args"] and "--socket" not in rcabot["args"]  # HTTP mode
    mounts = {m["name"]: m["mountPath"] for m in rcabot["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    config_dir, config_name = env[CONFIG_VARIABLE].rsplit("/", 1)
    (volume,) = [name for name, path in mounts.items() if path == config_dir]
    generated = {m["metadata"]["name"]: m for m in generated_config_maps()}
    config_map = generated[volumes[volume]["configMap"]["name"]]
    config = tmp_path / config_name
    config.write_text(config_map["data"][config_name])
    settings = _load(env, config, monkeypatch)
    services = {d["metadata"]["name"] for d in resources() if d["kind"] == "Service"}
    assert urlsplit(settings.retrieval.chroma_url or "").hostname in services
    assert urlsplit(settings.slack.state_url).hostname in services  # shared state: Redis
    model, *telemetry = _assert_serves_http_against_backends(settings)
    assert model in services and all(telemetry)  # the user's own backends, by name


def test_documented_optional_values_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commented = dict(
        re.findall(rf"^# ({ENV_PREFIX}[A-Z0-9_]+)=(.*)$", ENV_EXAMPLE.read_text(), re.MULTILINE)
    )
    assert len(commented) >= 5
    config = tmp_path / "rcabot.yaml"
    config.write_text("{}")
    settings = _load({**env_file(ENV_EXAMPLE), **commented}, config, monkeypatch)
    assert settings.slack.state_url == commented[variable_of("slack.state_url")]


def test_compose_without_a_gpu_runs_without_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documented = env_file(ENV_EXAMPLE)
    assert "#RCABOT_LLM__URL=\n" in ENV_EXAMPLE.read_text(encoding="utf-8")  # how, documented
    project = compose(env={**documented, "RCABOT_LLM__URL": ""})
    config = tmp_path / "rcabot.yaml"
    config.write_text("{}")
    settings = _load(service_environment(project, "rcabot"), config, monkeypatch)
    assert settings.llm.url is None  # deterministic answers; the other backends unchanged
    assert settings.logs.url is not None
