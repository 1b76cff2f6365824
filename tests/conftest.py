"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bundles import small_incident


@pytest.fixture
def small_bundle(tmp_path: Path) -> Path:
    return small_incident(tmp_path / "bundle")
