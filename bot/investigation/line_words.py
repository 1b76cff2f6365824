"""What a log line says, by its words: a failure in code, an error returned, or slow work.

The ranking names a service's fault from its own new lines (``ServiceSignals.wrote``) and,
when none grew enough to count alone, from what most of its ERROR lines in the incident say
(:func:`error_lines`). Words, not levels: a WARN "slow search … took 812ms" is a symptom of
time, and an ERROR with a stack trace is an exception whatever else it says.
"""

from __future__ import annotations

import re

from tools.log_patterns import LogFindings
from tools.records import LogLevel

# Words of a failure in code (as opposed to an error the code returned on purpose).
EXCEPTION_WORDS = re.compile(
    r"exception|traceback|stack ?trace|threw|thrown|panic|uncaught|unhandled|segfault|"
    r"nullpointer|null pointer|caused by",
    re.IGNORECASE,
)
# Words of work that was slow (a slow-query log, "took 2315ms"), and of work that failed: a
# line with the first and none of the second says a symptom of time, not an error.
SLOW_WORDS = re.compile(r"\bslow(?:er|ly)?\b|\btook\b|\belapsed\b|\blatency\b|\bduration\b", re.I)
FAILURE_WORDS = re.compile(r"fail|error|refused|denied|timed? ?out|unavailable|reset|abort", re.I)


def says_slow(text: str) -> bool:
    """A line that says work was slow and not that it failed: "slow search … took 812ms",
    Postgres' "duration: 2315 ms statement: …"; not "request timed out after 5000ms"."""
    return bool(SLOW_WORDS.search(text)) and not (
        FAILURE_WORDS.search(text) or EXCEPTION_WORDS.search(text)
    )


def says_exception(text: str) -> bool:
    """A line with words of a failure in code: an exception, a stack trace, a panic."""
    return EXCEPTION_WORDS.search(text) is not None


def error_lines(logs: LogFindings | None) -> dict[str, tuple[int, int]]:
    """Per service, its ERROR lines in the incident, grown or not: (with exception words,
    other). What its errors say when no new line of its own does."""
    found: dict[str, tuple[int, int]] = {}
    for pattern, _ in logs.patterns if logs else []:
        if pattern.max_level < LogLevel.ERROR or pattern.incident_count <= 0:
            continue
        thrown, other = found.get(pattern.service, (0, 0))
        if says_exception(f"{pattern.template} {pattern.example}"):
            thrown += pattern.incident_count
        else:
            other += pattern.incident_count
        found[pattern.service] = (thrown, other)
    return found
