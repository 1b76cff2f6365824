"""The bot's state in one SQLite file: the default, for a single bot process.

Why SQLite: a bot with one replica needs no server, and its state must survive a restart: Slack
retries an event it thinks was not acknowledged, and a claim recorded before the restart is what
deduplicates the retry after it. One aiosqlite connection in autocommit mode; WAL so a reader
(``sqlite3`` in a shell, a second process) never blocks the bot, and a busy timeout so two
processes on one file wait for each other instead of failing.

Every write is one statement, so it is atomic without an explicit transaction: a claim is an
upsert that only overwrites an *expired* claim, a count an upsert that adds one and returns the
total. Records are the models' JSON in TEXT columns, the same bytes Redis holds. Expired claims
and counters, and records older than :data:`RETENTION_S`, are purged at most every
:data:`PURGE_EVERY_S` (on the first write after that), not on every call.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiosqlite

from bot.store.base import AlertPost, Feedback, ReportRecord, ThreadState
from tools.errors import StateError

RETENTION_S = 30 * 24 * 3600.0  # records kept after their last write (same as bot.store.redis)
PURGE_EVERY_S = 600.0
BUSY_TIMEOUT_MS = 5000

SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
    key TEXT NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (key, bucket)
);
CREATE TABLE IF NOT EXISTS threads (
    channel TEXT NOT NULL, thread_ts TEXT NOT NULL, body TEXT NOT NULL, written_at REAL NOT NULL,
    PRIMARY KEY (channel, thread_ts)
);
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY, body TEXT NOT NULL, written_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, report_id TEXT NOT NULL, body TEXT NOT NULL,
    written_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_report ON feedback (report_id, id);
CREATE TABLE IF NOT EXISTS alert_posts (
    fingerprint TEXT PRIMARY KEY, body TEXT NOT NULL, written_at REAL NOT NULL
);
"""

CLAIM = """
INSERT INTO claims (key, expires_at) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at <= ?
"""
COUNT = """
INSERT INTO counters (key, bucket, n, expires_at) VALUES (?, ?, 1, ?)
ON CONFLICT (key, bucket) DO UPDATE SET n = n + 1
RETURNING n
"""
RECORD_TABLES = ("threads", "reports", "feedback", "alert_posts")


class SqliteStore:
    """:class:`~bot.store.base.Store` on a SQLite file. Open with :meth:`open`."""

    def __init__(
        self, path: Path, connection: aiosqlite.Connection, clock: Callable[[], float]
    ) -> None:
        self.path = path
        self._db = connection
        self._clock = clock
        self._next_purge = 0.0

    @classmethod
    async def open(cls, path: Path | str, *, clock: Callable[[], float] = time.time) -> SqliteStore:
        """Open (or create, with its parent directory) the database at ``path``;
        :class:`StateError` when it cannot be created or is not a SQLite database."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"state database {path}: cannot create its directory: {exc}") from exc
        try:
            connection = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StateError(f"state database {path}: {exc}") from exc
        store = cls(path, connection, clock)
        try:
            with store._errors():  # the first statements: a file that is no database fails here
                await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                await connection.execute("PRAGMA journal_mode = WAL")
                await connection.execute("PRAGMA synchronous = NORMAL")
                await connection.executescript(SCHEMA)
        except StateError:
            await connection.close()
            raise
        return store

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:  # aiosqlite re-raises sqlite3's own exceptions
            raise StateError(f"state database {self.path}: {exc}") from exc

    async def claim(self, key: str, ttl_s: float) -> bool:
        if ttl_s <= 0:  # a claim that holds for no time never blocks another
            return True
        now = self._clock()
        with self._errors():
            await self._purge_now_and_then(now)
            cursor = await self._db.execute(CLAIM, (key, now + ttl_s, now))
            claimed = cursor.rowcount == 1  # 0: the conflicting claim has not expired
            await cursor.close()
        return claimed

    async def release(self, key: str) -> None:
        with self._errors():
            await self._db.execute("DELETE FROM claims WHERE key = ?", (key,))

    async def count(self, key: str, window_s: float) -> int:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        now = self._clock()
        bucket = math.floor(now / window_s)
        with self._errors():
            await self._purge_now_and_then(now)
            rows = await self._db.execute_fetchall(COUNT, (key, bucket, (bucket + 1) * window_s))
        return int(next(iter(rows))[0])

    async def get_thread(self, channel: str, thread_ts: str) -> ThreadState | None:
        body = await self._body(
            "SELECT body FROM threads WHERE channel = ? AND thread_ts = ?", (channel, thread_ts)
        )
        return None if body is None else ThreadState.model_validate_json(body)

    async def put_thread(self, state: ThreadState) -> None:
        await self._write(
            "INSERT OR REPLACE INTO threads (channel, thread_ts, body, written_at) "
            "VALUES (?, ?, ?, ?)",
            (state.channel, state.thread_ts, state.model_dump_json()),
        )

    async def get_report(self, report_id: str) -> ReportRecord | None:
        body = await self._body("SELECT body FROM reports WHERE report_id = ?", (report_id,))
        return None if body is None else ReportRecord.model_validate_json(body)

    async def put_report(self, record: ReportRecord) -> None:
        await self._write(
            "INSERT OR REPLACE INTO reports (report_id, body, written_at) VALUES (?, ?, ?)",
            (record.report_id, record.model_dump_json()),
        )

    async def add_feedback(self, feedback: Feedback) -> None:
        await self._write(
            "INSERT INTO feedback (report_id, body, written_at) VALUES (?, ?, ?)",
            (feedback.report_id, feedback.model_dump_json()),
        )

    async def feedback(self, report_id: str) -> list[Feedback]:
        with self._errors():
            rows = await self._db.execute_fetchall(
                "SELECT body FROM feedback WHERE report_id = ? ORDER BY id", (report_id,)
            )
        return [Feedback.model_validate_json(row[0]) for row in rows]

    async def get_alert_post(self, fingerprint: str) -> AlertPost | None:
        body = await self._body(
            "SELECT body FROM alert_posts WHERE fingerprint = ?", (fingerprint,)
        )
        return None if body is None else AlertPost.model_validate_json(body)

    async def put_alert_post(self, post: AlertPost) -> None:
        await self._write(
            "INSERT OR REPLACE INTO alert_posts (fingerprint, body, written_at) VALUES (?, ?, ?)",
            (post.fingerprint, post.model_dump_json()),
        )

    async def aclose(self) -> None:
        with self._errors():
            await self._db.close()

    async def _body(self, query: str, params: tuple[str, ...]) -> str | None:
        with self._errors():
            async with self._db.execute(query, params) as cursor:
                row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def _write(self, query: str, params: tuple[str, ...]) -> None:
        """Run an insert whose last parameter is the write time (appended here)."""
        now = self._clock()
        with self._errors():
            await self._purge_now_and_then(now)
            await self._db.execute(query, (*params, now))

    async def _purge_now_and_then(self, now: float) -> None:
        """Delete expired claims and counters and records past retention, at most every
        :data:`PURGE_EVERY_S`."""
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY_S
        await self._db.execute("DELETE FROM claims WHERE expires_at <= ?", (now,))
        await self._db.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        for table in RECORD_TABLES:
            await self._db.execute(
                f"DELETE FROM {table} WHERE written_at <= ?", (now - RETENTION_S,)
            )
