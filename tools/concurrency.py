"""Running requests side by side, all or none: nothing outlives the call that started it.

``asyncio.gather`` raises the first failure at once and leaves the other awaitables running.
A tool that asked a backend three things at once and saw one fail would return while the other
two went on (and retried) after it, past the investigation and past the client being closed:
a closed Elasticsearch client opens a new connection pool for such a late request, and nobody
closes that one. Here the first failure cancels the others and waits for them to finish before
it is raised, the way a ``TaskGroup`` does, but raises the failure itself (not an exception
group), so callers map backend errors as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, overload

T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")


@overload
async def gather_all(a1: Awaitable[T1], a2: Awaitable[T2], /) -> tuple[T1, T2]: ...
@overload
async def gather_all(
    a1: Awaitable[T1], a2: Awaitable[T2], a3: Awaitable[T3], /
) -> tuple[T1, T2, T3]: ...
@overload
async def gather_all(
    a1: Awaitable[T1], a2: Awaitable[T2], a3: Awaitable[T3], a4: Awaitable[T4], /
) -> tuple[T1, T2, T3, T4]: ...
@overload
async def gather_all(*awaitables: Awaitable[T]) -> tuple[T, ...]: ...
async def gather_all(*awaitables: Awaitable[Any]) -> tuple[Any, ...]:
    """The results of ``awaitables`` run concurrently, in order. On the first failure (or when
    this call is cancelled) the others are cancelled and awaited, then the failure is raised."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return tuple(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def gather_bounded(calls: Iterable[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run ``calls`` with at most ``limit`` in flight; results in order; all or none, as
    :func:`gather_all`."""
    semaphore = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await call()

    return list(await gather_all(*(run(call) for call in calls)))
