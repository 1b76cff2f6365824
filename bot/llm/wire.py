"""What both model clients share on the wire: messages as JSON, decoded answers, safe names.

Error messages name the server by :func:`display_url` (credentials in a URL never reach a
message or a log) and never quote the API key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot.llm.model import Message, ToolCall
from tools.errors import ModelOutputError

#: how much of a malformed answer an error message quotes
QUOTE_CHARS = 120


def display_url(url: str) -> str:
    """``url`` without user, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def quote(text: str) -> str:
    """A short, one-line excerpt of what the server sent, for an error message."""
    line = " ".join(text.split())
    return repr(line[:QUOTE_CHARS] + ("…" if len(line) > QUOTE_CHARS else ""))


def decode_json(text: str, what: str) -> Any:
    """The JSON value in ``text``; :class:`ModelOutputError` if it is not JSON."""
    try:
        return json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError, or a number too deep/large
        raise ModelOutputError(f"{what} is not valid JSON: {quote(text)}") from exc


def decode_arguments(name: str, arguments: object) -> dict[str, Any]:
    """A tool call's arguments: a JSON object (as a string, or already decoded)."""
    value = (
        decode_json(arguments, f"arguments of tool call {name!r}")
        if isinstance(arguments, str)
        else arguments
    )
    if not isinstance(value, dict):
        raise ModelOutputError(
            f"arguments of tool call {name!r} are not a JSON object: {quote(json.dumps(value))}"
        )
    return value


def openai_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages in the OpenAI chat format (also TGI's ``/chat_tokenize`` and Messages API).

    An assistant message that calls tools carries no ``content`` key: TGI's schema accepts a
    message with content *or* tool calls, not both.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role}
        if message.tool_calls:
            item["tool_calls"] = [_call(call) for call in message.tool_calls]
        else:
            item["content"] = message.content
        if message.tool_call_id is not None:
            item["tool_call_id"] = message.tool_call_id
        out.append(item)
    return out


def _call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
    }
