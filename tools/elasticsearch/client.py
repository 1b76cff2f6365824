"""The Elasticsearch client rcabot reads logs with, and how its failures are reported.

:class:`ReadOnlyElasticsearch` is the official async client with one change: every request
passes an **allow-list of read endpoints** before anything is sent. The bot investigates
production; a bug (or a prompt-injected tool call) must not be able to index, update or delete
data, whatever credentials it was given. The check lives in ``perform_request``, which every
API method of the client and of its namespaces (``es.indices.create`` ...) goes through, and
``es.options(...)`` builds ``type(self)(...)``, so derived clients are read-only too.

A refused request raises :class:`ReadOnlyViolation`, a ``PermissionError`` and deliberately
*not* a :class:`tools.errors.RcabotError`: it is a programming error in rcabot, not a backend
failure, so the tool layer (which reports ``BackendError`` as a failed source) must not swallow
it.

Client-side retries are off: :class:`tools.resilience.Resilience` retries, with backoff and a
circuit breaker, and two retry layers would multiply the attempts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from elastic_transport import ApiResponse
from elasticsearch import (
    ApiError,
    AsyncElasticsearch,
    ConnectionError,
    ConnectionTimeout,
    SerializationError,
    SSLError,
    TransportError,
    UnsupportedProductError,
)

from tools.elasticsearch.settings import LogsSettings
from tools.errors import BackendError, BackendTimeout, ConfigError, TransientBackendError

NAME = "elasticsearch"
log = logging.getLogger(__name__)

# An index name, alias or pattern as the client puts it in a path (URL-quoted). Names that
# start with "_" are API endpoints (``/_bulk``, ``/_security``), never targets.
_TARGET = r"/[^/_][^/]*"

# (methods, path) of every endpoint ReadOnlyElasticsearch lets through. Anything else,
# including a read-looking path with a writing method (``PUT /logs/_mapping``), is refused.
READ_ENDPOINTS: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = tuple(
    (frozenset(methods.split()), re.compile(path))
    for methods, path in (
        ("GET HEAD", r"/"),  # info, ping
        ("GET POST", rf"(?:{_TARGET})?/_search"),
        ("GET POST", rf"(?:{_TARGET})?/_count"),
        ("GET POST", rf"(?:{_TARGET})?/_field_caps"),
        ("GET", rf"(?:{_TARGET})?/_mapping(?:/field/[^/]+)?"),
        ("POST", rf"{_TARGET}/_pit"),  # open a point in time
        ("DELETE", r"/_pit"),  # close it
        ("GET POST DELETE", r"/_search/scroll(?:/[^/]+)?"),  # scroll, clear scroll
    )
)


class ReadOnlyViolation(PermissionError):
    """rcabot's code tried to send a request that is not on the read-only allow-list."""


def is_read_request(method: str, path: str) -> bool:
    """Whether ``method path`` (path without query string) is on the allow-list."""
    method = method.upper()
    return any(method in methods and pattern.fullmatch(path) for methods, pattern in READ_ENDPOINTS)


class ReadOnlyElasticsearch(AsyncElasticsearch):
    """``AsyncElasticsearch`` that refuses, before sending, any request but the read endpoints.

    Allowed: ``GET /`` (info), ``_search``, ``_count``, ``_field_caps``, ``GET _mapping``,
    point-in-time open/close and scroll/clear-scroll. See :data:`READ_ENDPOINTS`.
    """

    async def perform_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any | None = None,
        endpoint_id: str | None = None,
        path_parts: Mapping[str, Any] | None = None,
    ) -> ApiResponse[Any]:
        if not is_read_request(method, path):
            what = f" ({endpoint_id})" if endpoint_id else ""
            raise ReadOnlyViolation(
                f"refused {method} {path}{what}: rcabot's Elasticsearch client is read-only "
                "(search, count, field caps, mapping, point in time, scroll, info); "
                "writing belongs to `rcabot load` (bot.loader), with its own client"
            )
        return await super().perform_request(
            method,
            path,
            params=params,
            headers=headers,
            body=body,
            endpoint_id=endpoint_id,
            path_parts=path_parts,
        )


def credentials(settings: LogsSettings) -> tuple[tuple[str, str] | None, str | None]:
    """``(basic_auth, api_key)`` from the settings; at most one of them is set."""
    if settings.api_key and settings.username:
        raise ConfigError(
            "set either RCABOT_LOGS__API_KEY or RCABOT_LOGS__USERNAME/PASSWORD, not both"
        )
    basic_auth: tuple[str, str] | None = None
    if settings.username:
        if settings.password is None:
            raise ConfigError("RCABOT_LOGS__USERNAME is set but RCABOT_LOGS__PASSWORD is not")
        basic_auth = (settings.username, settings.password.get_secret_value())
    return basic_auth, settings.api_key.get_secret_value() if settings.api_key else None


def make_client(settings: LogsSettings) -> ReadOnlyElasticsearch:
    """The read-only client for ``settings`` (caller closes it with ``await es.close()``)."""
    if not settings.url:
        raise ConfigError("Elasticsearch URL is not set: set RCABOT_LOGS__URL (or logs.url)")
    basic_auth, api_key = credentials(settings)
    if not settings.verify_tls and settings.url.startswith("https://"):
        # Said once here, in the log, rather than as a Python warning on every connection.
        log.warning("TLS certificate verification is off for %s (logs.verify_tls)", settings.url)
    return ReadOnlyElasticsearch(
        settings.url,
        basic_auth=basic_auth,
        api_key=api_key,
        verify_certs=settings.verify_tls,
        ssl_show_warn=False,
        request_timeout=settings.timeout_s,
        # Resilience retries; the client must not retry underneath it.
        max_retries=0,
        retry_on_timeout=False,
        retry_on_status=(),
        # Ask for gzip: search responses full of log lines compress ~10x.
        http_compress=True,
    )


def backend_error(exc: Exception, *, index: str, action: str) -> BackendError:
    """Map a vendor exception from ``action`` on ``index`` to rcabot's error hierarchy.

    Unreachable, timed out, HTTP 5xx and 429 are transient (retried by ``Resilience``);
    everything else means the request or the configuration is wrong and is not retried.
    """
    where = f"{action} on {index!r}"
    if isinstance(exc, ConnectionTimeout):
        return BackendTimeout(NAME, f"timed out ({where})")
    if isinstance(exc, SSLError):
        return BackendError(
            NAME, f"TLS error ({where}): {exc}; check the certificate or RCABOT_LOGS__VERIFY_TLS"
        )
    if isinstance(exc, ConnectionError):
        return TransientBackendError(NAME, f"unreachable ({where}): {exc}")
    if isinstance(exc, SerializationError):
        return BackendError(NAME, f"malformed JSON in the answer to {where}: {exc}")
    if isinstance(exc, UnsupportedProductError):
        return BackendError(
            NAME, f"the server is not Elasticsearch ({where}); check RCABOT_LOGS__URL"
        )
    if isinstance(exc, ApiError):
        return _api_error(exc, index=index, where=where)
    if isinstance(exc, TransportError):
        return TransientBackendError(NAME, f"transport error ({where}): {exc}")
    raise TypeError(f"not an Elasticsearch client error: {exc!r}") from exc


def _api_error(exc: ApiError, *, index: str, where: str) -> BackendError:
    status = exc.meta.status
    kinds = error_types(exc.body)
    reason = error_reason(exc.body, exc.message)
    if "index_not_found_exception" in kinds:
        return BackendError(
            NAME,
            f"index {index!r} not found (no index or alias matches it); "
            "set RCABOT_LOGS__INDEX to an existing index or pattern",
        )
    if "too_many_buckets_exception" in kinds:
        return BackendError(
            NAME, f"too many histogram buckets ({where}): use a wider interval or fewer services"
        )
    if status == 401:
        return BackendError(
            NAME,
            f"authentication failed ({where}); check RCABOT_LOGS__USERNAME/PASSWORD or "
            "RCABOT_LOGS__API_KEY",
        )
    if status == 403:
        return BackendError(
            NAME, f"not allowed ({where}): {reason}; the user needs read access to the index"
        )
    text = f"HTTP {status} ({where}): {reason}" if reason else f"HTTP {status} ({where})"
    if "no mapping found" in reason.lower():
        text += "; check the field names in RCABOT_LOGS__FIELDS__*"
    if status == 429 or status >= 500:
        return TransientBackendError(NAME, text)
    return BackendError(NAME, text)


def error_types(body: Any) -> set[str]:
    """Exception types named in an Elasticsearch error body (top level and root causes)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set()
    found = [error, error.get("caused_by")]
    causes = error.get("root_cause")
    if isinstance(causes, list):
        found += causes
    return {str(e["type"]) for e in found if isinstance(e, dict) and e.get("type")}


def error_reason(body: Any, fallback: str, limit: int = 300) -> str:
    """A one-line reason from an Elasticsearch error body: the root cause's when there is one.

    The top level often only says ``search_phase_execution_exception: all shards failed``.
    """
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        causes = error.get("root_cause")
        cause = causes[0] if isinstance(causes, list) and causes else error
        if not isinstance(cause, dict):
            cause = error
        text = f"{cause.get('type', '')}: {cause.get('reason', '')}".strip(": ")
    elif isinstance(error, str):
        text = error
    elif isinstance(body, str) and body.strip():
        text = body
    else:
        text = fallback
    return " ".join(text.split())[:limit]
