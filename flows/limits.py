"""The one rate-limit mechanism of both vendors: a Prefect global concurrency limit per vendor,
used as a rate limit (see ingest.ratelimit for the rule). Flows create the limit and hand the
`ingest` clients a limiter that takes one slot per HTTP request.

The server enforces the budget; each process paces its own requests so that they arrive when
the slot is free (a denied request costs time, see _Pacer): the achieved rate is close to the
budget and never above it.
"""

from __future__ import annotations

import threading
import time

from ingest.ratelimit import Limiter, LimitSpec, limit_spec


def ensure_rate_limit(requests_per_minute: float, name: str) -> LimitSpec:
    """Create the limit, or bring it to this budget (and active); idempotent."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    spec = limit_spec(requests_per_minute, name)
    with get_client(sync_client=True) as client:
        try:
            current = client.read_global_concurrency_limit_by_name(spec.name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(
                        name=spec.name,
                        limit=spec.limit,
                        active=True,
                        slot_decay_per_second=spec.slot_decay_per_second,
                    )
                )
                return spec
            except ObjectAlreadyExists:  # created concurrently: fall through to the update
                current = client.read_global_concurrency_limit_by_name(spec.name)
        if (current.limit, current.slot_decay_per_second, current.active) != (
            spec.limit,
            spec.slot_decay_per_second,
            True,
        ):
            client.update_global_concurrency_limit(
                spec.name,
                GlobalConcurrencyLimitUpdate(
                    limit=spec.limit,
                    active=True,
                    slot_decay_per_second=spec.slot_decay_per_second,
                ),
            )
    return spec


class _Pacer:
    """Spaces this process's requests for one limit by its interval before asking Prefect.

    Prefect restarts a slot's decay clock whenever a request for it is denied, so requests that
    arrive early lose time: ~70 % of the budget was reached that way. Waiting here until one
    full interval has passed since the last grant was *answered* means the request reaches the
    server after the slot has decayed and is granted at once; the server still enforces the
    budget (across processes), so the rate is never above it.
    """

    MARGIN_SECONDS = 0.01  # the server's decay counts whole slots: do not arrive a hair early

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.interval = 0.0
        self.last_grant = float("-inf")

    def wait(self) -> None:
        delay = self.last_grant + self.interval + self.MARGIN_SECONDS - time.monotonic()
        if delay > 0:
            time.sleep(delay)


_PACERS: dict[str, _Pacer] = {}
_PACERS_LOCK = threading.Lock()


def _pacer(name: str, interval: float) -> _Pacer:
    with _PACERS_LOCK:
        pacer = _PACERS.setdefault(name, _Pacer())
        pacer.interval = interval
        return pacer


def _interval(name: str) -> float:
    """Seconds between requests per the limit's slot decay on the server (0: unknown)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            limit = client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        return 0.0  # `rate_limit(strict=True)` will say the limit is missing
    decay = limit.slot_decay_per_second or 0.0
    return limit.limit / decay if decay > 0 else 0.0


def prefect_limiter(name: str, timeout_seconds: float | None = None) -> Limiter:
    """Blocks until the limit `name` grants one request. `strict`: a missing limit is an
    error, never a silently unlimited run. Requests of this process are paced (see _Pacer)."""
    from prefect.concurrency.sync import rate_limit

    pacer = _pacer(name, _interval(name))

    def acquire() -> None:
        with pacer.lock:  # one request of this process at a time asks for the slot
            pacer.wait()
            rate_limit(name, occupy=1, timeout_seconds=timeout_seconds, strict=True)
            pacer.last_grant = time.monotonic()

    return acquire
