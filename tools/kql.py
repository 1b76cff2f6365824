"""Kibana Query Language (KQL) for a :class:`LogQuery`, for evidence and Discover links."""

from __future__ import annotations

from tools.backends import LogQuery
from tools.elasticsearch.settings import LogFields
from tools.records import LogLevel


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def levels_at_least(level: LogLevel) -> list[str]:
    """Level spellings at or above ``level`` as they appear in log indices."""
    names = {LogLevel.WARN: ["warn", "warning"], LogLevel.FATAL: ["fatal", "critical"]}
    out: list[str] = []
    for candidate in LogLevel:
        if candidate >= level:
            out += names.get(candidate, [candidate.label])
    return out


def kql(query: LogQuery, fields: LogFields) -> str:
    clauses: list[str] = []
    if query.services:
        clauses.append(f"{fields.service}:(" + " or ".join(quote(s) for s in query.services) + ")")
    if query.min_level is not None and query.min_level > LogLevel.TRACE:
        clauses.append(f"{fields.level}:(" + " or ".join(levels_at_least(query.min_level)) + ")")
    if query.trace_id:
        clauses.append(f"{fields.trace_id}:{quote(query.trace_id)}")
    if query.text:
        clauses.append(f"{fields.message}:{quote(query.text)}")
    return " and ".join(clauses) if clauses else "*"
