"""Telemetry records as backends return them: backend-neutral, UTC, plain data.

These are dataclasses (not pydantic models) because an investigation handles tens of thousands
of them; validation happens once, where a backend parses its wire format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from types import MappingProxyType
from typing import Any

_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})
_EMPTY_STR: MappingProxyType[str, str] = MappingProxyType({})


class LogLevel(IntEnum):
    """Normalised log severity; ordered, so ``level >= LogLevel.WARN`` works."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    FATAL = 5

    @classmethod
    def parse(cls, text: str) -> LogLevel:
        """Map common spellings (``warning``, ``err``, ``critical``, ``E``) to a level."""
        key = text.strip().upper()
        level = _LEVEL_ALIASES.get(key)
        if level is None:
            raise ValueError(f"unknown log level {text!r}")
        return level

    @classmethod
    def spellings(cls) -> MappingProxyType[str, LogLevel]:
        """Every upper-case spelling :meth:`parse` accepts, with the level it means."""
        return MappingProxyType(_LEVEL_ALIASES)

    @property
    def label(self) -> str:
        return self.name.lower()


_LEVEL_ALIASES: dict[str, LogLevel] = {
    "TRACE": LogLevel.TRACE, "T": LogLevel.TRACE,
    "DEBUG": LogLevel.DEBUG, "D": LogLevel.DEBUG,
    "INFO": LogLevel.INFO, "I": LogLevel.INFO, "NOTICE": LogLevel.INFO,
    "WARN": LogLevel.WARN, "WARNING": LogLevel.WARN, "W": LogLevel.WARN,
    "ERROR": LogLevel.ERROR, "ERR": LogLevel.ERROR, "E": LogLevel.ERROR,
    "FATAL": LogLevel.FATAL, "CRITICAL": LogLevel.FATAL, "CRIT": LogLevel.FATAL,
    "EMERG": LogLevel.FATAL, "ALERT": LogLevel.FATAL, "F": LogLevel.FATAL,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LogRecord:
    ts: datetime
    service: str
    level: LogLevel
    message: str
    trace_id: str | None = None
    span_id: str | None = None
    instance: str | None = None
    # the statement that wrote it, when the log says (``log_source``): two lines of one text
    # written by two statements are two code paths
    source: str | None = None


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One time series: ``metric{service=..., labels...}`` sampled at ``timestamps``."""

    metric: str
    service: str
    timestamps: tuple[float, ...]  # epoch seconds, ascending
    values: tuple[float, ...]
    labels: MappingProxyType[str, str] = field(default_factory=lambda: _EMPTY_STR)

    def __post_init__(self) -> None:
        if len(self.timestamps) != len(self.values):
            raise ValueError("timestamps and values differ in length")

    @classmethod
    def of_samples(
        cls,
        metric: str,
        service: str,
        samples: Iterable[tuple[float, float]],
        labels: MappingProxyType[str, str] = _EMPTY_STR,
    ) -> MetricSeries:
        """The series of ``samples`` ((epoch seconds, value) pairs, in time order)."""
        pairs = list(samples)
        return cls(
            metric=metric,
            service=service,
            timestamps=tuple(t for t, _ in pairs),
            values=tuple(v for _, v in pairs),
            labels=labels,
        )

    def between(self, lo: float, hi: float) -> MetricSeries:
        """The same series with only its samples in ``[lo, hi)`` (epoch seconds)."""
        samples = zip(self.timestamps, self.values, strict=True)
        return MetricSeries.of_samples(
            self.metric, self.service, [(t, v) for t, v in samples if lo <= t < hi], self.labels
        )


@dataclass(frozen=True, slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    operation: str
    start: float  # epoch seconds
    duration_ms: float
    error: bool = False
    kind: str = "internal"
    attrs: MappingProxyType[str, Any] = field(default_factory=lambda: _EMPTY)

    @property
    def end(self) -> float:
        return self.start + self.duration_ms / 1000.0

    @property
    def error_message(self) -> str | None:
        """What its error said, where the instrumentation recorded it (``error.message``, or
        OpenTelemetry's exception event, ``exception.message``)."""
        message = self.attrs.get("error.message") or self.attrs.get("exception.message")
        return None if message is None else str(message)


@dataclass(frozen=True, slots=True)
class Change:
    """A deploy, rollback, config change, flag flip or scaling event."""

    ts: datetime
    service: str
    kind: str
    description: str
    version: str | None = None
    author: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of an Alertmanager webhook payload."""

    name: str
    status: str
    labels: MappingProxyType[str, str]
    annotations: MappingProxyType[str, str]
    starts_at: datetime
    generator_url: str | None = None
    fingerprint: str | None = None

    @property
    def service(self) -> str | None:
        for key in ("service", "service_name", "job", "app", "container"):
            if value := self.labels.get(key):
                return value
        return None

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("description") or self.name


# Where a log line says which code wrote it: OpenTelemetry's ``code.*`` attributes (old and new
# names), ECS's ``log.logger`` / ``log.origin.*``, and plain ``logger`` fields.
SOURCE_LOGGER = ("logger", "logger_name", "log.logger", "code.namespace")
SOURCE_FILE = ("code.file.path", "code.filepath", "log.origin.file.name")
SOURCE_LINE = ("code.line.number", "code.lineno", "log.origin.file.line")
SOURCE_FUNCTION = ("code.function.name", "code.function", "log.origin.function")
SOURCE_FIELDS = (*SOURCE_LOGGER, *SOURCE_FILE, *SOURCE_LINE, *SOURCE_FUNCTION)


def log_source(get: Callable[[str], object]) -> str | None:
    """The statement that wrote a log line, from its fields (``get(name)``, ``None`` when
    absent): logger, ``file:line`` and function, those it has, e.g. ``t.s.TravelServiceImpl#372``
    or ``app/pay.py:88 charge``. ``None`` when it names none."""

    def first(names: tuple[str, ...]) -> str:
        for name in names:
            value = get(name)
            if value is not None and not isinstance(value, bool) and str(value).strip():
                return str(value).strip()
        return ""

    file, line = first(SOURCE_FILE), first(SOURCE_LINE)
    where = f"{file}:{line}" if file and line else file
    parts = [part for part in (first(SOURCE_LOGGER), where, first(SOURCE_FUNCTION)) if part]
    return " ".join(parts) or None


_LINE_NUMBER = re.compile(r"[#:]\d+(?:\s|$)")  # logback's ``Class#532``, ``file.py:88``


def names_line(source: str | None) -> bool:
    """Whether a :func:`log_source` names the very statement (a line number), not only the
    logger or file: every line it writes comes from one place in the code."""
    return source is not None and _LINE_NUMBER.search(source) is not None
