"""The TGI stand-in speaks TGI's OpenAPI document: every request our clients send validates
against the route's request schema, and every answer the stand-in gives against the response
schema of its route, status and content type (../shared/fixtures/tgi/openapi.json)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bot.llm.model import ChatModel, Message, ToolCall, ToolSpec
from bot.llm.openai_compat import OpenAICompatModel
from bot.llm.settings import LlmSettings
from bot.llm.tgi import TgiModel
from tests.bundles import REPO
from tests.servers.tgi import Received, Reply, TgiStandin
from tools.errors import ModelError

OPENAPI = REPO.parent / "shared" / "fixtures" / "tgi" / "openapi.json"
CHAT = [
    Message("system", "Explain."),
    Message("user", "Why?"),
    Message("assistant", "", tool_calls=(ToolCall("c1", "search_logs", {"service": "db"}),)),
    Message("tool", "[E1] timeouts", tool_call_id="c1"),
]
SEARCH = ToolSpec("search_logs", "Search logs.", {"type": "object", "properties": {}})
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}


@cache
def _document() -> dict[str, Any]:
    if not OPENAPI.is_file():
        pytest.skip(f"TGI's OpenAPI document {OPENAPI} is not available")
    document: dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return document


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 to JSON Schema: ``nullable: true`` also admits null."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _validate(schema: dict[str, Any], value: Any, what: str) -> None:
    root = {**_json_schema(schema), "components": _json_schema(_document()["components"])}
    errors = [e.message for e in Draft202012Validator(root).iter_errors(value)]
    assert not errors, f"{what} does not match TGI's OpenAPI schema: {errors[:3]}"


def _as_tgi_reads(body: Any) -> Any:
    """A tool's ``parameters`` is read as ``arguments`` (TGI's serde alias, not in the doc)."""
    for tool in body.get("tools") or ():
        function = tool["function"]
        if "parameters" in function:
            function["arguments"] = function.pop("parameters")
    return body


def _check(received: Received) -> bool:
    """Validate one exchange; False when the document says nothing to check it against."""
    method = "get" if received.body is None else "post"
    operation = _document()["paths"][received.path][method]
    if received.body is not None:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        _validate(schema, _as_tgi_reads(json.loads(json.dumps(received.body))), received.path)
    answer = operation["responses"].get(str(received.status), {}).get("content", {})
    if received.answer is None or received.content_type not in answer:
        return False
    schema = answer[received.content_type]["schema"]
    events = received.answer if received.content_type == "text/event-stream" else [received.answer]
    for event in events:
        _validate(schema, event, f"answer of {received.path} (HTTP {received.status})")
    return True


async def _exercise(model: ChatModel, standin: TgiStandin) -> None:
    standin.script(Reply.json({"answer": "a"}), Reply.json({"answer": "b"}))
    await model.complete_json(CHAT, SCHEMA, max_new_tokens=50)
    _ = [chunk async for chunk in model.stream_json(CHAT, SCHEMA, max_new_tokens=50)]
    standin.script(Reply.call("search_logs", {"service": "db"}))
    await model.complete_tools(CHAT, [SEARCH], max_new_tokens=50)
    await model.count_tokens(CHAT)
    await model.health()
    for failure in (
        Reply.failure(422, "Input validation error", "validation"),
        Reply.failure(424, "Request failed during generation", "generation"),
        Reply.failure(429, "Model is overloaded", "overloaded"),
        Reply.failure(500, "Incomplete generation", "incomplete_generation"),
    ):
        standin.script(failure)
        with pytest.raises(ModelError):
            await model.complete_json(CHAT, SCHEMA, max_new_tokens=5)


@pytest.fixture(params=["tgi", "openai"])
async def model(
    request: pytest.FixtureRequest, tgi_standin: TgiStandin
) -> AsyncIterator[ChatModel]:
    settings = LlmSettings(url=tgi_standin.url, api=request.param, temperature=0.5)
    client = TgiModel(settings) if request.param == "tgi" else OpenAICompatModel(settings)
    yield client
    await client.aclose()


async def test_requests_and_answers_match_tgis_openapi_document(
    model: ChatModel, tgi_standin: TgiStandin
) -> None:
    await _exercise(model, tgi_standin)
    checked = [received.path for received in tgi_standin.received if _check(received)]
    generation = "/" if isinstance(model, TgiModel) else "/v1/chat/completions"
    assert checked.count(generation) >= 5  # answers, a tool call and four error bodies
    if isinstance(model, TgiModel):
        assert {"/generate_stream", "/chat_tokenize", "/info"} <= set(checked)
    else:
        assert {"/chat_tokenize", "/v1/models"} <= set(checked)


async def test_the_validator_catches_a_wrong_shape(tgi_standin: TgiStandin) -> None:
    wrong = Received("/info", None, {"model_id": "m"})
    with pytest.raises(AssertionError, match="does not match"):
        _check(wrong)
