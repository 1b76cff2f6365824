"""Deterministic pre-analysis: compact, scored findings from raw telemetry (no I/O here)."""
