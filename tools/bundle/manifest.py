"""Validation of a bundle's ``manifest.json`` (format: ``tools/bundle/FORMAT.md``).

Every key is optional, but a key that is there must be right: ``window`` an object whose
``start`` and ``end`` are timestamps in 1970..2100 with ``end`` after ``start``; ``services`` a
list of at most :data:`MAX_SERVICES` non-empty strings of at most ``MAX_NAME`` characters.
Anything else raises ``ValueError`` naming the key.
"""

from __future__ import annotations

from typing import Any

from tools.bundle.fields import MAX_NAME
from tools.bundle.timestamps import parse_timestamp

MAX_SERVICES = 10_000
FORMAT = "rcabot-bundle"
VERSION = 1


def new_manifest(
    *,
    name: str,
    source: str,
    window: tuple[str, str],
    services: list[str],
    description: str,
    stats: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A ``manifest.json`` for a bundle a tool writes (the demo, the Nezha importer):
    ``window`` is its start and end as written; ``stats`` is left out when ``None``."""
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "source": source,
        "window": {"start": window[0], "end": window[1]},
        "services": services,
        "description": description,
    }
    if stats is not None:
        manifest["stats"] = stats
    return manifest


def check_manifest(data: Any) -> dict[str, Any]:
    """``data`` if it is a valid manifest; ``ValueError`` naming the bad key otherwise."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    window = data.get("window")
    if window is not None:
        if not isinstance(window, dict):
            raise ValueError("window must be an object with 'start' and 'end'")
        try:
            start, _ = parse_timestamp(window.get("start"))
            end, _ = parse_timestamp(window.get("end"))
        except ValueError as exc:
            raise ValueError(f"bad window: {exc}") from exc
        if end <= start:
            raise ValueError(f"bad window: end {end.isoformat()} is not after start")
    services = data.get("services")
    if services is not None:
        if not isinstance(services, list) or len(services) > MAX_SERVICES:
            raise ValueError(f"services must be a list of at most {MAX_SERVICES} names")
        for position, service in enumerate(services):
            if not isinstance(service, str) or not service or len(service) > MAX_NAME:
                raise ValueError(
                    f"services[{position}] must be a name of 1 to {MAX_NAME} characters"
                )
    return data
