"""Calling a backend: time limit, bounded retries with backoff, and a circuit breaker.

Every production backend sends each request through :meth:`Resilience.call`:

- each attempt is bounded by ``timeout_s`` (a :class:`BackendTimeout` when exceeded);
- :class:`TransientBackendError` (unreachable, 5xx, 429, timeout) is retried up to
  ``attempts`` times with exponential backoff and jitter; other :class:`BackendError`\\ s
  (a 4xx: our query is wrong) are raised at once;
- after ``failure_threshold`` consecutive failed calls the breaker opens and calls fail fast
  with :class:`CircuitOpen` for ``reset_after_s``; then it is half-open: exactly one trial call
  is let through while every other caller still fails fast. The trial's success closes the
  breaker, its failure opens it again; a trial that ends with neither (cancelled, a 4xx, a bug)
  frees the slot for the next caller, and a trial that never reports back at all is given up
  after ``reset_after_s``, so the breaker cannot stay half-open forever.

One ``Resilience`` per backend, shared by all requests to it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tools.errors import BackendTimeout, CircuitOpen, TransientBackendError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    base_delay_s: float = 0.2
    max_delay_s: float = 2.0

    def delay(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (1-based), with ±50 % jitter."""
        raw: float = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        return raw * random.uniform(0.5, 1.5)


@dataclass
class CircuitBreaker:
    name: str
    failure_threshold: int = 5
    reset_after_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = field(default=None)
    trial_started_at: float | None = field(default=None)  # the half-open trial in flight

    @property
    def is_open(self) -> bool:
        """Calls fail fast: open and cooling down, or half-open with the trial in flight."""
        return self.opened_at is not None and (
            self.clock() - self.opened_at < self.reset_after_s or self._trial_pending()
        )

    def _trial_pending(self) -> bool:
        return (
            self.trial_started_at is not None
            and self.clock() - self.trial_started_at < self.reset_after_s
        )

    def before(self) -> bool:
        """Admit a call or raise :class:`CircuitOpen`; True when the call is the half-open trial,
        which must then end in :meth:`success`, :meth:`failure` or :meth:`release`."""
        if self.opened_at is None:
            return False
        waited = self.clock() - self.opened_at
        if waited < self.reset_after_s:
            raise CircuitOpen(
                self.name,
                f"skipped: {self.failures} consecutive failures; "
                f"next try in {self.reset_after_s - waited:.0f}s",
            )
        if self._trial_pending():
            raise CircuitOpen(
                self.name,
                f"skipped: {self.failures} consecutive failures; a trial call is in flight",
            )
        self.trial_started_at = self.clock()
        return True

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_started_at = None

    def failure(self, *, trial: bool = False) -> None:
        """Count a failed call; the trial's failure (or reaching the threshold) opens again."""
        self.failures += 1
        if trial:
            self.trial_started_at = None
        if trial or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()

    def release(self) -> None:
        """The trial ended without a verdict (cancelled, a 4xx, a bug): the next caller tries."""
        self.trial_started_at = None


class Resilience:
    def __init__(
        self,
        name: str,
        *,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(name)

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        """Run ``request`` (a fresh awaitable per attempt) under the policy."""
        trial = self.breaker.before()
        try:
            result = await self._attempts(request)
        except TransientBackendError:
            self.breaker.failure(trial=trial)
            raise
        except BaseException:
            if trial:
                self.breaker.release()
            raise
        self.breaker.success()
        return result

    async def _attempts(self, request: Callable[[], Awaitable[T]]) -> T:
        last: TransientBackendError | None = None
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return await asyncio.wait_for(request(), timeout=self.timeout_s)
            except TimeoutError:
                last = BackendTimeout(self.name, f"timed out: no answer within {self.timeout_s:g}s")
            except TransientBackendError as exc:
                last = exc
            # any other BackendError (our request is wrong; the backend is fine) propagates
            if attempt < self.retry.attempts:
                await asyncio.sleep(self.retry.delay(attempt))
        assert last is not None
        raise last
