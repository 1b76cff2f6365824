"""A declared service map: which services may call which, as the people running them wrote down.

Traces show who called whom in the incident's requests, and a service graph in the metrics
(``tools.analysis.call_edges``) shows it per edge; both are measurements. Where neither
measured a service's calls (metrics-only telemetry, a service without instrumentation) the
ranking still needs to know what is below a service to tell a caller's symptom from its
callee's fault. A service map says it: a service catalogue's ``dependsOn`` (Backstage), a
mesh's configuration, a dataset's static call graph (Nezha's ``metric/dependency.csv``).

It says who *may* call whom, not who waited on whom in the incident, so the investigation uses
it only for services whose calls nothing measured (``bot.investigation.declared_calls``).

File (``service_map.csv`` in a bundle; ``investigation.service_map`` for live backends): CSV
with the header ``caller,callee`` (more columns are ignored), one edge per row::

    caller,callee
    frontend,checkout
    checkout,payments

A bad row (a missing name, a name over ``MAX_NAME`` characters, a service calling itself)
is skipped with a warning naming its line; a file without the header, or in which no row is
usable, raises the given error (a :class:`BundleError` for a bundle, a :class:`ConfigError` for
the setting) naming the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from tools.bundle.fields import MAX_NAME
from tools.bundle.file_report import FileReport
from tools.bundle.files import numbered_lines, parsed_rows, present
from tools.errors import BundleError, RcabotError

FILE_NAME = "service_map.csv"
COLUMNS = ("caller", "callee")
MAX_EDGES = 100_000


@dataclass(frozen=True)
class ServiceMap:
    """Caller → the services it may call. ``source``: where the map came from (a path)."""

    calls: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""

    @classmethod
    def of(cls, edges: Iterable[tuple[str, str]], source: str = "") -> ServiceMap:
        calls: dict[str, set[str]] = {}
        for caller, callee in edges:
            if caller != callee:
                calls.setdefault(caller, set()).add(callee)
        frozen = {caller: frozenset(callees) for caller, callees in sorted(calls.items())}
        return cls(MappingProxyType(frozen), source)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Every (caller, callee), in name order."""
        return sorted((caller, callee) for caller, cs in self.calls.items() for callee in cs)


def write_service_map(path: Path, pairs: Iterable[tuple[str, str]]) -> int:
    """Write ``pairs`` (caller, callee) to ``path`` in the file's format, each once, in name
    order; how many (no file when none)."""
    rows = sorted(set(pairs))
    if rows:
        with path.open("w", encoding="utf-8", newline="") as sink:
            csv.writer(sink, lineterminator="\n").writerows([COLUMNS, *rows])
    return len(rows)


def read_service_map(
    path: Path, *, error: type[RcabotError] = BundleError
) -> tuple[ServiceMap, FileReport]:
    """The map in ``path`` and what reading it found (rows used, rows skipped and why).
    Raises ``error`` when the file cannot be read or holds no usable edge."""
    report = FileReport(path.name)
    try:
        if not present(path):
            raise error(f"{path}: file does not exist")
        edges = list(_edges(path, report, error))
    except BundleError as exc:  # a directory, a device, a dangling link, unreadable bytes
        raise error(str(exc)) from exc
    if not edges:
        first = f"; first: {report.warnings[0]}" if report.warnings else ""
        raise error(f"{path}: no usable row (caller,callee){first}; see tools/bundle/FORMAT.md")
    return ServiceMap.of(edges, str(path)), report


def _edges(path: Path, report: FileReport, error: type[RcabotError]) -> Iterator[tuple[str, str]]:
    reader = csv.reader(line for _, line in numbered_lines(path, report.skip))
    try:
        header = [name.strip().lower() for name in next(reader, None) or []]
    except csv.Error as exc:
        raise error(f"{path}:1: bad header: {exc}") from exc
    if any(name not in header for name in COLUMNS):
        raise error(f"{path}:1: header must contain caller,callee; got {header[:10]}")
    caller_at, callee_at = header.index("caller"), header.index("callee")
    for row in parsed_rows(reader, report.skip):
        if not any(cell.strip() for cell in row):
            continue
        try:
            edge = _edge(row, caller_at, callee_at)
        except ValueError as exc:
            report.skip(reader.line_num, str(exc))
            continue
        if report.read >= MAX_EDGES:
            report.skip(reader.line_num, f"over {MAX_EDGES} edges; the rest are not read")
            return
        report.read += 1
        yield edge


def _edge(row: list[str], caller_at: int, callee_at: int) -> tuple[str, str]:
    if len(row) <= max(caller_at, callee_at):
        raise ValueError(f"expected at least {max(caller_at, callee_at) + 1} columns")
    caller, callee = row[caller_at].strip(), row[callee_at].strip()
    if not caller or not callee:
        raise ValueError("empty caller or callee")
    if max(len(caller), len(callee)) > MAX_NAME:
        raise ValueError(f"a service name over {MAX_NAME} characters")
    if caller == callee:
        raise ValueError(f"{caller} calling itself is no call between services")
    return caller, callee
