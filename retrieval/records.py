"""Structured incident reports: the JSON format of the public cloud anomaly collection.

One file holds an object of ``id -> record`` (IntelligentDDS/Post-mortems-Analysis, 356 AWS,
Azure and Google reports); a record has ``title``, ``link`` (a list), ``time``, ``summary``,
``details``, ``service_name``, ``impact symptom``, ``manifestation``, ``duration`` (minutes),
``detection`` ``{method, tool}``, ``root cause`` ``{label: [{layer-1, layer-2, ...}], details}``,
``mitigation`` ``{label, details, troubleshooting}`` and annotation bookkeeping. Each record
becomes one document; its fields become sections, so the annotations (cause labels, symptoms,
detection method) are searchable text as well as metadata.

``time`` is month first (``06/04/2011``): in the whole collection no first field exceeds 12,
216 second fields do, and the summaries agree (``01/08/2019`` is "08 Jan 2019").

Fields left out: ``troubleshooting`` (a paraphrase of ``details``), ``reproduction``,
``refined path`` (coarse layer names) and ``verification`` (the annotators' names).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from retrieval.formats import split_labels
from retrieval.sections import section_for_heading
from tools.postmortems import SectionName

_US_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
_DETECTION_METHODS = {"automate": "automated", "automatic": "automated"}


class NotACollection(ValueError):
    """The JSON is valid but is not a record or a collection of records."""


@dataclass(frozen=True, slots=True)
class Record:
    key: str | None  # None for a file holding a single record
    title: str
    date: date | None
    services: tuple[str, ...]
    root_cause_category: str | None
    link: str | None
    sections: tuple[tuple[SectionName, str, str], ...]  # (name, heading, text)


def is_record(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("title"), str)
        and any(isinstance(value.get(key), str) for key in ("summary", "details"))
    )


def parse_collection(text: str) -> tuple[list[Record], list[str]]:
    """The records of one JSON file, and ``"#key: why"`` notes for entries that are skipped.

    Raises ``ValueError`` for invalid JSON and :class:`NotACollection` for JSON of another kind.
    """
    data = json.loads(text)
    if is_record(data):
        return [_record(None, data)], []
    if isinstance(data, list):
        entries: Iterable[tuple[str, Any]] = ((str(i), value) for i, value in enumerate(data))
    elif isinstance(data, dict):
        entries = ((str(key), value) for key, value in data.items())
    else:
        raise NotACollection("not an object or a list")
    records, notes = [], []
    for key, value in entries:
        if is_record(value):
            records.append(_record(key, value))
        else:
            notes.append(f"#{key}: skipped, not an incident record (needs title and summary)")
    if not records:
        raise NotACollection("no incident records (objects with title and summary)")
    return records, notes


def parse_us_date(value: object) -> date | None:
    """``MM/DD/YYYY`` (the collection's format) or an ISO date; None if neither or invalid."""
    if not isinstance(value, str):
        return None
    match = _US_DATE.match(value)
    if match:
        month, day, year = (int(part) for part in match.groups())
    elif iso := _ISO_DATE.match(value):
        year, month, day = (int(part) for part in iso.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _record(key: str | None, raw: dict[str, Any]) -> Record:
    link = next(iter(_strings(raw.get("link"))), None)
    services = raw.get("service_name", raw.get("service name"))
    return Record(
        key=key,
        title=" ".join(raw["title"].split()),
        date=parse_us_date(raw.get("time")),
        services=tuple(dict.fromkeys(_strings(services))),
        root_cause_category=_cause_category(raw.get("root cause")),
        link=link,
        sections=tuple(_sections(raw)),
    )


def _sections(raw: dict[str, Any]) -> Iterator[tuple[SectionName, str, str]]:
    yield SectionName.SUMMARY, "Summary", _text(raw.get("summary"))
    yield SectionName.IMPACT, "Impact", _impact(raw)
    yield SectionName.DETECTION, "Detection", _detection(raw)
    for label, text in split_labels(_text(raw.get("details")), inline=True):
        if label is None:
            timeline = len(_CLOCK.findall(text)) >= 3
            yield (SectionName.TIMELINE if timeline else SectionName.OTHER), "Details", text
        else:
            yield section_for_heading(label), label, text
    yield SectionName.ROOT_CAUSE, "Root cause", _root_cause(raw)
    yield SectionName.MITIGATION, "Mitigation", _mitigation(raw)


def _impact(raw: dict[str, Any]) -> str:
    lines = []
    if symptoms := _strings(raw.get("impact symptom")):
        lines.append(f"Impact: {', '.join(symptoms)}.")
    if manifestation := _strings(raw.get("manifestation")):
        lines.append(f"Manifestation: {'; '.join(manifestation)}.")
    if isinstance(raw.get("duration"), int | float):
        lines.append(f"Duration: {_minutes(raw['duration'])}.")
    path = raw.get("propagation pass")
    if isinstance(path, dict) and path:
        hops = [_text(path[k]) for k in sorted(path, key=lambda k: (len(str(k)), str(k)))]
        lines.append(f"Propagation: {' → '.join(hop for hop in hops if hop)}.")
    return "\n".join(lines)


def _detection(raw: dict[str, Any]) -> str:
    detection = raw.get("detection")
    lines = []
    if isinstance(detection, dict):
        method = _text(detection.get("method")).lower()
        if method:
            lines.append(f"Detection method: {_DETECTION_METHODS.get(method, method)}.")
        if tools := _strings(detection.get("tool")):
            lines.append(f"Detected by: {', '.join(tools)}.")
    if isinstance(raw.get("detection time"), int | float):
        lines.append(f"Time to detect: {_minutes(raw['detection time'])}.")
    return "\n".join(lines)


def _root_cause(raw: dict[str, Any]) -> str:
    cause = raw.get("root cause")
    paragraphs, facts = [], []
    if isinstance(cause, dict):
        labels = [" / ".join(_strings(label)) for label in cause.get("label") or ()]
        if labels := [label for label in labels if label]:
            facts.append(f"Root cause category: {'; '.join(dict.fromkeys(labels))}.")
    if operations := _strings(raw.get("operation")):
        facts.append(f"Triggering operation: {', '.join(operations)}.")
    if raw.get("human error") is True:
        facts.append("Human error: yes.")
    if isinstance(raw.get("identification time"), int | float):
        facts.append(f"Time to identify: {_minutes(raw['identification time'])}.")
    if facts:
        paragraphs.append("\n".join(facts))
    if isinstance(cause, dict) and (details := _text(cause.get("details"))):
        paragraphs.append(details)
    return "\n\n".join(paragraphs)


def _mitigation(raw: dict[str, Any]) -> str:
    mitigation = raw.get("mitigation")
    paragraphs, facts = [], []
    if isinstance(mitigation, dict) and (actions := _strings(mitigation.get("label"))):
        facts.append(f"Mitigation actions: {'; '.join(actions)}.")
    if isinstance(raw.get("fix time"), int | float):
        facts.append(f"Time to fix: {_minutes(raw['fix time'])}.")
    if facts:
        paragraphs.append("\n".join(facts))
    if isinstance(mitigation, dict) and (details := _text(mitigation.get("details"))):
        paragraphs.append(details)
    return "\n\n".join(paragraphs)


def _cause_category(cause: object) -> str | None:
    """Distinct ``layer-1/layer-2`` labels joined by "; "; None when only "unknown" is known."""
    if not isinstance(cause, dict):
        return None
    categories = []
    for label in cause.get("label") or ():
        if not isinstance(label, dict):
            continue
        layers = [_text(label.get(layer)) for layer in ("layer-1", "layer-2")]
        layers = [layer for layer in layers if layer]
        if layers and layers != ["unknown"]:
            categories.append("/".join(layers))
    return "; ".join(dict.fromkeys(categories)) or None


def _minutes(value: float) -> str:
    return f"{value:g} minutes"


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(value: object) -> list[str]:
    """Non-empty strings in a value that may be a string, a list, or an object of lists."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if texts := _strings(item):
                out.append(f"{key}: {', '.join(texts)}" if isinstance(item, list) else texts[0])
        return out
    return []
