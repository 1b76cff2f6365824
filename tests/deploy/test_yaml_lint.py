"""Every YAML file under deploy/ passes yamllint with deploy/.yamllint (warnings fail too)."""

from __future__ import annotations

import subprocess
import sys

from tests.deploy.deploy_files import DEPLOY


def test_yamllint_passes_on_deploy() -> None:
    files = sorted(
        str(path)
        for pattern in ("*.yaml", "*.yml", ".yamllint")
        for path in DEPLOY.rglob(pattern)
        if path.is_file()
    )
    assert len(files) >= 10  # compose files, manifests, k8s base: all of them are found
    config = str(DEPLOY / ".yamllint")
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-f", "parsable", "-c", config, *files],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
