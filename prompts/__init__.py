"""Prompt templates (``*.j2``) and the one function that renders them.

Templates live only here; code never builds prompt text inline.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent


EXCERPT_CHARS = 200


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Whitespace collapsed to single spaces, cut to ``limit`` characters."""
    return " ".join(text.split())[:limit]


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["excerpt"] = _excerpt
    return env


def render(name: str, **context: Any) -> str:
    """Render ``prompts/<name>.j2``; a missing variable is an error, not an empty string."""
    return _environment().get_template(f"{name}.j2").render(**context).strip()
