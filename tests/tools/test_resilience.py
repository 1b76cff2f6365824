from __future__ import annotations

import asyncio
from functools import partial

import pytest

from tools.errors import BackendError, BackendTimeout, CircuitOpen, TransientBackendError
from tools.resilience import CircuitBreaker, Resilience, RetryPolicy, gather_bounded

FAST = RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002)


class Flaky:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


async def test_transient_errors_are_retried_until_success() -> None:
    flaky = Flaky([TransientBackendError("b", "HTTP 503"), TransientBackendError("b", "503")])
    assert await Resilience("b", retry=FAST).call(flaky) == "ok"
    assert flaky.calls == 3


async def test_client_errors_are_not_retried() -> None:
    flaky = Flaky([BackendError("b", "HTTP 400 bad query")])
    with pytest.raises(BackendError, match="bad query"):
        await Resilience("b", retry=FAST).call(flaky)
    assert flaky.calls == 1


async def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    flaky = Flaky([TransientBackendError("b", f"fail {i}") for i in range(10)])
    with pytest.raises(TransientBackendError, match="fail 2"):
        await Resilience("b", retry=FAST).call(flaky)
    assert flaky.calls == 3


async def test_each_attempt_is_time_bounded() -> None:
    calls = 0

    async def slow() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(5)
        return "never"

    with pytest.raises(BackendTimeout, match=r"no answer within 0\.05s"):
        await Resilience("b", timeout_s=0.05, retry=FAST).call(slow)
    assert calls == 3


async def test_breaker_opens_fails_fast_and_recovers() -> None:
    now = [0.0]
    breaker = CircuitBreaker("b", failure_threshold=2, reset_after_s=30, clock=lambda: now[0])
    res = Resilience("b", retry=RetryPolicy(attempts=1), breaker=breaker)
    for _ in range(2):
        with pytest.raises(TransientBackendError):
            await res.call(Flaky([TransientBackendError("b", "down")]))
    never = Flaky([])
    with pytest.raises(CircuitOpen, match="2 consecutive failures"):
        await res.call(never)
    assert never.calls == 0
    now[0] = 31.0  # half-open: one trial call goes through and closes the breaker
    assert await res.call(never) == "ok"
    assert not breaker.is_open
    assert breaker.failures == 0


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=0.4)
    assert 0.05 <= policy.delay(1) <= 0.15
    assert 0.2 <= policy.delay(3) <= 0.6
    assert policy.delay(10) <= 0.6


async def test_gather_bounded_limits_concurrency_and_cancels_on_failure() -> None:
    running, peak, cancelled = 0, 0, 0

    async def work(i: int) -> int:
        nonlocal running, peak, cancelled
        running += 1
        peak = max(peak, running)
        try:
            await asyncio.sleep(0.01 if i != 3 else 0)
            if i == 3:
                raise BackendError("x", "boom")
            await asyncio.sleep(1)
            return i
        except asyncio.CancelledError:
            cancelled += 1
            raise
        finally:
            running -= 1

    ordered = await gather_bounded(
        [partial(asyncio.sleep, 0.001 * (5 - i), i) for i in range(5)], 2
    )
    assert ordered == [0, 1, 2, 3, 4]
    with pytest.raises(BackendError, match="boom"):
        await gather_bounded([partial(work, i) for i in range(10)], 4)
    assert peak == 4
    assert running == 0 and cancelled >= 3
