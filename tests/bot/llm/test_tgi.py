"""TgiModel through the real ``text-generation`` client against the TGI stand-in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.llm.model import Message, ToolCall, ToolSpec
from bot.llm.settings import LlmSettings
from bot.llm.tgi import TgiModel, tool_schema
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


def _model(url: str, **settings: object) -> TgiModel:
    return TgiModel(LlmSettings.model_validate({"url": url, "model": "m", **settings}))


@pytest.fixture
async def model(tgi_standin: TgiStandin) -> AsyncIterator[TgiModel]:
    client = _model(tgi_standin.url, timeout_s=5)
    yield client
    await client.aclose()


def _prompt_tokens(messages: list[dict[str, str]]) -> int:
    return len(tokenize(chat_template(messages)))


async def test_json_completion_renders_the_chat_template_and_constrains_by_grammar(
    model: TgiModel, tgi_standin: TgiStandin
) -> None:
    tgi_standin.script(Reply.json(ANSWER))
    completion = await model.complete_json(CHAT, SCHEMA, max_new_tokens=200)
    assert json.loads(completion.text) == ANSWER
    expected_prompt = [{"role": m.role, "content": m.content} for m in CHAT]
    assert completion.usage.prompt_tokens == _prompt_tokens(expected_prompt)
    assert completion.usage.completion_tokens == len(tokenize(json.dumps(ANSWER)))
    assert completion.finish_reason == "eos_token"
    assert model.last_usage == completion.usage
    generate = tgi_standin.received[-1]
    assert generate.body["inputs"] == chat_template(expected_prompt)
    parameters = generate.body["parameters"]
    assert parameters["grammar"] == {"type": "json", "value": SCHEMA}
    assert parameters["max_new_tokens"] == 200
    assert parameters["do_sample"] is False and parameters["temperature"] is None


async def test_sampling_temperature_is_sent_when_configured(tgi_standin: TgiStandin) -> None:
    client = _model(tgi_standin.url, temperature=0.7)
    await client.complete_json(CHAT, SCHEMA, max_new_tokens=20)
    await client.aclose()
    parameters = tgi_standin.received[-1].body["parameters"]
    assert parameters["do_sample"] is True and parameters["temperature"] == 0.7


async def test_stream_chunks_assemble_the_same_text_through_generate_stream(
    model: TgiModel, tgi_standin: TgiStandin
) -> None:
    tgi_standin.script(Reply.json(ANSWER), Reply.json(ANSWER))
    whole = await model.complete_json(CHAT, SCHEMA, max_new_tokens=200)
    chunks = [chunk async for chunk in model.stream_json(CHAT, SCHEMA, max_new_tokens=200)]
    assert len(chunks) > 1
    assert "".join(chunks) == whole.text
    assert model.last_usage == whole.usage
    assert tgi_standin.paths()[-1] == "/generate_stream"


async def test_answer_cut_at_max_new_tokens_is_an_output_error(
    model: TgiModel, tgi_standin: TgiStandin
) -> None:
    tgi_standin.script(Reply.json(ANSWER))
    with pytest.raises(ModelOutputError, match="not valid JSON"):
        await model.complete_json(CHAT, SCHEMA, max_new_tokens=5)


async def test_tool_call_is_decoded_from_the_grammar_answer(
    model: TgiModel, tgi_standin: TgiStandin
) -> None:
    tgi_standin.script(Reply.call("search_logs", {"service": "payments-db"}))
    completion = await model.complete_tools(CHAT, [SEARCH], max_new_tokens=100)
    assert completion.text == ""
    assert completion.tool_calls == (ToolCall("call_0", "search_logs", {"service": "payments-db"}),)
    grammar = tgi_standin.received[-1].body["parameters"]["grammar"]
    assert grammar == {"type": "json", "value": tool_schema([SEARCH])}
    system = tgi_standin.received[-2].body["messages"][0]
    assert system["role"] == "system" and "search_logs" in system["content"]


async def test_tool_turn_may_answer_instead(model: TgiModel, tgi_standin: TgiStandin) -> None:
    tgi_standin.script(Reply.json({"answer": "The database is saturated [E1]."}))
    completion = await model.complete_tools(CHAT, [SEARCH], max_new_tokens=100)
    assert completion.text == "The database is saturated [E1]." and completion.tool_calls == ()


async def test_earlier_tool_calls_are_rendered_as_plain_turns(
    model: TgiModel, tgi_standin: TgiStandin
) -> None:
    history = [
        *CHAT,
        Message("assistant", "", tool_calls=(ToolCall("c1", "search_logs", {"service": "db"}),)),
        Message("tool", "[E4] 12 timeouts", tool_call_id="c1"),
    ]
    await model.complete_tools(history, [SEARCH], max_new_tokens=100)
    sent = tgi_standin.received[-2].body["messages"]
    assert sent[-2] == {
        "role": "assistant",
        "content": json.dumps({"tool": "search_logs", "arguments": {"service": "db"}}),
    }
    assert sent[-1] == {"role": "user", "content": "Result of tool call c1:\n[E4] 12 timeouts"}


async def test_malformed_tool_arguments_are_an_output_error(
    model: TgiModel, tgi_standin: TgiStandin
) -> None:
    tgi_standin.script(Reply.call("search_logs", "[1, 2]"))
    with pytest.raises(ModelOutputError, match="not a JSON object"):
        await model.complete_tools(CHAT, [SEARCH], max_new_tokens=100)


async def test_count_tokens_uses_the_served_tokenizer_and_template(
    model: TgiModel, tgi_standin: TgiStandin
) -> None:
    expected = _prompt_tokens([{"role": m.role, "content": m.content} for m in CHAT])
    assert await model.count_tokens(CHAT) == expected
    assert tgi_standin.paths() == ["/chat_tokenize"]


async def test_health_reads_health_and_info(model: TgiModel, tgi_standin: TgiStandin) -> None:
    assert await model.health() == (
        "TGI 3.3.6-standin serving standin/tiny-chat, at most 8192 input tokens"
    )
    assert tgi_standin.paths() == ["/health", "/info"]
    tgi_standin.fail["/health"] = Reply.failure(503, "unhealthy", "healthcheck")
    with pytest.raises(ModelUnavailable, match="unhealthy: HTTP 503"):
        await model.health()


async def test_ping_generates_one_token(model: TgiModel) -> None:
    completion = await model.ping()
    assert completion.usage.completion_tokens == 1


async def test_server_down_is_unavailable() -> None:
    client = _model(unreachable_url())
    with pytest.raises(ModelUnavailable, match="unreachable"):
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
         r"refused \(incompletegeneration\): 'Incomplete generation'"),
        (Reply.failure(422, "Input validation error: inputs too long", "validation"),
         ModelUnavailable, r"refused \(validation\).*inputs too long"),
        (Reply.failure(429, "Model is overloaded", "overloaded"), ModelUnavailable, "overloaded"),
        (Reply(status=502, body=b"<html>Bad Gateway</html>", content_type="text/html"),
         ModelUnavailable, "HTTP 502"),
        (Reply(delay_s=3), ModelTimeout, "within 0.5s"),
        (Reply.junk(b"{not json"), ModelOutputError, "unexpected form"),
        (Reply.junk(b'{"generated_text": 3}'), ModelOutputError, "unexpected form"),
        (Reply.junk(b"<p>hi</p>", "text/html"), ModelOutputError, "not JSON"),
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
        (Reply(text=json.dumps(ANSWER), cut_after=3), ModelUnavailable,
         "broke off"),
        (Reply(text=json.dumps(ANSWER), end_after=3), ModelOutputError, "ended before"),
        (Reply(text=json.dumps(ANSWER), delay_s=3), ModelTimeout, "within 0.5s"),
        (Reply.failure(422, "Input validation error", "validation"), ModelUnavailable,
         "validation"),
    ],
)  # fmt: skip
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


async def test_no_template_is_unavailable(model: TgiModel, tgi_standin: TgiStandin) -> None:
    tgi_standin.fail["/chat_tokenize"] = Reply.failure(404, "No chat template", "tokenizer")
    with pytest.raises(ModelUnavailable, match="cannot template the chat: HTTP 404"):
        await model.count_tokens(CHAT)


@pytest.mark.parametrize(("url_credentials", "api_key"), [("user:hunter2@", None), ("", "hunter2")])
async def test_errors_never_quote_credentials(
    tgi_standin: TgiStandin, url_credentials: str, api_key: str | None
) -> None:
    url = tgi_standin.url.replace("http://", f"http://{url_credentials}")
    client = _model(url, api_key=api_key, timeout_s=PATIENT_S)
    tgi_standin.script(Reply.failure(500, "boom", "generation"))
    with pytest.raises(ModelUnavailable) as caught:
        await client.complete_json(CHAT, SCHEMA, max_new_tokens=5)
    assert "hunter2" not in str(caught.value)
    assert "http://127.0.0.1" in str(caught.value)
    await client.aclose()
