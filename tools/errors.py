"""The one exception hierarchy of rcabot.

::

    RcabotError                 base; the CLI prints its message, never a traceback
    ├── ConfigError             a setting is missing or invalid (message says which and how to fix)
    ├── BundleError             a telemetry bundle cannot be read (names the file and line)
    ├── BackendError            a telemetry backend failed (unreachable, HTTP error, bad JSON)
    │   ├── TransientBackendError  ... a failure worth retrying (unreachable, 5xx, 429)
    │   │   └── BackendTimeout     ... specifically ran out of time
    │   └── CircuitOpen         ... not tried: the backend failed repeatedly just now
    ├── InvestigationError      the investigation cannot start (e.g. no scope: no alert, no service)
    ├── RetrievalError          the postmortem index cannot be opened, read or written
    ├── ModelError              the language model failed: the deterministic answer is used
    │   ├── ModelUnavailable    ... unreachable, HTTP error, not configured
    │   ├── ModelTimeout        ... did not answer within its deadline
    │   └── ModelOutputError    ... answered, but not in the agreed form (bad JSON, no tool)
    ├── DatasetImportError      a dataset importer was given something it cannot convert
    └── StateError              the bot's state store (SQLite, Redis) failed

Vendor exceptions are mapped at the boundary with ``raise ... from exc`` so the cause stays
visible in logs. Expected failures of a *source* during an investigation are not raised to the
user: tools catch :class:`BackendError` and return a structured failure that the report shows.
Programming errors (``TypeError``, ``KeyError`` in our code) are never caught.
"""

from __future__ import annotations


class RcabotError(Exception):
    """Base class of every error rcabot raises on purpose."""


class ConfigError(RcabotError):
    """A setting is missing or invalid."""


class BundleError(RcabotError):
    """A telemetry bundle (directory of exported telemetry) cannot be read."""


class BackendError(RcabotError):
    """A telemetry backend (Elasticsearch, Prometheus, Jaeger, Tempo, bundle) failed."""

    def __init__(
        self, backend: str, message: str, *, status: int | None = None, body: str | None = None
    ) -> None:
        super().__init__(f"{backend}: {message}")
        self.backend = backend
        self.reason = message
        self.status = status  # the HTTP status of the backend's answer, when there was one
        self.body = body  # the start of that answer's body (for reading the backend's reason)


class TransientBackendError(BackendError):
    """A backend failure that may go away on retry: unreachable, HTTP 5xx or 429."""


class BackendTimeout(TransientBackendError):
    """A backend did not answer in time."""


class CircuitOpen(BackendError):
    """A backend is skipped because it failed repeatedly moments ago (circuit breaker open)."""


class InvestigationError(RcabotError):
    """An investigation cannot start with the request it was given."""


class RetrievalError(RcabotError):
    """The postmortem index (Chroma) cannot be opened, read or written; says which and why."""


class ModelError(RcabotError):
    """The language model failed; callers fall back to the deterministic answer, saying why."""


class ModelUnavailable(ModelError):
    """The model server is unreachable, refused the request, or is not configured."""


class ModelTimeout(ModelError):
    """The model did not answer within its deadline."""


class ModelOutputError(ModelError):
    """The model answered, but not in the agreed form (malformed JSON, schema violation)."""


class DatasetImportError(RcabotError):
    """A dataset importer was given input it cannot convert."""


class StateError(RcabotError):
    """The bot's state store (SQLite, Redis) cannot be opened, read or written."""
