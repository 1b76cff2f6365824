"""The wire path against a **real** small model: SmolLM2-135M-Instruct served by llama.cpp's
OpenAI-compatible server (:mod:`tests.servers.llamacpp`), driven first by the ``openai`` SDK
(what the server speaks), then by rcabot's own client (:class:`OpenAICompatModel`) and writer.

The model writes poor prose, so these tests assert protocol and shape, never content: a
schema-constrained answer parses and validates, a stream arrives in several chunks that join to
the same kind of JSON, a tool call is well formed, usage counts are real token counts. Every
request is bounded (few tokens, a client timeout), so the module runs in well under a minute
(about 16 s on two CPU cores, the server's start included).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam
from pydantic import BaseModel, ConfigDict, Field

from bot.config import load_settings
from bot.investigation.engine import investigate
from bot.investigation.report import CITATION, Report
from bot.investigation.request import InvestigationRequest
from bot.investigation.sources import bundle_sources
from bot.llm.answer import Kept
from bot.llm.model import Message, ToolSpec
from bot.llm.openai_compat import OpenAICompatModel
from bot.llm.settings import LlmSettings
from bot.llm.writer import WriteLimits, stream_with_model
from tests.bundles import small_incident
from tests.servers.llamacpp import LlamaCppServer
from tools.text import TextPipeline

REQUEST_TIMEOUT_S = 30.0
MAX_TOKENS = 96

# The answer contract's shape (statements citing evidence ids), small enough for a 135M model.
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "statements": {
            "type": "array",
            "minItems": 1,
            "maxItems": 2,
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "maxLength": 80},
                    "evidence": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 2,
                        "items": {"type": "string", "enum": ["E1", "E2", "E3"]},
                    },
                },
                "required": ["text", "evidence"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["statements"],
    "additionalProperties": False,
}


class Statement(BaseModel):
    """:data:`ANSWER_SCHEMA`'s items, as a validator."""

    model_config = ConfigDict(extra="forbid", strict=True)
    text: str = Field(max_length=80)
    evidence: list[str] = Field(min_length=1, max_length=2)


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    statements: list[Statement] = Field(min_length=1, max_length=2)


def validated(text: str) -> Answer:
    answer = Answer.model_validate_json(text)
    for statement in answer.statements:
        assert set(statement.evidence) <= {"E1", "E2", "E3"}
    return answer


SEARCH_LOGS: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "search_logs",
        "description": "Search the logs of one service for a text.",
        "parameters": {
            "type": "object",
            "properties": {
                "service": {"type": "string", "enum": ["checkout", "payments", "db"]},
                "query": {"type": "string", "maxLength": 40},
            },
            "required": ["service", "query"],
            "additionalProperties": False,
        },
    },
}

MESSAGES: list[ChatCompletionMessageParam] = [
    {
        "role": "system",
        "content": "You explain incidents. Cite evidence ids. Answer in JSON.",
    },
    {
        "role": "user",
        "content": (
            "Evidence:\n[E1] checkout error rate 12% at 10:02\n"
            "[E2] payments p99 latency 4.1 s at 10:01\n[E3] db connections 100/100 at 10:00\n"
            "What is the root cause?"
        ),
    },
]

# llama-cpp-python 0.3.36 takes a schema as {"type": "json_object", "schema": ...}; it rejects
# OpenAI's {"type": "json_schema", ...} (422). The body field is set through ``extra_body``.
RESPONSE_FORMAT = {"response_format": {"type": "json_object", "schema": ANSWER_SCHEMA}}


@pytest.fixture
async def client(llamacpp: LlamaCppServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=llamacpp.v1, api_key="unused", timeout=REQUEST_TIMEOUT_S, max_retries=0
    ) as sdk:
        yield sdk


async def test_the_server_lists_the_model(
    client: openai.AsyncOpenAI, llamacpp: LlamaCppServer
) -> None:
    models = [m.id async for m in client.models.list()]
    assert models == [llamacpp.model]


async def test_schema_constrained_answer_parses_validates_and_counts_tokens(
    client: openai.AsyncOpenAI, llamacpp: LlamaCppServer
) -> None:
    completion = await client.chat.completions.create(
        model=llamacpp.model,
        messages=MESSAGES,
        temperature=0,
        max_tokens=MAX_TOKENS * 2,
        extra_body=RESPONSE_FORMAT,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"  # the grammar closed the object, not the token limit
    assert choice.message.content is not None
    validated(choice.message.content)
    usage = completion.usage
    assert usage is not None
    assert isinstance(usage.prompt_tokens, int)
    assert isinstance(usage.completion_tokens, int)
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_prompt_tokens_are_the_served_tokenizers_count(
    client: openai.AsyncOpenAI, llamacpp: LlamaCppServer
) -> None:
    """A longer prompt costs more tokens: ``usage`` counts, it does not echo a constant."""
    counts = []
    for repeat in (1, 4):
        content = "db connections 100/100 at 10:00. " * repeat
        messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": content}]
        completion = await client.chat.completions.create(
            model=llamacpp.model, messages=messages, temperature=0, max_tokens=1
        )
        assert completion.usage is not None
        counts.append(completion.usage.prompt_tokens)
    assert counts[1] > counts[0] > 0


async def test_a_stream_arrives_in_chunks_that_join_to_valid_json(
    client: openai.AsyncOpenAI, llamacpp: LlamaCppServer
) -> None:
    stream = await client.chat.completions.create(
        model=llamacpp.model,
        messages=MESSAGES,
        temperature=0,
        max_tokens=MAX_TOKENS * 2,
        stream=True,
        extra_body=RESPONSE_FORMAT,
    )
    pieces: list[str] = []
    finish: list[str] = []
    async for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason is not None:
                finish.append(choice.finish_reason)
    assert len(pieces) > 1
    assert finish == ["stop"]
    validated("".join(pieces))


async def test_a_forced_tool_call_is_well_formed(
    client: openai.AsyncOpenAI, llamacpp: LlamaCppServer
) -> None:
    completion = await client.chat.completions.create(
        model=llamacpp.model,
        messages=[*MESSAGES[:1], {"role": "user", "content": "Check the payments logs."}],
        temperature=0,
        max_tokens=MAX_TOKENS,
        tools=[SEARCH_LOGS],
        tool_choice={"type": "function", "function": {"name": "search_logs"}},
    )
    calls = completion.choices[0].message.tool_calls or []
    assert len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id
    assert call.function.name == "search_logs"
    arguments = json.loads(call.function.arguments)
    assert set(arguments) == {"service", "query"}
    assert arguments["service"] in {"checkout", "payments", "db"}
    assert isinstance(arguments["query"], str)


async def test_with_tools_offered_the_answer_is_a_tool_call_or_text(
    client: openai.AsyncOpenAI, llamacpp: LlamaCppServer
) -> None:
    """``tool_choice="auto"``: the model may call a tool or answer; either way it is well formed."""
    completion = await client.chat.completions.create(
        model=llamacpp.model,
        messages=[*MESSAGES[:1], {"role": "user", "content": "Search the db logs for timeouts."}],
        temperature=0,
        max_tokens=MAX_TOKENS,
        tools=[SEARCH_LOGS],
        tool_choice="auto",
    )
    message = completion.choices[0].message
    if message.tool_calls:
        for call in message.tool_calls:
            assert call.type == "function"
            assert call.function.name == "search_logs"
            assert isinstance(json.loads(call.function.arguments), dict)
    else:
        assert isinstance(message.content, str)


async def test_openais_json_schema_format_is_refused_loudly(
    client: openai.AsyncOpenAI, llamacpp: LlamaCppServer
) -> None:
    """llama-cpp-python 0.3.36 knows only ``json_object`` (+ ``schema``): OpenAI's
    ``json_schema`` response format is an error (HTTP 500 naming the field), never ignored."""
    with pytest.raises(openai.APIStatusError, match="response_format") as raised:
        await client.chat.completions.create(
            model=llamacpp.model,
            messages=MESSAGES,
            max_tokens=8,
            extra_body={
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": ANSWER_SCHEMA},
                }
            },
        )
    assert raised.value.status_code >= 400


# --- through rcabot's own client and writer ---------------------------------------------------


@pytest.fixture
def real_settings(llamacpp: LlamaCppServer) -> LlmSettings:
    """The ``llm`` settings section pointing rcabot at the real small model."""
    return LlmSettings(
        url=llamacpp.url,
        api="openai",
        model=llamacpp.model,
        timeout_s=REQUEST_TIMEOUT_S,
        max_new_tokens=MAX_TOKENS * 2,
        prompt_budget_tokens=3_000,  # the fixture's context is 4096 tokens
    )


@pytest.fixture
async def real_model(real_settings: LlmSettings) -> AsyncIterator[OpenAICompatModel]:
    """rcabot's OpenAI-compatible client, pointed at the real small model."""
    model = OpenAICompatModel(real_settings)
    try:
        yield model
    finally:
        await model.aclose()


@pytest.fixture
async def base(tmp_path: Path) -> Report:
    """A deterministic report of the small test incident: what the writer re-explains."""
    settings = load_settings()
    # three evidence items: a prompt of about 1,000 tokens, which a 135M model on two CPU cores
    # reads in about 5 s (the whole incident's 20 would take about 20 s)
    small = settings.investigation.model_copy(update={"max_evidence": 3, "max_candidates": 2})
    settings = settings.model_copy(update={"investigation": small})
    sources = await bundle_sources(small_incident(tmp_path / "bundle"), settings)
    return await investigate(
        InvestigationRequest(alert=sources.alert), sources.deps, sources.window
    )


CLIENT_MESSAGES = [
    Message("system", str(MESSAGES[0]["content"])),
    Message("user", str(MESSAGES[1]["content"])),
]


async def test_the_client_names_the_served_model(real_model: OpenAICompatModel) -> None:
    assert "SmolLM2-135M-Instruct" in await real_model.health()


async def test_the_client_counts_prompt_tokens_with_the_served_tokenizer(
    real_model: OpenAICompatModel,
) -> None:
    short = await real_model.count_tokens(CLIENT_MESSAGES[1:])
    longer = await real_model.count_tokens(CLIENT_MESSAGES)
    assert 0 < short < longer
    assert not real_model.tokens_estimated


async def test_the_client_gets_a_schema_constrained_answer(real_model: OpenAICompatModel) -> None:
    completion = await real_model.complete_json(
        CLIENT_MESSAGES, ANSWER_SCHEMA, max_new_tokens=MAX_TOKENS * 2
    )
    validated(completion.text)
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0


async def test_the_client_streams_a_schema_constrained_answer(
    real_model: OpenAICompatModel,
) -> None:
    chunks = [
        c
        async for c in real_model.stream_json(
            CLIENT_MESSAGES, ANSWER_SCHEMA, max_new_tokens=MAX_TOKENS * 2
        )
    ]
    assert len(chunks) > 1
    validated("".join(chunks))


async def test_the_client_gets_a_tool_call_or_text(real_model: OpenAICompatModel) -> None:
    spec = SEARCH_LOGS["function"]
    tool = ToolSpec(spec["name"], spec.get("description", ""), spec.get("parameters", {}))
    completion = await real_model.complete_tools(
        [*CLIENT_MESSAGES[:1], Message("user", "Search the db logs for timeouts.")],
        [tool],
        max_new_tokens=MAX_TOKENS,
    )
    for call in completion.tool_calls:
        assert call.name == "search_logs"
        assert isinstance(call.arguments, Mapping)
    assert completion.tool_calls or isinstance(completion.text, str)


@pytest.mark.slow  # about 6 s: a 1,000-token prompt, read on two CPU cores
async def test_the_writer_with_the_real_model_answers_cited_or_falls_back_saying_why(
    base: Report, real_model: OpenAICompatModel, real_settings: LlmSettings
) -> None:
    """A 135M model's statements are mostly ungrounded: whichever way it goes, the answer is
    never empty, every citation resolves, the ranking and evidence are untouched."""
    limits = WriteLimits.from_settings(real_settings)
    events = [e async for e in stream_with_model(base, real_model, limits, TextPipeline())]
    report = events[-1]
    assert isinstance(report, Report)
    assert all(isinstance(e, Kept) for e in events[:-1])
    assert report.candidates == base.candidates
    assert report.evidence == base.evidence
    assert report.answer.strip()
    assert report.tokens.prompt > 0
    if report.answer_by == "llm":
        cited = set(CITATION.findall(report.answer))
        assert cited
        assert cited <= set(report.evidence_by_id())
    else:
        assert report.answer == base.answer
        assert report.answer_note.startswith("model not used: ")
