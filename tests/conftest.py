"""Shared fixtures."""

from __future__ import annotations

import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.bundles import NEZHA_ARCHIVE, small_incident

# Session fixtures that start local servers (real Prometheus; stand-ins for Elasticsearch and
# Jaeger/Tempo). Each module documents what it starts.
pytest_plugins = (
    "tests.servers.elasticsearch",
    "tests.servers.prometheus",
    "tests.servers.traces",
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the test (httpx defaults), closed after it."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(autouse=True)
def _private_postmortem_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Investigations in tests never read a postmortem index a developer ingested locally."""
    monkeypatch.setenv("RCABOT_RETRIEVAL__CHROMA_PATH", str(tmp_path / "no-postmortems"))


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
