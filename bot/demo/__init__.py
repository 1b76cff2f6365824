"""Deterministic demo incidents (a simulated shop with one injected fault) and postmortems.

``generate_case(out_dir, fault, seed)`` writes a telemetry bundle (``tools/bundle/FORMAT.md``)
and, next to it, the ground-truth ``label.json``; ``postmortems_dir()`` holds past incident
write-ups of the same fictional company for retrieval.
"""

from bot.demo.faults import DEFAULT_FAULT, DEFAULT_SEED, FAULTS
from bot.demo.generator import DemoCase, generate_case, postmortems_dir

__all__ = [
    "DEFAULT_FAULT",
    "DEFAULT_SEED",
    "FAULTS",
    "DemoCase",
    "generate_case",
    "postmortems_dir",
]
