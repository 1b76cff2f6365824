"""Where the Nezha files are, and which fault cases the fault list describes.

A Nezha day directory (``rca_data/<date>/``) holds ``<date>-fault_list.json`` and the folders
``log/``, ``trace/``, ``traceid/`` and ``metric/``. Upstream keeps the same day's fault-free
phase beside it, ``construct_data/<date>/`` with the same folders and no fault list; that is
the reference a case is compared with (:mod:`bot.importers.nezha_reference`).

The fault list maps an hour to the faults injected in it: ``{"08": [{"inject_time":
"2023-01-29 08:43:04", "inject_pod": ..., "inject_type": "return", "inject_timestamp":
...}]}``. ``inject_time`` matches the telemetry clock and is UTC; ``inject_timestamp``
disagrees with it by hours and is not used.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FAULT_LIST_GLOB = "*-fault_list.json"
REFERENCE_DIR = "construct_data"
DATA_DIRS = ("log", "trace", "metric")
EXPECTED = (
    "a Nezha dataset: a directory holding rca_data/<date>/<date>-fault_list.json with log/, "
    "trace/ and metric/ beside it (the directory itself, any directory above it, or the "
    ".tar.xz archive of one)"
)
_SEARCH_DEPTH = 4
# <deployment>-<replicaset hash>-<pod suffix>, e.g. ts-contacts-service-866bd68c97-xcqfx
_DEPLOYMENT_POD = re.compile(r"^(?P<service>.+?)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_STATEFUL_POD = re.compile(r"^(?P<service>.+?)-\d+$")


def service_of(pod: str) -> str:
    """The service (deployment) a pod belongs to: the pod name without its hashes."""
    for pattern in (_DEPLOYMENT_POD, _STATEFUL_POD):
        match = pattern.match(pod)
        if match:
            return match.group("service")
    return pod


@dataclass(frozen=True)
class FaultCase:
    """One injected fault and the names of the per-minute log/trace files that cover it."""

    case_id: str
    date: str
    inject_time: datetime  # aware, UTC
    pod: str
    service: str
    fault_type: str
    minutes: tuple[str, ...]  # "08_43", "08_44", "08_45": inject minute and the two after


@dataclass(frozen=True)
class NezhaDay:
    """One ``rca_data/<date>/`` directory and its fault cases."""

    root: Path
    date: str
    cases: tuple[FaultCase, ...]

    @cached_property
    def system(self) -> tuple[str, str]:
        """Which benchmark system the day ran, as (tag, name): see :func:`system_of`."""
        return system_of(self)


def system_of(day: NezhaDay) -> tuple[str, str]:
    """Which benchmark system the day ran, as (tag, name): ``("tt", "TrainTicket")`` when its
    services are ``ts-*``, ``("ob", "OnlineBoutique")`` for Google's microservices demo, else
    ``("ms", "microservices")``. From every pod the day names, so it says nothing of a case
    (read once per day: :attr:`NezhaDay.system`)."""
    pods = [c.pod for c in day.cases]
    pods += [p.name.removesuffix("_metric.csv") for p in (day.root / "metric").glob("*_metric.csv")]
    services = {service_of(pod) for pod in pods}
    if any(s.startswith("ts-") for s in services):
        return "tt", "TrainTicket"
    if {"frontend", "cartservice", "checkoutservice"} <= services:
        return "ob", "OnlineBoutique"
    return "ms", "microservices"


def find_day_dirs(source: Path) -> list[Path]:
    """Every Nezha day directory at or below ``source``; ``ValueError`` if there is none."""
    if not source.is_dir():
        raise ValueError(f"{source} is not a directory; expected {EXPECTED}")
    found = sorted({p.parent for p in _walk_fault_lists(source, _SEARCH_DEPTH)})
    days = [d for d in found if any((d / name).is_dir() for name in DATA_DIRS)]
    if not days:
        what = (
            f"found {found[0].relative_to(source) / 'fault list'} but none of "
            f"{', '.join(DATA_DIRS)} beside it"
            if found
            else "found no *-fault_list.json"
        )
        raise ValueError(f"{source} is not a Nezha dataset ({what}); expected {EXPECTED}")
    return days


def find_days(roots: Sequence[Path]) -> list[Path]:
    """Every Nezha day directory at or below any of ``roots`` (a source may hold only the
    fault-free phase); ``ValueError`` (the first root's reason) if none has one."""
    found: list[Path] = []
    errors: list[ValueError] = []
    for root in roots:
        try:
            found += [d for d in find_day_dirs(root) if d not in found]
        except ValueError as exc:
            errors.append(exc)
    if not found:
        raise errors[0]
    return found


def find_reference_dirs(roots: Sequence[Path]) -> dict[str, Path]:
    """``{date: construct_data/<date>/}`` at or below any of ``roots``: every directory in a
    ``construct_data`` folder that holds log/, trace/ or metric/ (the first one of a date)."""
    found: dict[str, Path] = {}
    for root in roots:
        for folder in _walk_named(root, REFERENCE_DIR, _SEARCH_DEPTH):
            for child in sorted(folder.iterdir()):
                if child.is_dir() and any((child / name).is_dir() for name in DATA_DIRS):
                    found.setdefault(child.name, child)
    return found


def _walk_named(directory: Path, name: str, depth: int) -> Iterator[Path]:
    if directory.name == name:
        yield directory
        return
    if depth > 0 and directory.is_dir():
        for child in sorted(directory.iterdir()):
            if child.is_dir() and not child.name.startswith("."):
                yield from _walk_named(child, name, depth - 1)


def _walk_fault_lists(directory: Path, depth: int) -> Iterator[Path]:
    yield from directory.glob(FAULT_LIST_GLOB)
    if depth > 0:
        for child in sorted(directory.iterdir()):
            if child.is_dir() and not child.name.startswith("."):
                yield from _walk_fault_lists(child, depth - 1)


def read_day(day_dir: Path) -> NezhaDay:
    """Parse the fault list of ``day_dir``; bad entries are logged and left out."""
    lists = sorted(day_dir.glob(FAULT_LIST_GLOB))
    path = lists[0]
    date = path.name.removesuffix("-fault_list.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); expected {EXPECTED}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object {{hour: [fault, ...]}}; expected {EXPECTED}")
    cases: list[FaultCase] = []
    seen: set[str] = set()
    for hour, entries in sorted(data.items()):
        for index, entry in enumerate(entries if isinstance(entries, list) else [entries]):
            try:
                case = _fault_case(date, entry)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("%s: entry %s[%d] skipped: %s", path.name, hour, index, exc)
                continue
            case_id, suffix = case.case_id, 2
            while case_id in seen:
                case_id, suffix = f"{case.case_id}-{suffix}", suffix + 1
            seen.add(case_id)
            cases.append(case if case_id == case.case_id else _renamed(case, case_id))
    cases.sort(key=lambda c: c.inject_time)
    return NezhaDay(root=day_dir, date=date, cases=tuple(cases))


def _fault_case(date: str, entry: Any) -> FaultCase:
    if not isinstance(entry, dict):
        raise TypeError("not an object")
    pod, fault_type = str(entry["inject_pod"]), str(entry["inject_type"])
    text = str(entry["inject_time"])
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"unparsable inject_time {text!r}") from None
    service = service_of(pod)
    minute = moment.replace(second=0)
    minutes = tuple((minute + timedelta(minutes=k)).strftime("%H_%M") for k in range(3))
    case_id = f"{moment:%Y-%m-%d_%H-%M}_{service}_{fault_type}"
    return FaultCase(
        case_id=case_id,
        date=date,
        inject_time=moment,
        pod=pod,
        service=service,
        fault_type=fault_type,
        minutes=minutes,
    )


def _renamed(case: FaultCase, case_id: str) -> FaultCase:
    return FaultCase(
        case_id=case_id,
        date=case.date,
        inject_time=case.inject_time,
        pod=case.pod,
        service=case.service,
        fault_type=case.fault_type,
        minutes=case.minutes,
    )
