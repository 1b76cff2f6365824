"""The investigation report: candidates, evidence, answer, and what it cost.

``Report`` is also the stable machine interface (``--json``); bump ``REPORT_SCHEMA_VERSION``
on any incompatible change. Its JSON Schema is ``Report.model_json_schema()``
(``rcabot schema`` prints it).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, model_validator

from tools.evidence import Evidence, TimeWindow

REPORT_SCHEMA_VERSION = "1"
CITATION = re.compile(r"\[(E[1-9][0-9]*)\]")


class Fallback(StrEnum):
    """Why the deterministic answer stood in for the model's (``Report.fallback``)."""

    TIMEOUT = "timeout"  # the model did not answer in time
    UNAVAILABLE = "unavailable"  # the model server could not be reached or refused
    MALFORMED = "malformed"  # its output was not the answer's JSON
    UNGROUNDED = "ungrounded"  # too little of what it said was grounded in the evidence
    OTHER = "other"


class FaultType(StrEnum):
    """Coarse fault hypotheses the deterministic ranking can support with evidence.

    ``errors`` is an error of unknown kind; ``exception`` (the code failed: exceptions, stack
    traces, an operation that stopped reaching its usual code) and ``error-return`` (the code
    ran and answered with an error) say which, when the evidence does."""

    BAD_DEPLOY = "bad-deploy"
    EXCEPTION = "exception"
    ERROR_RETURN = "error-return"
    ERRORS = "errors"
    LATENCY = "latency"
    CPU = "cpu"
    MEMORY = "memory"
    RESOURCE_EXHAUSTION = "resource-exhaustion"  # a pool, connections, threads, disk, quota
    NETWORK_DELAY = "network-delay"
    DEPENDENCY_OUTAGE = "dependency-outage"
    UNKNOWN = "unknown"


class Candidate(BaseModel):
    """A ranked root-cause hypothesis."""

    rank: int = Field(ge=1)
    service: str
    fault_type: FaultType
    hypothesis: str = Field(description="one sentence; cites evidence ids like [E2]")
    score: float = Field(ge=0.0)
    evidence_ids: list[str] = Field(default_factory=list)
    signals: dict[str, float] = Field(
        default_factory=dict, description="per-signal scores that made up the total"
    )
    propagated: bool = Field(
        default=False,
        description="its own spans look healthy while a service it calls is anomalous: "
        "likely a symptom, not the cause",
    )


class SourceStatus(BaseModel):
    """What happened when a telemetry source was queried."""

    source: str
    backend: str
    ok: bool
    detail: str = ""
    evidence_count: int = 0
    elapsed_ms: float = 0.0


class StageTiming(BaseModel):
    stage: str
    ms: float


class TokenCounts(BaseModel):
    """Tokens the model read and wrote (0 when no model was used)."""

    prompt: int = 0
    completion: int = 0
    evidence: int = Field(default=0, description="tokens of the compact evidence given the model")
    estimated: bool = Field(
        default=False,
        description="prompt/completion are estimates (the model's tokenizer or usage failed)",
    )
    budget: int = Field(default=0, description="the prompt budget in tokens (0: no model)")
    trimmed_evidence: list[str] = Field(
        default_factory=list, description="evidence ids left out of the prompt to fit the budget"
    )


class Report(BaseModel):
    schema_version: str = REPORT_SCHEMA_VERSION
    question: str = Field(description="the question asked or the alert investigated")
    scope: str = Field(description="what was investigated: alert, service, bundle")
    window: TimeWindow
    incident_start: str = Field(description="ISO time the symptoms started (alert or detected)")
    reference: TimeWindow | None = Field(
        default=None,
        description="the healthy period the incident was compared against (normal behaviour); "
        "null: the part of the window before the incident start",
    )
    candidates: list[Candidate]
    evidence: list[Evidence]
    answer: str = Field(description="the answer; every sentence cites [E#]")
    answer_by: str = Field(description="'llm' (the model wrote it) or 'deterministic'")
    answer_note: str = Field(
        default="", description="one line: why the model was not used, or what it was"
    )
    model: str | None = Field(default=None, description="the model asked, when one was")
    fallback: Fallback | None = Field(
        default=None,
        description="why the deterministic answer stood in for the model's; null: the model "
        "wrote the answer, or none was asked",
    )
    dropped_statements: list[str] = Field(
        default_factory=list,
        description="statements removed: uncited, or not grounded in their evidence (with why)",
    )
    sources: list[SourceStatus]
    warnings: list[str] = Field(default_factory=list)
    timings: list[StageTiming] = Field(default_factory=list)
    tokens: TokenCounts = Field(default_factory=TokenCounts)

    @property
    def failed_sources(self) -> list[SourceStatus]:
        return [s for s in self.sources if not s.ok]

    def evidence_by_id(self) -> dict[str, Evidence]:
        return {e.id: e for e in self.evidence}

    @model_validator(mode="after")
    def _citations_resolve(self) -> Self:
        known = {e.id for e in self.evidence}
        if len(known) != len(self.evidence):
            raise ValueError("duplicate evidence ids")
        cited = set(CITATION.findall(self.answer))
        for candidate in self.candidates:
            cited.update(candidate.evidence_ids)
            cited.update(CITATION.findall(candidate.hypothesis))
        missing = sorted(cited - known)
        if missing:
            raise ValueError(f"report cites evidence that does not exist: {missing}")
        return self
