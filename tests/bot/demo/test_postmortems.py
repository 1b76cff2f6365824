"""The packaged postmortems: enough of them, each complete, one like the default demo fault."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.demo import postmortems_dir

SECTIONS = ("Summary", "Impact", "Timeline", "Root cause", "Contributing factors", "Action items")
METADATA = ("Date", "Services", "Severity", "Root-cause category")
TITLE = re.compile(r"^# (PM-2025-0\d\d): \S.{10,}$")


def _postmortems() -> list[Path]:
    return sorted(postmortems_dir().glob("*.md"))


def _metadata(text: str) -> dict[str, str]:
    return dict(re.findall(r"^- \*\*([^*]+):\*\* (.+)$", text, flags=re.MULTILINE))


def test_directory_holds_at_least_twelve() -> None:
    assert postmortems_dir().is_dir()
    assert postmortems_dir() == Path(__file__).parents[3] / "bot" / "demo" / "postmortems"
    assert len(_postmortems()) >= 12


@pytest.mark.parametrize("path", _postmortems(), ids=lambda p: p.stem)
def test_each_has_title_metadata_and_sections(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert TITLE.match(text.splitlines()[0]), text.splitlines()[0]
    meta = _metadata(text)
    for key in METADATA:
        assert meta.get(key, "").strip(), f"{path.name}: missing {key}"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["Date"])
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == list(SECTIONS), path.name
    for body in re.split(r"^## .+$", text, flags=re.MULTILINE)[1:]:
        assert len(body.split()) >= 20, f"{path.name}: a section is nearly empty"


def test_ids_and_incidents_are_distinct() -> None:
    texts = [p.read_text(encoding="utf-8") for p in _postmortems()]
    ids = [t.split(":", 1)[0] for t in texts]
    assert len(set(ids)) == len(ids)
    categories = {_metadata(t)["Root-cause category"] for t in texts}
    assert len(categories) >= 10


def test_exactly_one_resembles_the_default_demo_fault() -> None:
    similar = [
        p.name for p in _postmortems()
        if "payments" in _metadata(p.read_text(encoding="utf-8"))["Services"]
        and "pool" in p.read_text(encoding="utf-8").lower()
        and _metadata(p.read_text(encoding="utf-8"))["Root-cause category"] == "bad-deploy"
    ]  # fmt: skip
    assert len(similar) == 1, similar
