"""The gateway: one path for every tool call, with validation, time limit, error mapping and
the text pipeline applied once, whatever the tool."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

import pytest
from pydantic import Field

from tests.bundles import T0
from tools.backends import LogHistogram, LogPage, LogQuery, QueryInfo
from tools.deps import Deps, MissingClientError, configured
from tools.errors import BackendError, RetrievalError, TransientBackendError
from tools.evidence import EvidenceDraft, TimeWindow
from tools.gateway import ToolGateway
from tools.log_patterns import log_patterns
from tools.records import LogLevel, LogRecord
from tools.result import ToolResult, ToolStatus
from tools.search_logs import search_logs
from tools.settings import InvestigationSettings
from tools.tool import tool

WINDOW = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
JSON_WINDOW = {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"}
# built at run time so no scanner mistakes this file for a leak
TOKEN = "xoxb-" + "123456789012-abcdefghijklmnop"


class _Logs:
    """Logs whose every line (and query text) carries a Slack token; counts searches."""

    name = "memory"

    def __init__(self, fail: Exception | None = None) -> None:
        self.searches = 0
        self.fail = fail

    async def search(self, query: LogQuery) -> LogPage:
        self.searches += 1
        if self.fail:
            raise self.fail
        record = LogRecord(T0, "api", LogLevel.ERROR, f"auth failed for token={TOKEN}")
        return LogPage([record] * 3, total=3)

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        return {}

    async def histogram(self, query: LogQuery, interval: timedelta) -> LogHistogram:
        return LogHistogram(WINDOW.start, interval, {})

    def describe(self, query: LogQuery) -> QueryInfo:
        return QueryInfo(f'message:"{TOKEN}"', f"http://kibana/?q={TOKEN}")


@tool(source="logs")
async def chatty(
    deps: Deps, delay_s: Annotated[float, Field(ge=0, description="how long to take")] = 0
) -> ToolResult[int]:
    """Waits ``delay_s``, then reports a warning quoting a log line (for gateway tests)."""
    configured(deps.logs)
    await asyncio.sleep(delay_s)
    warning = f"sampled line: {TOKEN}"
    return ToolResult("whatever", "wrong", "memory", ToolStatus.OK, data=1, warnings=[warning])


@tool(source="logs")
async def buggy(deps: Deps) -> ToolResult[int]:
    """Has a bug: a programming error must reach the developer, not become a result."""
    return ToolResult("buggy", "logs", "memory", ToolStatus.OK, data={"a": 1}["b"])


@tool(source="postmortems")
async def broken_index(deps: Deps) -> ToolResult[int]:
    """The postmortem index cannot be read."""
    raise RetrievalError("chroma at /var/index: unreadable")


def _gateway(logs: _Logs | None = None, **deps: object) -> ToolGateway:
    tools = [search_logs, chatty, buggy, broken_index]
    return ToolGateway(Deps(logs=logs or _Logs(), **deps), tools)  # type: ignore[arg-type]


def _all_text(result: ToolResult[Any]) -> str:
    parts = [result.tool, result.error or "", *result.warnings]
    for draft in result.evidence:
        parts += [str(getattr(draft, f)) for f in EvidenceDraft.model_fields]
    return "\n".join(parts)


async def test_a_typed_call_runs_the_tool_and_cleans_every_evidence_field() -> None:
    result = await _gateway().call(search_logs, window=WINDOW, text="auth failed")
    assert result.status is ToolStatus.OK
    assert result.data is not None and result.data.total == 3  # data is the tool's own
    (draft,) = result.evidence
    assert "auth failed" in draft.excerpt
    assert TOKEN not in _all_text(result)
    assert "REDACTED" in draft.excerpt and "REDACTED" in draft.query
    assert draft.link is not None and TOKEN not in draft.link


async def test_warnings_are_cleaned_and_the_result_is_stamped_with_the_tool() -> None:
    result = await _gateway().call(chatty)
    assert result.warnings and TOKEN not in result.warnings[0]
    assert result.warnings[0].startswith("sampled line: ")
    assert (result.tool, result.source) == ("chatty", "logs")


async def test_a_backend_failure_is_an_error_result_with_the_message_cleaned() -> None:
    logs = _Logs(fail=BackendError("elasticsearch", f"HTTP 401 for api key {TOKEN}"))
    result = await _gateway(logs).call(search_logs, window=WINDOW)
    assert result.status is ToolStatus.ERROR and not result.ok
    assert result.error is not None and result.error.startswith("elasticsearch: HTTP 401")
    assert TOKEN not in result.error
    assert result.backend == "memory"


async def test_a_retrieval_failure_is_an_error_result() -> None:
    result = await _gateway(postmortems=object()).call(broken_index)
    assert result.status is ToolStatus.ERROR
    assert result.error == "chroma at /var/index: unreadable"


async def test_the_time_limit_holds_for_every_tool() -> None:
    limits = InvestigationSettings(tool_timeout_s=0.05)
    result = await _gateway(limits=limits).call(chatty, delay_s=5)
    assert result.status is ToolStatus.ERROR
    assert result.error == "timed out after 0.05s"
    assert 40 <= result.elapsed_ms < 2_000


async def test_a_missing_source_is_unavailable_with_the_reason() -> None:
    gateway = ToolGateway(Deps(unavailable={"logs": "bundle has no logs.jsonl"}))
    result = await gateway.call(search_logs, window=WINDOW)
    assert (result.status, result.error, result.backend) == (
        ToolStatus.UNAVAILABLE,
        "bundle has no logs.jsonl",
        "none",
    )
    bare = await ToolGateway(Deps()).call(search_logs, window=WINDOW)
    assert bare.error == "no logs backend configured"


async def test_a_bug_in_a_tool_raises() -> None:
    with pytest.raises(KeyError):
        await _gateway().call(buggy)


async def test_a_tool_called_around_the_gateway_without_its_client_is_a_bug() -> None:
    with pytest.raises(MissingClientError):
        await search_logs.function(Deps(), WINDOW)


async def test_a_typed_call_that_does_not_bind_is_a_bug() -> None:
    with pytest.raises(TypeError):
        await _gateway().call(search_logs, window=WINDOW, limt=3)  # type: ignore[call-arg]


async def test_a_typed_call_outside_the_constraints_is_refused_before_running() -> None:
    logs = _Logs()
    result = await _gateway(logs).call(search_logs, window=WINDOW, limit=10_000)
    assert result.status is ToolStatus.ERROR
    assert result.error == "invalid arguments: limit: Input should be less than or equal to 50"
    assert logs.searches == 0


async def test_json_arguments_are_validated_by_the_generated_model() -> None:
    logs = _Logs()
    gateway = _gateway(logs)
    result = await gateway.call_json("search_logs", {"window": JSON_WINDOW, "services": ["api"]})
    assert result.ok and logs.searches == 1
    assert result.evidence[0].service == "api"


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({}, "window: Field required"),
        ({"window": JSON_WINDOW, "limit": "many"}, "limit: Input should be a valid integer"),
        ({"window": JSON_WINDOW, "verbose": True}, "verbose: Extra inputs are not permitted"),
        ({"window": {"start": "2026-03-02T10:00:00Z", "end": "2026-03-02T09:00:00Z"}}, "window:"),
        ({"window": JSON_WINDOW, "text": "x" * 501}, "text: String should have at most 500"),
    ],
)
async def test_bad_json_arguments_are_a_structured_error_naming_the_field(
    arguments: dict[str, object], named: str
) -> None:
    logs = _Logs()
    result = await _gateway(logs).call_json("search_logs", arguments)
    assert result.status is ToolStatus.ERROR
    assert result.error is not None and result.error.startswith("invalid arguments: ")
    assert named in result.error
    assert (result.tool, result.source) == ("search_logs", "logs")
    assert logs.searches == 0


async def test_refused_values_are_not_echoed() -> None:
    result = await _gateway().call_json("search_logs", {"window": JSON_WINDOW, "note": TOKEN})
    assert result.error == "invalid arguments: note: Extra inputs are not permitted"


async def test_an_unknown_tool_is_a_structured_error_listing_the_known_ones() -> None:
    result = await _gateway().call_json("drop_tables", {})
    assert result.status is ToolStatus.ERROR and not result.ok
    assert result.tool == "drop_tables"
    assert result.error == "unknown tool; known: search_logs, chatty, buggy, broken_index"


async def test_an_unknown_tool_name_goes_through_the_pipeline_too() -> None:
    result = await _gateway().call_json(f"x {TOKEN} " + "y" * 500, {})
    assert TOKEN not in result.tool and len(result.tool) <= 100


class _HalfBrokenLogs(_Logs):
    """Searches fail at once; counts take a while and record whether they ever finished."""

    def __init__(self) -> None:
        super().__init__(fail=TransientBackendError("elasticsearch", "HTTP 500"))
        self.counting = 0
        self.counted = 0

    async def count_by_service(self, query: LogQuery) -> dict[str, int]:
        self.counting += 1
        try:
            await asyncio.sleep(0.3)
            self.counted += 1
            return {}
        finally:
            self.counting -= 1


async def test_a_failed_request_leaves_none_of_the_tools_other_requests_running() -> None:
    # log_patterns asks for lines and counts at once; the lines fail. With asyncio.gather the
    # counts went on after the failed result was returned, past the investigation and the
    # client's close (a closed Elasticsearch client opens a new pool for them, never closed).
    logs = _HalfBrokenLogs()
    result = await ToolGateway(Deps(logs=logs)).call(
        log_patterns, window=WINDOW, incident_start=WINDOW.start + timedelta(minutes=30)
    )
    assert result.status is ToolStatus.ERROR and "HTTP 500" in (result.error or "")
    assert logs.counting == 0  # cancelled and awaited before the result came back
    await asyncio.sleep(0.4)
    assert logs.counted == 0
