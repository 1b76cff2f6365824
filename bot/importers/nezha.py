"""Import Nezha fault cases (IntelligentDDS/Nezha, FSE 2023: TrainTicket, OnlineBoutique) as
rcabot bundles.

``import_nezha(source, out_dir)`` writes, per fault case, ``OUT/<case_id>/bundle/`` (format:
``tools/bundle/FORMAT.md``) and the ground truth ``OUT/<case_id>/label.json`` beside it:

- ``logs.jsonl`` and ``traces.jsonl`` from the case's three minute files (the file named for
  the injection minute holds about the minute before it — the baseline — then two after);
- ``metrics.csv``: per-pod and front-end KPIs from ``inject − metrics_before`` to
  ``inject + metrics_after``: every KPI column, named and converted as the table in
  :mod:`bot.importers.nezha_kpis` says, and where the day has them (the OnlineBoutique days)
  the median duration of the calls on each client → server edge as each end measured it,
  ``source_50.csv`` and ``destination_50.csv``, as call-edge series
  (:mod:`bot.importers.nezha_edges`);
- ``alerts.json``: a front-end symptom alert (see :mod:`bot.importers.nezha_alert`);
- ``manifest.json``: name, source, window, services — nothing about the injected fault;
- ``service_map.csv``: who may call whom, from the day's ``metric/dependency.csv`` where it
  has one (:mod:`bot.importers.nezha_dependencies`);
- ``reference/``: the day's fault-free phase in the same format, when the source has the
  upstream layout (``construct_data/<date>/`` beside ``rca_data/<date>/``; see
  :mod:`bot.importers.nezha_reference`). Without it the case says so in its warnings.

``source`` may also be several paths — the two archives upstream ships, or a directory of
each — which are searched together.

Bad input (a missing file, a malformed row, an unparsable timestamp) is skipped and counted in
``ImportedCase.warnings`` (``file:line: why``); a source that is not a Nezha layout raises
``ValueError``.
"""

from __future__ import annotations

import json
import logging
import lzma
import math
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.importers.nezha_alert import (
    alertmanager_payload,
    choose,
    error_symptom,
    fallback_symptom,
    latency_symptom,
)
from bot.importers.nezha_dependencies import read_dependencies, write_bundle_map
from bot.importers.nezha_issues import Issues
from bot.importers.nezha_layout import (
    EXPECTED,
    FaultCase,
    NezhaDay,
    find_days,
    find_reference_dirs,
    read_day,
)
from bot.importers.nezha_logs import convert_logs
from bot.importers.nezha_metrics import FALLBACK_FRONT_SERVICE, MetricStore, load_metrics
from bot.importers.nezha_reference import (
    Reference,
    attach_reference,
    build_reference,
    choose_reference,
    missing_reference_note,
    overlapping,
)
from bot.importers.nezha_time import iso_utc_seconds
from bot.importers.nezha_traces import convert_traces
from tools.bundle.manifest import new_manifest

log = logging.getLogger(__name__)

LICENCE = "IntelligentDDS/Nezha, MIT licence"
# Log/trace rows may lie this far around the minute files' nominal span (1 min before the
# injection minute to 2 min after it) before they count as bad timestamps.
_SLACK_BEFORE_S, _SLACK_AFTER_S = 6 * 60.0, 8 * 60.0


@dataclass(frozen=True)
class ImportedCase:
    case_id: str  # e.g. "2023-01-29_08-43_ts-contacts-service_return"
    case_dir: Path  # OUT/<case_id>/
    bundle_dir: Path  # case_dir / "bundle"
    label_path: Path  # case_dir / "label.json" (ground truth, outside the bundle)
    warnings: tuple[str, ...]
    reference_dir: Path | None = None  # bundle_dir / "reference" when the day has one


def import_nezha(
    source: Path | Sequence[Path],
    out_dir: Path,
    *,
    metrics_before: timedelta = timedelta(minutes=30),
    metrics_after: timedelta = timedelta(minutes=5),
    cases: Sequence[str] | None = None,
) -> list[ImportedCase]:
    """Write one bundle per fault case of ``source`` under ``out_dir``.

    ``source`` is a Nezha ``.tar.xz`` archive (unpacked into a temporary directory that is
    removed afterwards) or a directory at or above ``rca_data/<date>/``, or several of them
    (``[cases.tar.xz, normal.tar.xz]``): the fault cases come from ``rca_data/``, their
    references from ``construct_data/`` in any of them. ``cases`` keeps only the cases whose
    id contains one of the given substrings (``["08-43"]``).
    """
    sources = [Path(source)] if isinstance(source, str | os.PathLike) else list(source)
    out_dir = Path(out_dir)
    if not sources:
        raise ValueError(f"no source given; expected {EXPECTED}")
    for path in sources:
        if not path.exists():
            raise ValueError(f"{path} does not exist; expected {EXPECTED}")
    archives = [p for p in sources if p.is_file()]
    if not archives:
        return _import_tree(sources, out_dir, metrics_before, metrics_after, cases)
    with tempfile.TemporaryDirectory(prefix="rcabot-nezha-") as tmp:
        roots = []
        for index, path in enumerate(sources):
            if path.is_file():
                roots.append(Path(tmp) / str(index))
                _unpack(path, roots[-1])
            else:
                roots.append(path)
        return _import_tree(roots, out_dir, metrics_before, metrics_after, cases)


def _unpack(archive: Path, into: Path) -> None:
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        # a truncated or corrupt archive: tarfile lets the decompressor's error through
        reason = (
            "not a readable tar archive (truncated, or not .tar/.tar.gz/.tar.bz2/.tar.xz)"
            if isinstance(exc, tarfile.ReadError)
            else " ".join(str(exc).split())
        )
        raise ValueError(f"{archive}: cannot unpack: {reason}; expected {EXPECTED}") from exc


def _import_tree(
    roots: list[Path],
    out_dir: Path,
    before: timedelta,
    after: timedelta,
    wanted: Sequence[str] | None,
) -> list[ImportedCase]:
    days = [read_day(d) for d in find_days(roots)]
    every = [case for day in days for case in day.cases]
    if not every:
        where = ", ".join(str(r) for r in roots)
        raise ValueError(f"{where}: the fault list names no usable case; expected {EXPECTED}")
    chosen = [c for c in every if wanted is None or any(w in c.case_id for w in wanted)]
    if not chosen:
        ids = ", ".join(c.case_id for c in every[:5])
        raise ValueError(f"no case id contains any of {list(wanted or [])}; cases are {ids}, ...")
    out_dir.mkdir(parents=True, exist_ok=True)
    phases = find_reference_dirs(roots)
    imported: list[ImportedCase] = []
    for day in days:
        day_cases = [c for c in day.cases if c in chosen]
        if not day_cases:
            continue
        metric_dir = day.root / "metric"
        store = (
            load_metrics(metric_dir, "metric/")
            if metric_dir.is_dir()
            else MetricStore(notes=["metric/: missing; cases have no metrics"])
        )
        # the reference is converted once into a staging directory beside the cases and
        # linked into each bundle; the staging copy goes when the day is done
        dependencies = read_dependencies(day.root, day_issues := Issues())
        with tempfile.TemporaryDirectory(prefix=".reference-", dir=out_dir) as staging:
            reference, notes = _day_reference(day, phases, store, Path(staging))
            notes += day_issues.as_tuple()
            for case in day_cases:
                imported.append(
                    _import_case(
                        day, case, store, out_dir, (before, after), reference, notes, dependencies
                    )
                )
                log.info("imported %s (%d warnings)", case.case_id, len(imported[-1].warnings))
    return imported


def _day_reference(
    day: NezhaDay, phases: dict[str, Path], store: MetricStore, staging: Path
) -> tuple[Reference | None, list[str]]:
    phase, note = choose_reference(phases, day.root.name)
    if phase is None:
        return None, [missing_reference_note(day.root.name)]
    metric_dir = day.root / "metric"
    same_day = phase.name == day.root.name and metric_dir.is_dir()
    reference, notes = build_reference(
        phase,
        staging / "reference",
        (metric_dir, store) if same_day else None,
        f"nezha-{day.system[0]} {phase.name} fault-free phase",
    )
    notes = [*([note] if note else []), *notes]
    if reference is not None:
        notes += list(reference.warnings)
        if count := overlapping(reference, [c.inject_time for c in day.cases]):
            notes.append(
                f"reference: its window holds {count} fault injection(s) of the fault list; "
                "it is not fault-free throughout"
            )
    return reference, notes


def _case_files(
    day: NezhaDay, case: FaultCase, kind: str, issues: Issues
) -> list[tuple[Path, str]]:
    files: list[tuple[Path, str]] = []
    for minute in case.minutes:
        name = f"{kind}/{minute}_{kind}.csv"
        if (day.root / name).is_file():
            files.append((day.root / name, name))
        else:
            issues.note(f"{name}: missing; the case is imported without it")
    return files


def _import_case(
    day: NezhaDay,
    case: FaultCase,
    store: MetricStore,
    out_dir: Path,
    around: tuple[timedelta, timedelta],
    reference: Reference | None,
    day_notes: list[str],
    dependencies: list[tuple[str, str]],
) -> ImportedCase:
    issues = Issues()
    before, after = around
    case_dir = out_dir / case.case_id
    bundle = case_dir / "bundle"
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    reference_dir = attach_reference(reference, bundle) if reference is not None else None
    issues.extend(day_notes)
    inject = case.inject_time.timestamp()
    minute = inject // 60 * 60
    valid = (minute - 60 - _SLACK_BEFORE_S, minute + 120 + _SLACK_AFTER_S)

    logs = convert_logs(_case_files(day, case, "log", issues), bundle / "logs.jsonl", issues, valid)
    traces = convert_traces(
        _case_files(day, case, "trace", issues),
        bundle / "traces.jsonl",
        issues,
        valid,
        logs.error_spans,
    )
    start, end = inject - before.total_seconds(), inject + after.total_seconds()
    with (bundle / "metrics.csv").open("w", encoding="utf-8", newline="") as sink:
        metric_services = store.write(sink, start, end, issues)
    for name, count in (
        ("logs.jsonl", logs.written),
        ("traces.jsonl", traces.written),
        ("metrics.csv", len(metric_services)),
    ):
        if not count:
            (bundle / name).unlink()
            issues.note(f"{name}: no data for this case; file left out of the bundle")

    front = store.front_service or traces.root_service or FALLBACK_FRONT_SERVICE
    symptom = choose(
        error_symptom(traces.roots, logs.error_traces, traces.root_service, inject)
        if traces.root_service
        else None,
        latency_symptom(
            store.front_latency, front, inject, before.total_seconds(), after.total_seconds()
        ),
    ) or fallback_symptom(front, inject)
    _write_json(bundle / "alerts.json", alertmanager_payload(symptom))

    stamps = [t for t in (logs.first, logs.last, traces.first, traces.last) if t is not None]
    window = (min([start, *stamps]), max([end, *stamps]))
    services = sorted(logs.services | traces.services | metric_services)
    write_bundle_map(dependencies, services, bundle)
    _write_json(
        bundle / "manifest.json",
        _manifest(
            day,
            case,
            window,
            services,
            {
                "log_records": logs.written,
                "spans": traces.written,
                "error_spans": traces.errors,
                "duplicate_log_rows_dropped": logs.duplicates,
                "duplicate_spans_dropped": traces.duplicates,
                "bad_lines_skipped": issues.skipped,
            },
        ),
    )
    label_path = case_dir / "label.json"
    _write_json(
        label_path,
        {
            "service": case.service,
            "fault_type": case.fault_type,
            "inject_time": iso_utc_seconds(case.inject_time),
            "instance": case.pod,
            "source": f"nezha-{day.system[0]}-{day.date}",
            "case_id": case.case_id,
            "description": f"Nezha {day.system[1]} fault {case.fault_type!r} injected into pod "
            f"{case.pod} at {iso_utc_seconds(case.inject_time)}",
        },
    )
    return ImportedCase(
        case_id=case.case_id,
        case_dir=case_dir,
        bundle_dir=bundle,
        label_path=label_path,
        warnings=issues.as_tuple(),
        reference_dir=reference_dir,
    )


def _manifest(
    day: NezhaDay,
    case: FaultCase,
    window: tuple[float, float],
    services: list[str],
    stats: dict[str, int],
) -> dict[str, Any]:
    # Nothing here may reveal the injected service, pod or fault type.
    def iso(seconds: float) -> str:
        return iso_utc_seconds(datetime.fromtimestamp(seconds, UTC))

    start, end = math.floor(window[0]), math.ceil(window[1])
    tag, system = day.system
    return new_manifest(
        name=f"nezha-{tag} {day.date} {case.inject_time:%H:%M}",
        source=f"nezha-{tag}-{day.date} ({LICENCE}), imported by rcabot import nezha",
        window=(iso(start), iso(end)),
        services=services,
        description=f"{system} microservices on Kubernetes around one incident: logs and "
        "traces of about one minute before and two after, per-pod metrics at "
        "1-minute resolution.",
        stats=stats,
    )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
