"""Grafana Tempo: the traces backend over Tempo's HTTP API (TraceQL search, OTLP/JSON traces)."""

from __future__ import annotations

from tools.tempo.traces import TempoTraces

__all__ = ["TempoTraces"]
