"""The Store contract, run against both stores (SQLite on a file, a real Redis server), and what
each adds: SQLite survives a restart and purges, Redis is shared by replicas; both fail with
StateError; the factory opens either from ``slack.state_url``."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.investigation.conversation import Conversation, Turn
from bot.investigation.report import Report
from bot.store import redis as redis_store
from bot.store import sqlite as sqlite_store
from bot.store.base import AlertPost, Feedback, ReportRecord, Store, ThreadState
from bot.store.factory import open_store, store_from_url
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.bundles import T0
from tests.servers import free_port
from tests.servers.redis import command, require_redis_server, running_redis
from tools.errors import ConfigError, StateError
from tools.evidence import TimeWindow

WINDOW_START = 60 * 28_000_000.0  # a time on a minute boundary: counting windows start there


class Clock:
    """The stores' clock, moved by the test (Redis expires keys by its own clock)."""

    def __init__(self) -> None:
        self.now = WINDOW_START

    def __call__(self) -> float:
        return self.now


def report(question: str = "why is checkout slow?") -> Report:
    """A minimal valid report: no evidence, no candidates, an empty answer."""
    return Report(
        question=question,
        scope="service checkout",
        window=TimeWindow(start=T0, end=T0 + timedelta(hours=1)),
        incident_start=T0.isoformat(),
        candidates=[],
        evidence=[],
        answer="",
        answer_by="deterministic",
        sources=[],
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "redis"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "sqlite":
        opened = await SqliteStore.open(tmp_path / "state" / "state.db", clock=clock)
    else:
        opened = await RedisStore.open(request.getfixturevalue("redis_url"), clock=clock)
    yield opened
    await opened.aclose()


# The contract ------------------------------------------------------------------------------


async def test_claim_succeeds_exactly_once_among_concurrent_claims(store: Store) -> None:
    results = await asyncio.gather(*(store.claim("event:Ev1", 60) for _ in range(50)))
    assert results.count(True) == 1
    assert await store.claim("event:Ev2", 60)  # another key is claimed on its own
    assert not await store.claim("event:Ev1", 60)


async def test_claim_is_free_again_once_its_ttl_expired(store: Store, clock: Clock) -> None:
    assert await store.claim("alert:fp", 0.2)
    assert not await store.claim("alert:fp", 0.2)
    clock.now += 0.3
    await asyncio.sleep(0.3)  # Redis expires by its own clock
    assert await store.claim("alert:fp", 0.2)
    assert not await store.claim("alert:fp", 0.2)


async def test_claim_with_no_ttl_never_blocks(store: Store) -> None:
    assert await store.claim("event:Ev1", 0)
    assert await store.claim("event:Ev1", 0)


async def test_count_adds_up_in_a_window_and_restarts_in_the_next(
    store: Store, clock: Clock
) -> None:
    assert [await store.count("rate:C1", 60) for _ in range(3)] == [1, 2, 3]
    assert await store.count("rate:C2", 60) == 1  # each key its own counter
    clock.now += 59.9
    assert await store.count("rate:C1", 60) == 4
    clock.now += 0.1
    assert await store.count("rate:C1", 60) == 1
    counts = await asyncio.gather(*(store.count("rate:C3", 60) for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))


async def test_count_rejects_an_empty_window(store: Store) -> None:
    with pytest.raises(ValueError, match="window_s"):
        await store.count("rate:C1", 0)


async def test_thread_round_trips_and_a_missing_one_is_none(store: Store) -> None:
    answered = report()
    state = ThreadState(
        channel="C1",
        thread_ts="1700.1",
        conversation=Conversation().then(Turn.from_report(answered)),
        report_ids=["r1"],
        service="checkout",
    )
    await store.put_thread(state)
    assert await store.get_thread("C1", "1700.1") == state
    assert await store.get_thread("C1", "1700.2") is None
    assert await store.get_thread("C2", "1700.1") is None
    later = state.model_copy(update={"report_ids": ["r1", "r2"], "service": "db"})
    await store.put_thread(later)
    assert await store.get_thread("C1", "1700.1") == later


async def test_report_round_trips_and_a_missing_one_is_none(store: Store) -> None:
    record = ReportRecord(report_id="r1", channel="C1", thread_ts="1700.1", report=report())
    await store.put_report(record)
    assert await store.get_report("r1") == record
    assert await store.get_report("r2") is None
    posted = record.model_copy(update={"message_ts": "1700.2"})
    await store.put_report(posted)
    got = await store.get_report("r1")
    assert got is not None
    assert got.message_ts == "1700.2"
    assert got.report.question == "why is checkout slow?"


async def test_feedback_is_kept_per_report_oldest_first(store: Store) -> None:
    votes = [
        Feedback(report_id="r1", user="U1", kind="negative"),
        Feedback(report_id="r2", user="U1", kind="positive"),
        Feedback(report_id="r1", user="U2", kind="positive"),
        Feedback(report_id="r1", user="U3", kind="confirm", service="db", fault="cpu"),
    ]
    for vote in votes:
        await store.add_feedback(vote)
    assert await store.feedback("r1") == [votes[0], votes[2], votes[3]]
    assert await store.feedback("r2") == [votes[1]]
    assert await store.feedback("r3") == []


async def test_alert_post_round_trips_and_a_missing_one_is_none(store: Store) -> None:
    post = AlertPost(fingerprint="fp1", channel="C1", ts="1700.1", name="HighLatency")
    await store.put_alert_post(post)
    assert await store.get_alert_post("fp1") == post
    assert await store.get_alert_post("fp2") is None
    resolved = post.model_copy(update={"status": "resolved"})
    await store.put_alert_post(resolved)
    assert await store.get_alert_post("fp1") == resolved


def test_both_stores_keep_records_as_long() -> None:
    assert sqlite_store.RETENTION_S == redis_store.RETENTION_S


# SQLite ------------------------------------------------------------------------------------


async def test_sqlite_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    state = ThreadState(channel="C1", thread_ts="1700.1", report_ids=["r1"])
    vote = Feedback(report_id="r1", user="U1", kind="positive")
    first = await SqliteStore.open(path)
    assert await first.claim("event:Ev1", 3600)
    await first.put_thread(state)
    await first.add_feedback(vote)
    await first.aclose()

    second = await SqliteStore.open(path)
    try:
        assert not await second.claim("event:Ev1", 3600)  # Slack's retry after the restart
        assert await second.get_thread("C1", "1700.1") == state
        assert await second.feedback("r1") == [vote]
    finally:
        await second.aclose()


async def test_two_sqlite_stores_on_one_file_share_claims(tmp_path: Path) -> None:
    one = await SqliteStore.open(tmp_path / "state.db")
    other = await SqliteStore.open(tmp_path / "state.db")
    try:
        claims = await asyncio.gather(*(s.claim("event:Ev1", 60) for s in [one, other] * 10))
        assert claims.count(True) == 1
    finally:
        await one.aclose()
        await other.aclose()


async def test_sqlite_purges_expired_rows_now_and_then(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path, clock=clock)
    try:
        for n in range(5):
            await store.claim(f"event:Ev{n}", 1)
        await store.count("rate:C1", 60)
        await store.put_report(
            ReportRecord(report_id="r1", channel="C1", thread_ts="1", report=report())
        )
        clock.now += 120
        await store.claim("event:live", 3600)
        assert _rows(path, "claims") == 6  # expired, but not purged on every call
        clock.now += sqlite_store.PURGE_EVERY_S
        await store.claim("event:later", 3600)
        assert _rows(path, "claims") == 2
        assert _rows(path, "counters") == 0
        assert await store.get_report("r1") is not None  # well within retention
        clock.now += sqlite_store.RETENTION_S
        await store.claim("event:much-later", 3600)
        assert await store.get_report("r1") is None
    finally:
        await store.aclose()


def _rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    db.close()
    return int(count)


async def test_sqlite_file_that_is_no_database_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a SQLite database\n" * 100)
    with pytest.raises(StateError, match=r"state\.db"):
        await SqliteStore.open(path)


async def test_sqlite_directory_that_cannot_be_made_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a directory")
    with pytest.raises(StateError, match="taken"):
        await SqliteStore.open(tmp_path / "taken" / "state.db")


# Redis -------------------------------------------------------------------------------------


async def test_two_redis_replicas_share_state(redis_url: str) -> None:
    one, other = await RedisStore.open(redis_url), await RedisStore.open(redis_url)
    try:
        claims = await asyncio.gather(*(s.claim("event:Ev1", 60) for s in [one, other] * 25))
        assert claims.count(True) == 1
        record = ReportRecord(report_id="r1", channel="C1", thread_ts="1700.1", report=report())
        await one.put_report(record)
        assert await other.get_report("r1") == record
        await other.add_feedback(Feedback(report_id="r1", user="U1", kind="positive"))
        assert [f.user for f in await one.feedback("r1")] == ["U1"]
    finally:
        await one.aclose()
        await other.aclose()


async def test_redis_records_expire_after_the_retention(redis_url: str) -> None:
    store = await RedisStore.open(redis_url)
    raw = Redis.from_url(redis_url)
    try:
        await store.put_thread(ThreadState(channel="C1", thread_ts="1"))
        await store.put_alert_post(AlertPost(fingerprint="fp", channel="C1", ts="1"))
        await store.add_feedback(Feedback(report_id="r1", user="U1", kind="positive"))
        retention_ms = redis_store.RETENTION_S * 1000
        for key in ["rcabot:thread:C1:1", "rcabot:alert:fp", "rcabot:feedback:r1"]:
            assert retention_ms - 60_000 < await raw.pttl(key) <= retention_ms
    finally:
        await raw.aclose()
        await store.aclose()


async def test_unreachable_redis_is_a_state_error_without_the_password() -> None:
    port = free_port()
    with pytest.raises(StateError, match=f"127.0.0.1:{port}") as raised:
        await RedisStore.open(f"redis://:s3cret@127.0.0.1:{port}/0")
    assert "s3cret" not in str(raised.value)


async def test_redis_going_away_is_a_state_error() -> None:
    with running_redis(require_redis_server()) as port:
        store = await RedisStore.open(f"redis://127.0.0.1:{port}/0")
        assert await store.claim("event:Ev1", 60)
    try:
        with pytest.raises(StateError, match=f"127.0.0.1:{port}"):
            await store.claim("event:Ev2", 60)
    finally:
        await store.aclose()


# The factory -------------------------------------------------------------------------------


async def test_factory_opens_sqlite_relative_to_the_working_directory(tmp_path: Path) -> None:
    async with store_from_url("sqlite:///.rcabot/state.db") as store:
        assert isinstance(store, SqliteStore)
        assert await store.claim("event:Ev1", 60)
    assert (tmp_path / ".rcabot" / "state.db").is_file()


async def test_factory_opens_redis_and_closes_it(redis_url: str, redis_server: int) -> None:
    async with store_from_url(redis_url) as store:
        assert isinstance(store, RedisStore)
        assert await store.claim("event:Ev1", 60)
        assert _clients(redis_server) == 2  # the store's connection, and this query's
    assert _clients(redis_server) == 1


def _clients(port: int) -> int:
    reply = command(port, "CLIENT LIST") or b""
    return reply.count(b"id=")


@pytest.mark.parametrize(
    "url",
    ["postgres://db/rcabot", "sqlite://state.db", "sqlite:///", "", "redis://:pw@host:port/0"],
)
async def test_factory_rejects_a_bad_url_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigError, match=r"slack\.state_url") as raised:
        await open_store(url)
    assert ":pw@" not in str(raised.value)


async def test_a_released_claim_can_be_claimed_again(store: Store) -> None:
    assert await store.claim("alert:fp:firing", 60)
    assert not await store.claim("alert:fp:firing", 60)
    await store.release("alert:fp:firing")
    assert await store.claim("alert:fp:firing", 60)
    await store.release("never-claimed")  # nothing to drop: no error
