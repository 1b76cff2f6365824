"""The files under deploy/, read the way their own tools read them, for the deploy checks.

No Docker engine, kubectl or kustomize can be installed here, so the checks cannot run
``docker compose config`` or ``kustomize build``. What those would do that matters to the checks
is done here, on the parts our files use: Compose's ``${...}`` interpolation (it decides which
variables a user must provide) and how an override file merges into compose.yaml; kustomize's
list of resources and the ConfigMaps its generator makes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"  # what deploy/.env holds, documented

Document = dict[str, Any]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def yaml_documents(path: Path) -> list[Document]:
    """The non-empty documents of a (multi-document) YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


# --- Compose ------------------------------------------------------------------------------------


class MissingVariable(Exception):
    """Compose refuses to start: a ``${NAME:?message}`` variable is unset or empty."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def _substitute(text: str, env: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        value, op, arg = env.get(name), match["op"], match["arg"] or ""
        is_set = value is not None
        has_value = bool(value)
        if op in (":?", "?") and not (has_value if op == ":?" else is_set):
            raise MissingVariable(name, arg)
        if op in (":-", "-") and not (has_value if op == ":-" else is_set):
            return arg
        return value or ""

    return _VARIABLE.sub(one, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """``node`` (a parsed compose file) with ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?message}``, ``${VAR?message}``, ``$VAR`` and ``$$`` replaced as Compose does."""
    if isinstance(node, str):
        return _substitute(node, env)
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    return node


def merge(base: Any, override: Any) -> Any:
    """``override`` (a compose override file) merged into ``base``: mappings merge key by key
    (``environment``, ``depends_on``, ...), anything else is replaced (``command``,
    ``entrypoint``, ``healthcheck.test``: what our override files change)."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return override


def env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a .env file; comments and blank lines skipped."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def compose(*overrides: str, env: Mapping[str, str] | None = None) -> Document:
    """compose.yaml with the named override files (``compose.vllm.yaml``) merged in,
    interpolated with ``env`` (default: the documented .env)."""
    project = load_yaml(COMPOSE)
    for name in overrides:
        project = merge(project, load_yaml(DEPLOY / name))
    return dict(interpolate(project, env_file(ENV_EXAMPLE) if env is None else env))


def service_environment(project: Document, service: str) -> dict[str, str]:
    """The variables ``service`` runs with: its env_file (``.env`` read as .env.example), then
    its ``environment`` (which wins); a variable without a value is left out."""
    spec = project["services"][service]
    values: dict[str, str] = {}
    for entry in spec.get("env_file", []):
        path = entry["path"] if isinstance(entry, dict) else entry
        assert path == ".env", f"{service} reads {path}; only .env is documented (.env.example)"
        values.update(env_file(ENV_EXAMPLE))
    environment = spec.get("environment", {})
    assert isinstance(environment, dict), f"{service}: write environment as a mapping"
    values.update({key: str(value) for key, value in environment.items() if value is not None})
    return values


def option(args: list[str], name: str) -> str:
    """The value after ``name`` in a command line (``--port 8000`` or ``--port=8000``)."""
    for index, arg in enumerate(args):
        if arg == name:
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{name} is not in {args}")


# --- Kubernetes (the kustomize base) ------------------------------------------------------------


def kustomization() -> Document:
    document = load_yaml(K8S / "kustomization.yaml")
    assert isinstance(document, dict)
    return document


def generated_config_maps() -> list[Document]:
    """The ConfigMaps kustomize's configMapGenerator makes (before it adds a hash suffix)."""
    maps = []
    for generator in kustomization().get("configMapGenerator", []):
        data = {}
        for entry in generator.get("files", []):
            key, _, source = entry.rpartition("=")
            data[key or Path(source).name] = (K8S / source).read_text(encoding="utf-8")
        maps.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": generator["name"]},
                "data": data,
            }
        )
    return maps


def resources() -> list[Document]:
    """Every resource the base renders: its resource files' documents and generated objects."""
    documents = [doc for name in kustomization()["resources"] for doc in yaml_documents(K8S / name)]
    return documents + generated_config_maps()


def named(documents: list[Document], kind: str, name: str) -> Document:
    found = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]
