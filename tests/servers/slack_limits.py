"""What Slack refuses to store, for the Slack **stand-in** (tests/servers/slack.py): Block Kit
checked by slack_sdk's own models, and the size limits Slack documents for messages.

Slack refuses an over-limit message (``invalid_blocks`` or ``msg_too_long``) rather than cutting it,
so a renderer that forgets a limit loses the whole reply in production; the stand-in refuses the
same way so the test that covers the renderer fails first. Refusals carry Slack's
``response_metadata.messages`` with a JSON pointer to the offending field, as Slack's do.

Limits (docs.slack.dev, Block Kit reference and chat.postMessage): at most 50 blocks in a message;
a section's text at most 3000 characters and each of its (at most 10) fields 2000; a header's
text 150; a message's ``text`` 40000; ``markdown_text`` (and each markdown chunk) 12000.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_TEXT = 40000
MAX_MARKDOWN_TEXT = 12000

Json = dict[str, Any]


class ApiError(Exception):
    """A refusal: Slack's ``{"ok": false, "error": ...}``, with ``response_metadata.messages``."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)

    def body(self) -> Json:
        body: Json = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


def json_list(args: Mapping[str, Any], name: str) -> list[Json] | None:
    """An array argument: a JSON body sends a list, a form body a JSON string of one."""
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(f"invalid_{name}_format", f"[ERROR] {name} is not JSON") from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ApiError(f"invalid_{name}_format", f"[ERROR] {name} must be an array of objects")
    return value


def _too_long(text: object, limit: int, pointer: str) -> ApiError | None:
    if isinstance(text, str) and len(text) > limit:
        return ApiError(
            "invalid_blocks",
            f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]",
        )
    return None


def _text_of(value: object) -> object:
    return value.get("text") if isinstance(value, dict) else value


def _limit_errors(block: Json, pointer: str) -> list[ApiError | None]:
    kind = block.get("type")
    if kind == "header":
        return [_too_long(_text_of(block.get("text")), MAX_HEADER_TEXT, f"{pointer}/text/text")]
    if kind != "section":
        return []
    fields = block.get("fields") or []
    errors = [_too_long(_text_of(block.get("text")), MAX_SECTION_TEXT, f"{pointer}/text/text")]
    if isinstance(fields, list):
        if len(fields) > MAX_SECTION_FIELDS:
            errors.append(
                ApiError(
                    "invalid_blocks",
                    f"[ERROR] no more than {MAX_SECTION_FIELDS} items allowed "
                    f"[json-pointer:{pointer}/fields]",
                )
            )
        errors.extend(
            _too_long(_text_of(item), MAX_SECTION_FIELD_TEXT, f"{pointer}/fields/{index}/text")
            for index, item in enumerate(fields)
        )
    return errors


def parse_blocks(args: Mapping[str, Any], name: str = "blocks") -> list[Json] | None:
    """``args[name]`` as blocks, refused like Slack refuses them (:class:`ApiError`)."""
    blocks = json_list(args, name)
    if blocks is None:
        return None
    if len(blocks) > MAX_BLOCKS:
        raise ApiError(
            "invalid_blocks",
            f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/{name}]",
        )
    for index, block in enumerate(blocks):
        pointer = f"/{name}/{index}"
        for error in _limit_errors(block, pointer):
            if error is not None:
                raise error
        try:
            parsed = Block.parse(block)
            if parsed is None:
                raise ApiError(
                    "invalid_blocks", f"[ERROR] unsupported type [json-pointer:{pointer}]"
                )
            parsed.to_dict()  # slack_sdk's validators, nested elements included
        except (SlackObjectFormationError, TypeError, ValueError, AttributeError) as exc:
            raise ApiError("invalid_blocks", f"[ERROR] {exc} [json-pointer:{pointer}]") from None
    return blocks


def check_text(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long", f"[ERROR] text must be at most {MAX_TEXT} characters")


def check_markdown(markdown: str) -> None:
    if len(markdown) > MAX_MARKDOWN_TEXT:
        raise ApiError(
            "msg_too_long", f"[ERROR] markdown_text must be at most {MAX_MARKDOWN_TEXT} characters"
        )
