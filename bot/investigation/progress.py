"""What an investigation reports while it runs (``engine.investigate_stream``).

In order: ``stage`` events as each stage starts (scope, metrics, gather, rank, postmortems,
write, validate, then model when a model writes the answer), ``statement`` events as each
grounded statement of the model's answer completes (provisional: the final report may fall back
to the deterministic answer), and exactly one ``report`` event, last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.investigation.report import Report


@dataclass(frozen=True, slots=True)
class Progress:
    kind: Literal["stage", "statement", "report"]
    stage: str = ""  # kind "stage": the stage starting
    text: str = ""  # kind "statement": the statement, with its [E#] markers
    report: Report | None = None  # kind "report": the final report

    def line(self) -> str:
        """One line for a terminal."""
        if self.kind == "stage":
            return f"… {self.stage}"
        if self.kind == "statement":
            return f"  {self.text}"
        return "done" if self.report is None else f"done ({self.report.answer_by})"
