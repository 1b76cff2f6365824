"""Jaeger: the traces backend over the Jaeger query service's HTTP JSON API."""

from __future__ import annotations

from tools.jaeger.traces import JaegerTraces

__all__ = ["JaegerTraces"]
