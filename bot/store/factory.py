"""Open the store ``slack.state_url`` names: the one place that knows the URL schemes.

``sqlite:///PATH`` (relative to the working directory; ``sqlite:////abs/path`` for an absolute
one) opens :class:`~bot.store.sqlite.SqliteStore`, ``redis://`` and ``rediss://`` open
:class:`~bot.store.redis.RedisStore`. A URL of another kind is a :class:`ConfigError` (the
setting is wrong); a store that cannot be reached or opened is a :class:`StateError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.store.base import Store
from bot.store.redis import RedisStore, where
from bot.store.sqlite import SqliteStore
from tools.errors import ConfigError

SETTING = "slack.state_url"
SQLITE = "sqlite:///"
REDIS = ("redis://", "rediss://")
FORMS = "sqlite:///PATH or redis://HOST:PORT/DB (rediss:// for TLS)"


async def open_store(url: str) -> Store:
    """The open store ``url`` names; the caller closes it (``await store.aclose()``)."""
    if url.startswith(SQLITE):
        path = url.removeprefix(SQLITE)
        if not path:
            raise ConfigError(f"{SETTING}: {url!r} names no file; use {FORMS}")
        return await SqliteStore.open(path)
    if url.startswith(REDIS):
        try:
            return await RedisStore.open(url)
        except ValueError as exc:  # malformed URL (port, db number): never echo the password
            raise ConfigError(
                f"{SETTING}: not a valid Redis URL for {where(url)} ({exc}); use {FORMS}"
            ) from exc
    if url.startswith("sqlite:"):
        raise ConfigError(
            f"{SETTING}: {url!r} is not a SQLite URL: three slashes before a relative path "
            "(sqlite:///state.db), four before an absolute one (sqlite:////var/lib/state.db)"
        )
    scheme = url.split("://", 1)[0] if "://" in url else "no scheme"  # never the rest: secrets
    raise ConfigError(f"{SETTING}: unsupported store ({scheme}); use {FORMS}")


@asynccontextmanager
async def store_from_url(url: str) -> AsyncIterator[Store]:
    """:func:`open_store`, closed when the block ends."""
    store = await open_store(url)
    try:
        yield store
    finally:
        await store.aclose()
