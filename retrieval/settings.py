"""Settings of the postmortem index (``retrieval:`` in rcabot.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from tools.settings import Section, http_url


class RetrievalSettings(Section):
    chroma_path: Path = Field(default_factory=lambda: Path(".cache/rcabot/chroma"))
    chroma_url: str | None = Field(default=None, description="Chroma server; embedded if unset")
    model: str = "all-MiniLM-L6-v2"
    url_base: str | None = Field(default=None, description="link base for postmortems (wiki)")

    _check_url = field_validator("chroma_url", "url_base")(http_url)
