"""OpenAICompatModel through the real ``openai`` SDK against the TGI stand-in's Messages API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.llm.model import Message, ToolCall, ToolSpec
from bot.llm.openai_compat import OpenAICompatModel
from bot.llm.settings import LlmSettings
from tests.servers import unreachable_url
from tests.servers.tgi import Reply, TgiStandin, chat_template, tokenize
from tools.errors import ModelOutputError, ModelTimeout, ModelUnavailable

SCHEMA = {"type": "object", "properties": {"statements": {"type": "array"}}}
ANSWER = {"statements": [{"text": "payments-db is saturated", "evidence": ["E1", "E3"]}]}
CHAT = [Message("system", "Explain the incident."), Message("user", "Why is checkout failing?")]
SEARCH = ToolSpec(
    "search_logs",
    "Search the logs of a service.",
    {"type": "object", "properties": {"service": {"type": "string"}}, "required": ["service"]},
)
PROMPT_TOKENS = len(tokenize(chat_template([{"role": m.role, "content": m.content} for m in CHAT])))


def _model(url: str, **settings: object) -> OpenAICompatModel:
    values = {"url": url, "api": "openai", "model": "m", **settings}
    return OpenAICompatModel(LlmSettings.model_validate(values))


@pytest.fixture
async def model(tgi_standin: TgiStandin) -> AsyncIterator[OpenAICompatModel]:
    client = _model(tgi_standin.url, timeout_s=5)
    yield client
    await client.aclose()


async def test_json_completion_sends_a_strict_json_schema(
    model: OpenAICompatModel, tgi_standin: TgiStandin
) -> None:
    tgi_standin.script(Reply.json(ANSWER))
    completion = await model.complete_json(CHAT, SCHEMA, max_new_tokens=200)
    assert json.loads(completion.text) == ANSWER
    assert completion.usage.prompt_tokens == PROMPT_TOKENS
    assert completion.usage.completion_tokens == len(tokenize(json.dumps(ANSWER)))
    request = tgi_standin.received[-1]
    assert request.path == "/v1/chat/completions"
    assert request.body["response_format"]["type"] == "json_schema"
    config = request.body["response_format"]["json_schema"]
    assert config["schema"] == SCHEMA and config["strict"] is True
    assert request.body["response_format"]["value"] == config  # TGI's key
    assert request.body["max_tokens"] == 200 and request.body["temperature"] == 0.0


async def test_stream_chunks_assemble_the_same_text_with_usage(
    model: OpenAICompatModel, tgi_standin: TgiStandin
) -> None:
    tgi_standin.script(Reply.json(ANSWER), Reply.json(ANSWER))
    whole = await model.complete_json(CHAT, SCHEMA, max_new_tokens=200)
    chunks = [chunk async for chunk in model.stream_json(CHAT, SCHEMA, max_new_tokens=200)]
    assert len(chunks) > 1 and "".join(chunks) == whole.text
    assert model.last_usage == whole.usage
    assert tgi_standin.received[-1].body["stream_options"] == {"include_usage": True}


async def test_tool_calls_are_decoded(model: OpenAICompatModel, tgi_standin: TgiStandin) -> None:
    tgi_standin.script(Reply.call("search_logs", {"service": "payments-db"}))
    completion = await model.complete_tools(CHAT, [SEARCH], max_new_tokens=100)
    assert completion.tool_calls == (ToolCall("call_0", "search_logs", {"service": "payments-db"}),)
    assert completion.finish_reason == "tool_calls"
    tools = tgi_standin.received[-1].body["tools"]
    assert tools == [
        {
            "type": "function",
            "function": {
                "name": "search_logs",
                "description": SEARCH.description,
                "parameters": SEARCH.parameters,
            },
        }
    ]


async def test_tool_history_is_sent_in_openai_form(
    model: OpenAICompatModel, tgi_standin: TgiStandin
) -> None:
    history = [
        *CHAT,
        Message("assistant", "", tool_calls=(ToolCall("c1", "search_logs", {"service": "db"}),)),
        Message("tool", "[E4] 12 timeouts", tool_call_id="c1"),
    ]
    await model.complete_tools(history, [SEARCH], max_new_tokens=100)
    sent = tgi_standin.received[-1].body["messages"]
    assert sent[-2] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "search_logs", "arguments": '{"service": "db"}'},
            }
        ],
    }
    assert sent[-1] == {"role": "tool", "content": "[E4] 12 timeouts", "tool_call_id": "c1"}


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]"])
async def test_malformed_tool_arguments_are_an_output_error(
    model: OpenAICompatModel, tgi_standin: TgiStandin, arguments: str
) -> None:
    tgi_standin.script(Reply.call("search_logs", arguments))
    with pytest.raises(ModelOutputError, match="arguments of tool call 'search_logs'"):
        await model.complete_tools(CHAT, [SEARCH], max_new_tokens=100)


async def test_count_tokens_prefers_the_servers_chat_tokenizer(
    model: OpenAICompatModel, tgi_standin: TgiStandin
) -> None:
    assert await model.count_tokens(CHAT) == PROMPT_TOKENS
    assert await model.count_tokens(CHAT) == PROMPT_TOKENS
    assert tgi_standin.paths() == ["/chat_tokenize", "/chat_tokenize"]
    assert not model.tokens_estimated


async def test_count_tokens_falls_back_to_usage_then_an_estimate(
    tgi_standin: TgiStandin,
) -> None:
    tgi_standin.fail["/chat_tokenize"] = Reply.failure(404, "not found", "not_found")
    client = _model(tgi_standin.url)
    assert await client.count_tokens(CHAT) == PROMPT_TOKENS  # a one-token completion's usage
    assert tgi_standin.paths() == ["/chat_tokenize", "/tokenize", "/v1/chat/completions"]
    assert tgi_standin.received[-1].body["max_tokens"] == 1
    tgi_standin.reset()
    tgi_standin.fail["/v1/chat/completions"] = Reply.failure(404, "not found", "not_found")
    estimating = _model(tgi_standin.url)
    estimating._counter = "estimate"  # what it remembers once nothing else worked
    assert await estimating.count_tokens(CHAT) > 0
    assert estimating.tokens_estimated
    await client.aclose()
    await estimating.aclose()


async def test_health_lists_the_served_model(model: OpenAICompatModel) -> None:
    assert await model.health() == "OpenAI-compatible server serving standin/tiny-chat"


async def test_health_fails_when_models_fails(
    model: OpenAICompatModel, tgi_standin: TgiStandin
) -> None:
    tgi_standin.fail["/v1/models"] = Reply.failure(503, "loading", "healthcheck")
    with pytest.raises(ModelUnavailable, match="HTTP 503"):
        await model.health()


async def test_ping_generates_one_token(model: OpenAICompatModel) -> None:
    assert (await model.ping()).usage.completion_tokens == 1


async def test_server_down_is_unavailable() -> None:
    client = _model(unreachable_url())
    with pytest.raises(ModelUnavailable, match="unreachable: APIConnectionError"):
        await client.complete_json(CHAT, SCHEMA, max_new_tokens=10)
    await client.aclose()


#: The timeout cases' limit (their stand-in waits 3 s); every other case gets a limit it
#: never meets, so a slow connect on a loaded machine cannot turn it into a timeout.
TIMEOUT_S, PATIENT_S = 0.5, 10.0


def _timeout_for(error: type[Exception]) -> float:
    return TIMEOUT_S if error is ModelTimeout else PATIENT_S


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (Reply.failure(500, "Incomplete generation", "incomplete_generation"), ModelUnavailable,
         "HTTP 500: 'Incomplete generation'"),
        (Reply.failure(422, "Input validation error", "validation"), ModelUnavailable,
         "HTTP 422"),
        (Reply(delay_s=3), ModelTimeout, "within 0.5s"),
        (Reply.junk(b"{not json"), ModelOutputError, "unexpected form"),
        (Reply.junk(b'{"choices": []}'), ModelOutputError, "no choices"),
        (Reply(text="The database is slow."), ModelOutputError, "not valid JSON"),
    ],
)  # fmt: skip
async def test_failures_map_to_model_errors(
    tgi_standin: TgiStandin, reply: Reply, error: type[Exception], message: str
) -> None:
    client = _model(tgi_standin.url, timeout_s=_timeout_for(error))
    tgi_standin.script(reply)
    with pytest.raises(error, match=message):
        await client.complete_json(CHAT, SCHEMA, max_new_tokens=50)
    await client.aclose()


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (Reply(text=json.dumps(ANSWER), cut_after=3), ModelUnavailable, "unreachable"),
        (Reply(text=json.dumps(ANSWER), end_after=3), ModelOutputError, "ended before"),
        (Reply(text=json.dumps(ANSWER), delay_s=3), ModelTimeout, "within 0.5s"),
        (Reply.failure(422, "Input validation error", "validation"), ModelUnavailable, "422"),
    ],
)
async def test_stream_failures_map_to_model_errors(
    tgi_standin: TgiStandin, reply: Reply, error: type[Exception], message: str
) -> None:
    client = _model(tgi_standin.url, timeout_s=_timeout_for(error))
    tgi_standin.script(reply)
    chunks: list[str] = []

    async def consume() -> None:
        async for chunk in client.stream_json(CHAT, SCHEMA, max_new_tokens=200):
            chunks.append(chunk)

    with pytest.raises(error, match=message):
        await consume()
    assert len(chunks) <= 3
    await client.aclose()


async def test_errors_never_quote_the_api_key(tgi_standin: TgiStandin) -> None:
    client = _model(tgi_standin.url, api_key="sk-hunter2", timeout_s=PATIENT_S)
    tgi_standin.script(Reply.failure(401, "bad key sk-hunter2?", "authentication"))
    with pytest.raises(ModelUnavailable, match="HTTP 401") as caught:
        await client.complete_json(CHAT, SCHEMA, max_new_tokens=5)
    assert "Bearer" not in str(caught.value)
    assert tgi_standin.received[-1].path == "/v1/chat/completions"
    await client.aclose()
