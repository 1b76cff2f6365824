"""``rcabot ingest`` and ``rcabot search`` as a user runs them (real processes, real model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.demo import postmortems_dir
from tests.bot.test_cli import _no_traceback, rcabot


def test_ingest_is_incremental_and_search_finds_the_postmortem(tmp_path: Path) -> None:
    docs = tmp_path / "pms"
    shutil.copytree(postmortems_dir(), docs)
    (docs / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (docs / "empty.md").write_text("")
    first = rcabot("ingest", str(docs), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "14 documents read; added 14, updated 0, removed 0, unchanged 0" in first.stdout
    assert "diagram.png: skipped, binary file" in first.stdout
    assert "empty.md: empty" in first.stdout

    (docs / "pm-2025-003-dns-timeouts.md").unlink()
    again = rcabot("ingest", str(docs), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "added 0, updated 0, removed 1, unchanged 13; 0 chunks embedded" in again.stdout

    found = rcabot(
        "search",
        "database connection pool exhausted after a payments release",
        "--json",
        cwd=tmp_path,
    )
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["title"].startswith("PM-2025-038")
    assert hits[0]["url"].startswith("file://")
    assert all(h["doc_id"] != "pm-2025-003-dns-timeouts.md" for h in hits)
    text = rcabot("search", "DNS timeouts", "-k", "2", "--mode", "bm25", cwd=tmp_path)
    assert text.returncode == 0 and "1. " in text.stdout and "3. " not in text.stdout


def test_search_before_ingest_says_what_to_do(tmp_path: Path) -> None:
    result = rcabot("search", "anything", cwd=tmp_path)
    assert result.returncode == 2
    assert "rcabot ingest" in result.stderr
    _no_traceback(result)
    assert not (tmp_path / ".cache").exists()  # searching created no empty index


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    for args, message in (
        (("ingest", str(tmp_path / "missing")), "none of the paths exists"),
        (("search", "x", "--since", "03/2025"), "--since: expected YYYY-MM-DD"),
        (("search", "x", "--mode", "fuzzy"), "--mode must be hybrid, bm25 or dense"),
    ):
        result = rcabot(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert message in result.stderr, result.stderr
        _no_traceback(result)
