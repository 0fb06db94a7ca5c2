"""The one rate-limit mechanism of both vendors: a Prefect global concurrency limit per vendor,
used as a rate limit (see ingest.ratelimit for the rule). Flows create the limit and hand the
`ingest` clients a limiter that takes one slot per HTTP request.

Prefect restarts a slot's decay clock whenever a request for it is denied, so under contention
the achieved rate is below the budget, never above it.
"""

from __future__ import annotations

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


def prefect_limiter(name: str, timeout_seconds: float | None = None) -> Limiter:
    """Blocks until the limit `name` grants one request. `strict`: a missing limit is an
    error, never a silently unlimited run."""
    from prefect.concurrency.sync import rate_limit

    def acquire() -> None:
        rate_limit(name, occupy=1, timeout_seconds=timeout_seconds, strict=True)

    return acquire
