"""All or none: when one of several concurrent requests fails, nothing else keeps running."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from tools.concurrency import gather_all, gather_bounded
from tools.errors import BackendError


class Requests:
    """Concurrent requests that count how many are in flight, finished or were cancelled."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.finished: list[int] = []
        self.cancelled = 0

    async def answer(self, i: int, *, after_s: float = 0.05, fail: bool = False) -> int:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(after_s)
            if fail:
                raise BackendError("x", f"request {i} failed")
            self.finished.append(i)
            return i
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


async def test_results_come_in_order_with_their_own_types() -> None:
    async def word() -> str:
        await asyncio.sleep(0.01)
        return "a"

    inner = gather_all(*(asyncio.sleep(0.01 * (3 - i), i) for i in range(3)))
    number, text, numbers = await gather_all(asyncio.sleep(0.02, 1), word(), inner)
    assert (number, text, numbers) == (1, "a", (0, 1, 2))


async def test_a_failure_cancels_the_others_before_it_is_raised() -> None:
    requests = Requests()
    with pytest.raises(BackendError, match="request 1 failed"):
        await gather_all(
            requests.answer(0, after_s=1.0),
            requests.answer(1, after_s=0.01, fail=True),
            requests.answer(2, after_s=1.0),
        )
    # asyncio.gather would have raised with 0 and 2 still running (and finishing later)
    assert requests.running == 0 and requests.cancelled == 2
    await asyncio.sleep(1.1)
    assert requests.finished == []


async def test_cancelling_the_caller_cancels_every_request() -> None:
    requests = Requests()
    caller = asyncio.ensure_future(
        gather_all(requests.answer(0, after_s=1.0), requests.answer(1, after_s=1.0))
    )
    await asyncio.sleep(0.05)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert requests.running == 0 and requests.cancelled == 2


async def test_gather_bounded_limits_concurrency_and_cancels_on_failure() -> None:
    ordered = await gather_bounded(
        [partial(asyncio.sleep, 0.001 * (5 - i), i) for i in range(5)], 2
    )
    assert ordered == [0, 1, 2, 3, 4]
    requests = Requests()
    calls = [
        partial(requests.answer, i, after_s=0.01 if i == 3 else 1.0, fail=i == 3) for i in range(10)
    ]
    with pytest.raises(BackendError, match="request 3 failed"):
        await gather_bounded(calls, 4)
    assert requests.peak == 4
    # the three others in flight, and any the failure's freed slot let in, were cancelled
    assert requests.running == 0 and requests.cancelled >= 3 and requests.finished == []
