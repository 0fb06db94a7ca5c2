"""The one retry mechanism of both vendors: a policy, and tenacity running the attempts.

An attempt that failed in a way worth retrying (a 429, a 5xx, no answer, a vendor's rate-limit
error) raises `Retry`; anything else propagates at once. Attempt n (0-based) waits the answer's
`Retry-After` when it has one (capped at `max_retry_after`), else
`min(backoff_cap, backoff_base * 2**n)`, spread by +/- `jitter`. When the retries are spent the
last `Retry` is raised for the caller to turn into its own error.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff_base: float = 2.0
    backoff_cap: float = 60.0
    max_retry_after: float = 300.0
    jitter: float = 0.0  # fraction: 0.2 spreads each wait over [0.8, 1.2] x
    connect_timeout: float = 10.0  # per request (seconds)
    read_timeout: float = 60.0

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        rng: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait after failed attempt `attempt` (0-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        backoff = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return backoff * (1 - self.jitter + 2 * self.jitter * rng()) if self.jitter else backoff


class Retry(Exception):  # noqa: N818 - it reads as the instruction it is
    """Raised by an attempt whose failure may be retried."""

    def __init__(self, problem: str, *, retry_after: float | None = None, **details: object):
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after
        self.details = details


def run(
    policy: RetryPolicy,
    attempt: Callable[[int], T],
    *,
    on_retry: Callable[[Retry, int, float], None] = lambda *_: None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`attempt(n)` (n = 1, 2, ...) until it returns, raises something other than Retry, or
    the policy's retries are spent (then its last Retry is raised). `on_retry(retry, n, wait)`
    is called before each wait (for logging)."""
    number = 0

    def once() -> T:
        nonlocal number
        number += 1
        return attempt(number)

    def wait(state) -> float:
        failure = state.outcome.exception()
        return policy.delay(state.attempt_number - 1, failure.retry_after)

    def before_sleep(state) -> None:
        on_retry(state.outcome.exception(), state.attempt_number, state.upcoming_sleep)

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_retries + 1),
        wait=wait,
        retry=retry_if_exception_type(Retry),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    return retrying(once)
