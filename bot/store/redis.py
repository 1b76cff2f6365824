"""The bot's state in Redis: for several bot replicas behind Slack's HTTP delivery.

Why Redis: replicas share nothing else, and Slack may deliver an event (or its retry) to any of
them, so the claim that deduplicates it must be atomic across processes. Each operation is one
Redis command (or one MULTI/EXEC), so no lock is needed:

- claim: ``SET rcabot:claim:KEY 1 NX PX ttl`` (the first replica wins; the key expires itself);
- count: ``INCR`` and ``PEXPIRE`` on ``rcabot:count:KEY:BUCKET``, one key per fixed window;
- threads, reports, alert posts: the models' JSON as strings, feedback a list (``RPUSH``, read
  oldest first). Every record expires :data:`RETENTION_S` (30 days) after its last write, the
  same retention as the SQLite store, so Redis does not grow forever; a thread answered again, or
  a report voted on again, starts its 30 days afresh.

Errors (unreachable, timeout, refused command) are :class:`~tools.errors.StateError` naming
``host:port``, never the URL (it may hold the password).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError

from bot.store.base import AlertPost, Feedback, ReportRecord, ThreadState
from tools.errors import StateError

RETENTION_S = 30 * 24 * 3600.0  # records kept after their last write (same as bot.store.sqlite)
PREFIX = "rcabot:"
TIMEOUT_S = 5.0  # connect, and each command
RETRIES = 3  # on a dropped connection, with a short jittered backoff


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def where(url: str) -> str:
    """``host:port`` of a Redis URL, for messages (no user name, no password)."""
    parts = urlsplit(url)
    try:
        port = parts.port or 6379
    except ValueError:  # an invalid port: say where it was meant to be anyway
        port = 6379
    return f"{parts.hostname or 'localhost'}:{port}"


class RedisStore:
    """:class:`~bot.store.base.Store` on a Redis server. Open with :meth:`open`."""

    def __init__(self, client: Redis, url: str, clock: Callable[[], float]) -> None:
        self._client = client
        self._clock = clock
        self.where = where(url)  # host:port, for messages
        password = urlsplit(url).password
        self._password = unquote(password) if password else None  # kept out of messages

    @classmethod
    async def open(cls, url: str, *, clock: Callable[[], float] = time.time) -> RedisStore:
        """Connect to ``url`` (``redis://`` or ``rediss://``) and check Redis answers;
        :class:`StateError` when it does not. ``ValueError`` for a malformed URL."""
        client = Redis.from_url(
            url,
            socket_connect_timeout=TIMEOUT_S,
            socket_timeout=TIMEOUT_S,
            retry=Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.05), RETRIES),
        )
        store = cls(client, url, clock)
        try:
            with store._errors():
                await client.ping()
        except StateError:
            await client.aclose()
            raise
        return store

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except RedisError as exc:  # ConnectionError and TimeoutError included
            reason = str(exc)
            if self._password:
                reason = reason.replace(self._password, "***")
            raise StateError(f"redis at {self.where}: {reason}") from exc

    async def claim(self, key: str, ttl_s: float) -> bool:
        if ttl_s <= 0:  # a claim that holds for no time never blocks another
            return True
        with self._errors():
            claimed = await self._client.set(f"{PREFIX}claim:{key}", b"1", nx=True, px=_ms(ttl_s))
        return bool(claimed)

    async def release(self, key: str) -> None:
        with self._errors():
            await self._client.delete(f"{PREFIX}claim:{key}")

    async def count(self, key: str, window_s: float) -> int:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        bucket = math.floor(self._clock() / window_s)
        name = f"{PREFIX}count:{key}:{bucket}"
        with self._errors():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.pexpire(name, _ms(window_s))  # the bucket ends within one window of now
                total, _ = await pipe.execute()
        return int(total)

    async def get_thread(self, channel: str, thread_ts: str) -> ThreadState | None:
        body = await self._get(f"thread:{channel}:{thread_ts}")
        return None if body is None else ThreadState.model_validate_json(body)

    async def put_thread(self, state: ThreadState) -> None:
        await self._put(f"thread:{state.channel}:{state.thread_ts}", state.model_dump_json())

    async def get_report(self, report_id: str) -> ReportRecord | None:
        body = await self._get(f"report:{report_id}")
        return None if body is None else ReportRecord.model_validate_json(body)

    async def put_report(self, record: ReportRecord) -> None:
        await self._put(f"report:{record.report_id}", record.model_dump_json())

    async def add_feedback(self, feedback: Feedback) -> None:
        name = f"{PREFIX}feedback:{feedback.report_id}"
        with self._errors():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.rpush(name, feedback.model_dump_json())
                pipe.pexpire(name, _ms(RETENTION_S))
                await pipe.execute()

    async def feedback(self, report_id: str) -> list[Feedback]:
        with self._errors():
            bodies = await self._client.lrange(f"{PREFIX}feedback:{report_id}", 0, -1)
        return [Feedback.model_validate_json(body) for body in bodies]

    async def get_alert_post(self, fingerprint: str) -> AlertPost | None:
        body = await self._get(f"alert:{fingerprint}")
        return None if body is None else AlertPost.model_validate_json(body)

    async def put_alert_post(self, post: AlertPost) -> None:
        await self._put(f"alert:{post.fingerprint}", post.model_dump_json())

    async def aclose(self) -> None:
        with self._errors():
            await self._client.aclose()

    async def _get(self, name: str) -> bytes | str | None:
        with self._errors():
            return await self._client.get(PREFIX + name)

    async def _put(self, name: str, body: str) -> None:
        with self._errors():
            await self._client.set(PREFIX + name, body, px=_ms(RETENTION_S))
