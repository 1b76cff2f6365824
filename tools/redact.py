"""Secrets and PII are masked before text reaches the model or Slack.

Telemetry is untrusted: log lines carry tokens, passwords in URLs, emails, card numbers.
Every evidence excerpt, summary and title passes through :func:`redact`.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        "[REDACTED private key]",
    ),
    (re.compile(r"\b(?:eyJ[\w-]{8,}\.){2}[\w-]{8,}\b"), "[REDACTED jwt]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}"), r"\1 [REDACTED]"),
    (re.compile(r"\bxox[abposr]-[\w-]{10,}\b"), "[REDACTED slack token]"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "[REDACTED aws key]"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "[REDACTED github token]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"), "[REDACTED api key]"),
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)"
            r"(\s*[=:]\s*|\"\s*:\s*\")([^\s\"',;&]{3,})"
        ),
        r"\1\2[REDACTED]",
    ),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s:/@]+):([^\s@/]+)@"), r"\1\2:[REDACTED]@"),
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]*[a-zA-Z]\b"), "[REDACTED email]"),
    (re.compile(r"\b(?:\d[ -]?){13,16}\b"), "[REDACTED card]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
