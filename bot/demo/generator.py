"""``generate_case``: simulate one fault and write its bundle plus the ground-truth label."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from bot.demo import incident, writer
from bot.demo.clock import iso_ms
from bot.demo.fault_logs import fault_logs
from bot.demo.faults import DEFAULT_FAULT, DEFAULT_SEED, spec
from bot.demo.logs import request_logs
from bot.demo.metrics import build_table, csv_lines
from bot.demo.model import simulate as simulate_model
from bot.demo.noise import background_logs
from bot.demo.scenario import build
from bot.demo.traces import simulate as simulate_traces


@dataclass(frozen=True)
class DemoCase:
    case_dir: Path  # OUT/<fault>-seed<seed>/
    bundle_dir: Path  # case_dir / "bundle"
    label_path: Path  # case_dir / "label.json"
    fault: str
    root_cause_service: str


def case_name(fault: str, seed: int) -> str:
    return f"{fault}-seed{seed}"


def generate_case(out_dir: Path, fault: str = DEFAULT_FAULT, seed: int = DEFAULT_SEED) -> DemoCase:
    """Write ``out_dir/<fault>-seed<seed>/{bundle/,label.json}``; same inputs, same bytes.

    Raises ``ValueError`` (listing the valid faults) for an unknown fault, or for a negative
    seed. An existing case directory of the same name is replaced.
    """
    spec(fault)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    scenario = build(fault, seed)
    table = build_table(scenario, simulate_model(scenario))
    traces = simulate_traces(scenario)
    lines = request_logs(scenario, traces.visits) + background_logs(scenario, table)
    lines += fault_logs(scenario, table)
    lines.sort(key=lambda line: (line.at_us, line.service, line.instance, line.message))

    case_dir = Path(out_dir) / case_name(fault, seed)
    staged = writer.StagedDir(case_dir)
    try:
        bundle = staged.path / "bundle"
        bundle.mkdir()
        writer.write_jsonl(
            bundle / "logs.jsonl", (line.record(iso_ms(line.at_us)) for line in lines)
        )
        writer.write_lines(bundle / "metrics.csv", csv_lines(table))
        writer.write_jsonl(bundle / "traces.jsonl", traces.spans)
        writer.write_jsonl(bundle / "changes.jsonl", incident.changes(scenario))
        writer.write_json(bundle / "alerts.json", incident.alert_payload(scenario, table))
        writer.write_json(bundle / "manifest.json", incident.manifest(scenario))
        writer.write_json(staged.path / "label.json", incident.label(scenario))
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return DemoCase(
        case_dir=case_dir,
        bundle_dir=case_dir / "bundle",
        label_path=case_dir / "label.json",
        fault=fault,
        root_cause_service=scenario.root,
    )


def postmortems_dir() -> Path:
    """Directory of the packaged Markdown postmortems (``bot/demo/postmortems/``)."""
    return Path(str(files("bot.demo") / "postmortems"))
