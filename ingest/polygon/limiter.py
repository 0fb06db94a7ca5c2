"""The Polygon request budget: one Prefect global concurrency limit used as a rate limit.

The limit `polygon-api` has one slot that decays at `requests_per_minute / 60` slots per second;
every HTTP request first takes the slot with `prefect.concurrency.sync.rate_limit`. One slot (no
burst) means requests are at least `60 / rpm` seconds apart in every process and task that
shares the Prefect server, so no 60-second window ever sees more than `rpm` requests. (A larger
limit would allow bursts of that many requests on top of the decay rate.)

Prefect restarts a slot's decay clock whenever a request for it is denied, so under contention
the achieved rate is below the budget, never above it.
"""

from __future__ import annotations

from dataclasses import dataclass

LIMIT_NAME = "polygon-api"
BURST = 1


@dataclass(frozen=True)
class LimitSpec:
    name: str
    limit: int
    slot_decay_per_second: float


def limit_spec(requests_per_minute: int, name: str = LIMIT_NAME) -> LimitSpec:
    """The global concurrency limit that enforces `requests_per_minute` (pure)."""
    if requests_per_minute <= 0:
        raise ValueError("requests_per_minute must be positive")
    return LimitSpec(name, BURST, requests_per_minute / 60.0)


def ensure_rate_limit(requests_per_minute: int, name: str = LIMIT_NAME) -> LimitSpec:
    """Create the limit, or update it to this budget (and active); idempotent."""
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


class PrefectRateLimiter:
    """A `Limiter` that takes one slot of the Prefect rate limit per call.

    `strict=True`: a missing limit is an error, never a silently unlimited run.
    """

    def __init__(self, name: str = LIMIT_NAME, timeout_seconds: float | None = None):
        self.name = name
        self.timeout_seconds = timeout_seconds

    def __call__(self) -> None:
        from prefect.concurrency.sync import rate_limit

        rate_limit(self.name, occupy=1, timeout_seconds=self.timeout_seconds, strict=True)
