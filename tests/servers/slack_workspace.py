"""What Slack's Web API methods do to a workspace, for the Slack **stand-in**
(tests/servers/slack.py).

Kept apart from the HTTP server so that the one place that says "this is what chat.update does"
reads like Slack's method reference: required arguments, the error each refusal answers with, and
the state each call leaves behind (messages with their edits, streams with their chunks, thread
statuses, reactions). It is a model of Slack, not Slack: only the methods rcabot calls, and only
the rules a bot can trip over. Where Slack's documentation and its observed behaviour differ, the
stricter one is modelled (noted beside it), so a test fails where production would.

Messages are answered in the shapes of Slack's reference (``message`` objects with ``ts``,
``thread_ts``, ``bot_id``, ``blocks``; ``conversations.replies`` with ``has_more`` and
``response_metadata``). Block Kit and size limits are checked in tests/servers/slack_limits.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tests.servers.slack_limits import (
    ApiError,
    check_markdown,
    check_text,
    json_list,
    parse_blocks,
)
from tests.servers.slack_messages import (
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    FIRST_TS_US,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    TS_STEP_US,
    Json,
    StoredMessage,
    us_to_ts,
)

STREAM_CHUNK_TYPES = frozenset({"markdown_text", "task_update", "plan_update", "blocks"})


def _opt(args: Mapping[str, Any], name: str) -> str | None:
    value = args.get(name)
    return None if value is None or value == "" else str(value)


def _required(args: Mapping[str, Any], name: str, error: str = "invalid_arguments") -> str:
    value = _opt(args, name)
    if value is None:
        raise ApiError(error, f"[ERROR] missing required field: {name}")
    return value


Handler = Callable[[Mapping[str, Any]], Json]


class Workspace:
    """The state behind the stand-in: one workspace, one bot (UBOT), any channel id."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], StoredMessage] = {}
        self.statuses: dict[tuple[str, str], str] = {}
        self.socket_url: Callable[[], str] | None = None
        self._last_us = FIRST_TS_US - TS_STEP_US
        self.methods: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "chat.postEphemeral": self.post_ephemeral,
            "chat.delete": self.delete,
            "chat.startStream": self.start_stream,
            "chat.appendStream": self.append_stream,
            "chat.stopStream": self.stop_stream,
            "assistant.threads.setStatus": self.set_status,
            "reactions.add": self.add_reaction,
            "conversations.replies": self.replies,
            "chat.getPermalink": self.permalink,
            "apps.connections.open": self.open_connection,
        }

    # -- state --------------------------------------------------------------------------------

    def next_ts(self) -> str:
        self._last_us += TS_STEP_US
        return us_to_ts(self._last_us)

    def store(self, message: StoredMessage) -> StoredMessage:
        self._last_us = max(self._last_us, message.order)  # later posts sort after it
        self.messages[(message.channel, message.ts)] = message
        return message

    def find(self, channel: str, ts: str, *, ephemeral: bool = False) -> StoredMessage:
        message = self.messages.get((channel, ts))
        if message is None or message.deleted or (message.ephemeral and not ephemeral):
            raise ApiError("message_not_found")
        return message

    def thread(self, channel: str, thread_ts: str) -> list[StoredMessage]:
        found = [
            m
            for m in self.messages.values()
            if m.channel == channel and not m.deleted and thread_ts in (m.ts, m.thread_ts)
        ]
        return sorted(found, key=lambda m: m.order)

    def _reply_posted(self, channel: str, thread_ts: str | None) -> None:
        # Slack clears an assistant thread's status when the app replies in it.
        if thread_ts is not None:
            self.statuses.pop((channel, thread_ts), None)

    # -- methods ------------------------------------------------------------------------------

    def auth_test(self, args: Mapping[str, Any]) -> Json:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _content(self, args: Mapping[str, Any]) -> tuple[str, list[Json], list[Json], str]:
        text = _opt(args, "text") or ""
        blocks = parse_blocks(args) or []
        attachments = json_list(args, "attachments") or []
        markdown = _opt(args, "markdown_text") or ""
        if not (text or blocks or attachments or markdown):
            raise ApiError("no_text")
        if markdown and (text or blocks):
            raise ApiError("invalid_arguments", "[ERROR] markdown_text excludes text and blocks")
        check_text(text)
        check_markdown(markdown)
        return text, blocks, attachments, markdown

    def post_message(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        text, blocks, attachments, markdown = self._content(args)
        thread_ts = _opt(args, "thread_ts")
        message = self.store(
            StoredMessage(
                channel=channel,
                ts=self.next_ts(),
                user=BOT_USER_ID,
                text=text or markdown,
                thread_ts=thread_ts,
                blocks=blocks,
                attachments=attachments,
                markdown=markdown,
                metadata=args.get("metadata") if isinstance(args.get("metadata"), dict) else None,
            )
        )
        self._reply_posted(channel, thread_ts)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": message.api_shape()}

    def update(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        message = self.find(channel, _required(args, "ts", "message_not_found"))
        if message.user != BOT_USER_ID:
            raise ApiError("cant_update_message")
        if message.streamed and not message.stopped:
            # Observed on the live API (undocumented): a streaming message refuses edits.
            raise ApiError("streaming_state_conflict")
        blocks = parse_blocks(args)
        attachments = json_list(args, "attachments")
        if "text" not in args and blocks is None and attachments is None:
            raise ApiError("no_text")
        if "text" in args:
            message.text = str(args["text"] or "")
            check_text(message.text)
        if blocks is not None:
            message.blocks = blocks
        if attachments is not None:
            message.attachments = attachments
        message.edited = True
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.api_shape(),
        }

    def post_ephemeral(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        user = _required(args, "user", "user_not_in_channel")
        text, blocks, attachments, markdown = self._content(args)
        message = self.store(
            StoredMessage(
                channel=channel,
                ts=self.next_ts(),
                user=BOT_USER_ID,
                text=text or markdown,
                thread_ts=_opt(args, "thread_ts"),
                blocks=blocks,
                attachments=attachments,
                markdown=markdown,
                ephemeral=True,
                visible_to=user,
            )
        )
        return {"ok": True, "message_ts": message.ts}

    def delete(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        message = self.find(channel, _required(args, "ts", "message_not_found"))
        if message.user != BOT_USER_ID:
            raise ApiError("cant_delete_message")
        message.deleted = True
        return {"ok": True, "channel": channel, "ts": message.ts}

    def _stream_content(self, message: StoredMessage, args: Mapping[str, Any]) -> None:
        """Append ``markdown_text`` and ``chunks`` (checked whole before any is applied)."""
        markdown = _opt(args, "markdown_text") or ""
        check_markdown(markdown)
        chunks = json_list(args, "chunks") or []
        for index, chunk in enumerate(chunks):
            if chunk.get("type") not in STREAM_CHUNK_TYPES:
                raise ApiError(
                    "invalid_chunks", f"[ERROR] unsupported type [json-pointer:/chunks/{index}]"
                )
            if chunk["type"] == "markdown_text":
                check_markdown(str(chunk.get("text", "")))
            if chunk["type"] == "blocks":
                parse_blocks(chunk)
        message.markdown += markdown
        for chunk in chunks:
            if chunk["type"] == "markdown_text":
                message.markdown += str(chunk.get("text", ""))
            else:
                message.chunks.append(chunk)

    def start_stream(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        thread_ts = _required(args, "thread_ts")
        # Slack documents the recipient as required "when streaming to channels"; bot tokens are
        # observed to need it in DMs too, so it is required everywhere here.
        _required(args, "recipient_user_id", "missing_recipient_user_id")
        _required(args, "recipient_team_id", "missing_recipient_team_id")
        message = StoredMessage(
            channel=channel, ts=self.next_ts(), user=BOT_USER_ID, thread_ts=thread_ts, streamed=True
        )
        self._stream_content(message, args)
        self.store(message)
        self._reply_posted(channel, thread_ts)
        return {"ok": True, "channel": channel, "ts": message.ts}

    def _streaming(self, args: Mapping[str, Any]) -> StoredMessage:
        channel = _required(args, "channel", "channel_not_found")
        message = self.find(channel, _required(args, "ts", "message_not_found"))
        if not message.streamed or message.stopped:
            raise ApiError("message_not_in_streaming_state")
        return message

    def append_stream(self, args: Mapping[str, Any]) -> Json:
        message = self._streaming(args)
        if _opt(args, "markdown_text") is None and not json_list(args, "chunks"):
            raise ApiError("invalid_arguments", "[ERROR] markdown_text or chunks is required")
        self._stream_content(message, args)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def stop_stream(self, args: Mapping[str, Any]) -> Json:
        message = self._streaming(args)
        blocks = parse_blocks(args)
        self._stream_content(message, args)
        if blocks is not None:
            message.blocks = blocks
        if isinstance(args.get("metadata"), dict):
            message.metadata = args["metadata"]
        message.stopped = True
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "message": message.api_shape(),
        }

    def set_status(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel_id", "channel_not_found")
        thread_ts = _required(args, "thread_ts")
        if "status" not in args:
            raise ApiError("invalid_arguments", "[ERROR] missing required field: status")
        status = str(args["status"] or "")
        if status:
            self.statuses[(channel, thread_ts)] = status
        else:
            self.statuses.pop((channel, thread_ts), None)
        return {"ok": True}

    def add_reaction(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        name = _required(args, "name", "invalid_name")
        message = self.find(channel, _required(args, "timestamp", "message_not_found"))
        if name in message.reactions:
            raise ApiError("already_reacted")
        message.reactions.append(name)
        return {"ok": True}

    def replies(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        thread_ts = _required(args, "ts", "thread_not_found")
        found = [m for m in self.thread(channel, thread_ts) if not m.ephemeral]
        if not found:
            raise ApiError("thread_not_found")
        limit = int(_opt(args, "limit") or 1000)
        shapes = [m.api_shape() for m in found[:limit]]
        parent = shapes[0] if shapes and shapes[0]["ts"] == thread_ts else None
        if parent is not None and len(found) > 1:
            parent["reply_count"] = len(found) - 1
            parent["latest_reply"] = found[-1].ts
            parent["reply_users"] = sorted({m.user for m in found[1:]})
        return {
            "ok": True,
            "messages": shapes,
            "has_more": len(found) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def permalink(self, args: Mapping[str, Any]) -> Json:
        channel = _required(args, "channel", "channel_not_found")
        message = self.find(channel, _required(args, "message_ts", "message_not_found"))
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{message.ts.replace('.', '')}"
        if message.thread_ts is not None and message.thread_ts != message.ts:
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def open_connection(self, args: Mapping[str, Any]) -> Json:
        if self.socket_url is None:
            # Not a Slack error: the test forgot FakeSlack.attach_socket(...).
            raise ApiError("no_socket_attached", "[ERROR] call FakeSlack.attach_socket first")
        return {"ok": True, "url": self.socket_url()}
