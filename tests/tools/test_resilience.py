from __future__ import annotations

import asyncio

import pytest

from tools.errors import BackendError, BackendTimeout, CircuitOpen, TransientBackendError
from tools.resilience import CircuitBreaker, Resilience, RetryPolicy

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


class Gate:
    """A backend whose answers wait for the test: counts the calls that reach it."""

    def __init__(self, outcome: BaseException | None = None) -> None:
        self.calls = 0
        self.outcome = outcome
        self.release = asyncio.Event()
        self.reached = asyncio.Event()

    async def __call__(self) -> str:
        self.calls += 1
        self.reached.set()
        await self.release.wait()
        if self.outcome is not None:
            raise self.outcome
        return "ok"


async def _opened(threshold: int = 1) -> tuple[Resilience, list[float]]:
    """A resilience whose breaker has just opened, with a clock the test moves."""
    now = [0.0]
    breaker = CircuitBreaker(
        "b", failure_threshold=threshold, reset_after_s=30, clock=lambda: now[0]
    )
    res = Resilience("b", retry=RetryPolicy(attempts=1), breaker=breaker)
    for _ in range(threshold):
        with pytest.raises(TransientBackendError):
            await res.call(Flaky([TransientBackendError("b", "down")]))
    assert breaker.is_open
    now[0] = 31.0  # past reset_after_s: half-open
    return res, now


async def _trial_and_others(
    res: Resilience, gate: Gate, others: int
) -> tuple[asyncio.Task[str], list[str | BaseException]]:
    """Start the trial and let it reach the backend, then ``others`` concurrent callers."""
    trial = asyncio.ensure_future(res.call(gate))
    await asyncio.wait_for(gate.reached.wait(), timeout=5)
    rest = await asyncio.gather(*(res.call(gate) for _ in range(others)), return_exceptions=True)
    return trial, rest


async def test_half_open_lets_exactly_one_trial_through_and_its_success_closes() -> None:
    res, _ = await _opened()
    gate = Gate()
    trial, rest = await _trial_and_others(res, gate, 20)
    assert gate.calls == 1  # only the trial reached the backend
    assert all(isinstance(r, CircuitOpen) for r in rest)
    assert "trial call is in flight" in str(rest[0])
    gate.release.set()
    assert await trial == "ok"
    assert not res.breaker.is_open
    assert await asyncio.gather(*(res.call(gate) for _ in range(5))) == ["ok"] * 5
    assert gate.calls == 6


async def test_callers_racing_into_half_open_get_one_trial_between_them() -> None:
    res, _ = await _opened()
    gate = Gate()

    async def answer_once_reached() -> str:
        await gate.reached.wait()
        gate.release.set()
        return "released"

    *results, _ = await asyncio.gather(
        *(res.call(gate) for _ in range(10)), answer_once_reached(), return_exceptions=True
    )
    assert gate.calls == 1
    assert results.count("ok") == 1
    assert sum(isinstance(r, CircuitOpen) for r in results) == 9


async def test_a_failed_trial_opens_the_breaker_again() -> None:
    res, now = await _opened(threshold=3)
    gate = Gate(TransientBackendError("b", "still down"))
    trial, rest = await _trial_and_others(res, gate, 5)
    assert all(isinstance(r, CircuitOpen) for r in rest)
    gate.release.set()
    with pytest.raises(TransientBackendError, match="still down"):
        await trial
    assert res.breaker.is_open  # one failure is enough when half-open, whatever the threshold
    with pytest.raises(CircuitOpen, match="next try in 30s"):
        await res.call(gate)
    assert gate.calls == 1
    now[0] = 62.0  # half-open again: the next caller is the new trial
    gate.outcome = None
    assert await res.call(gate) == "ok"
    assert gate.calls == 2


@pytest.mark.parametrize("end", ["cancelled", "client error"], ids=["cancelled", "client-error"])
async def test_a_trial_without_a_verdict_frees_the_slot_for_the_next_caller(end: str) -> None:
    res, _ = await _opened()
    gate = Gate(BackendError("b", "HTTP 400") if end == "client error" else None)
    trial, rest = await _trial_and_others(res, gate, 3)
    assert all(isinstance(r, CircuitOpen) for r in rest)
    if end == "cancelled":
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
    else:
        gate.release.set()
        with pytest.raises(BackendError, match="HTTP 400"):
            await trial
    assert not res.breaker.is_open  # not wedged half-open: the next caller is the trial
    gate.outcome = None
    gate.release.set()
    assert await res.call(gate) == "ok"
    assert gate.calls == 2
    assert not res.breaker.is_open


def test_a_trial_that_never_reports_back_is_given_up_after_reset_after_s() -> None:
    now = [0.0]
    breaker = CircuitBreaker("b", failure_threshold=1, reset_after_s=30, clock=lambda: now[0])
    breaker.failure()
    now[0] = 30.0
    assert breaker.before() is True  # the trial; its caller vanishes without a verdict
    with pytest.raises(CircuitOpen, match="in flight"):
        breaker.before()
    now[0] = 59.0
    assert breaker.is_open
    now[0] = 60.0
    assert breaker.before() is True  # a new trial, not stuck forever


def test_a_closed_breaker_admits_every_call() -> None:
    breaker = CircuitBreaker("b", failure_threshold=2)
    assert [breaker.before() for _ in range(3)] == [False, False, False]
    breaker.failure()
    assert not breaker.is_open
    assert breaker.before() is False
