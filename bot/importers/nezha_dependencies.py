"""Nezha's static call graph, ``metric/dependency.csv``, as the bundle's ``service_map.csv``.

The OnlineBoutique days ship it (``Source,Target,Weight``: who calls whom, plus each pod's
node address); the TrainTicket days do not. It is a declared map, not a measurement: the
investigation uses it only for services whose calls the traces or the metrics do not show
(``bot.investigation.declared_calls``), as on 2022-08-22, which has no traces at all. Rows
naming something that is not a service of the case (a node's IP address, the load generator)
are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.importers.nezha_csv import csv_rows
from bot.importers.nezha_issues import Issues
from tools.service_map import FILE_NAME, write_service_map

DEPENDENCIES = "metric/dependency.csv"


def read_dependencies(day_root: Path, issues: Issues) -> list[tuple[str, str]]:
    """The day's (caller, callee) pairs; none where the day has no dependency file."""
    path = day_root / DEPENDENCIES
    if not path.is_file():
        return []
    return [
        (source.strip(), target.strip())
        for _, (source, target) in csv_rows(path, DEPENDENCIES, issues, ("Source", "Target"))
        if source.strip() and target.strip() and source.strip() != target.strip()
    ]


def write_bundle_map(
    edges: Iterable[tuple[str, str]], services: Iterable[str], bundle: Path
) -> int:
    """Write the edges between two of ``services`` to ``bundle/service_map.csv``; how many
    (no file when none)."""
    known = set(services)
    return write_service_map(
        bundle / FILE_NAME, ((a, b) for a, b in edges if a in known and b in known)
    )
