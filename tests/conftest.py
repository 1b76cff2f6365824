"""Shared fixtures."""

from __future__ import annotations

import os
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.bundles import NEZHA_ARCHIVE, small_incident

ENV_PREFIX = "RCABOT_"  # bot.config.ENV_PREFIX; tests/test_conftest.py checks they agree
HERMETIC_ENV = f"{ENV_PREFIX}RETRIEVAL__CHROMA_PATH"  # the one RCABOT_* variable tests see

# Session fixtures that start local servers (real Prometheus; a real small model behind llama.cpp's
# OpenAI-compatible server; stand-ins for Elasticsearch and Jaeger/Tempo). Each module documents
# what it starts.
pytest_plugins = (
    "tests.servers.elasticsearch",
    "tests.servers.llamacpp",
    "tests.servers.prometheus",
    "tests.servers.redis",
    "tests.servers.tgi",
    "tests.servers.traces",
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the test (httpx defaults), closed after it."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(autouse=True)
def _hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test sees the same world, whatever the developer's shell and checkout hold:

    - no ``RCABOT_*`` variable from the environment (``RCABOT_CONFIG`` included);
    - the working directory is the test's own empty ``tmp_path``, so no ``./rcabot.yaml`` or
      ``./.cache`` of the developer is read (tests find repository files from ``__file__``,
      see :mod:`tests.bundles`), and subprocesses started without ``cwd`` run there too;
    - investigations never read a postmortem index a developer ingested locally: the one
      variable set here, :data:`HERMETIC_ENV`, points the index at an empty directory.
    """
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(HERMETIC_ENV, str(tmp_path / "no-postmortems"))


@pytest.fixture
def small_bundle(tmp_path: Path) -> Path:
    return small_incident(tmp_path / "bundle")


@pytest.fixture(scope="session")
def nezha_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Nezha TrainTicket day from ../shared/datasets, unpacked once per session."""
    if not NEZHA_ARCHIVE.is_file():
        pytest.skip(f"dataset {NEZHA_ARCHIVE} is not available")
    root = tmp_path_factory.mktemp("nezha")
    with tarfile.open(NEZHA_ARCHIVE, "r:xz") as tar:
        tar.extractall(root, filter="data")
    return root
