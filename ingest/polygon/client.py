"""A polygon-api-client `RESTClient` wired to the budget.

The API key and the limiter are passed in (flows.keys resolves the key, flows.limits makes the
limiter). The key is sent only in the Authorization header, never logged, and scrubbed from
every message (ingest.redact.scrub). A `Breaker` shared by a run's clients stops the run once
Polygon stops answering (ingest.units).
"""

from __future__ import annotations

import logging

from polygon import RESTClient

from ingest.polygon import http
from ingest.polygon.http import (
    BudgetedPool,
    Limiter,
    RetryPolicy,
    StrictJSON,
)
from ingest.units import Breaker


def build_client(
    api_key: str,
    base_url: str,
    limiter: Limiter,
    policy: RetryPolicy | None = None,
    *,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    breaker: Breaker | None = None,
) -> RESTClient:
    """A RESTClient whose every HTTP request goes through `limiter`, with retries and timeouts
    from `policy` (default: ingest.polygon.http.DEFAULT_POLICY), numbers parsed as Decimal
    and non-JSON bodies raising."""
    policy = policy or http.DEFAULT_POLICY
    client = RESTClient(
        api_key=api_key,
        base=base_url.rstrip("/"),
        retries=0,
        connect_timeout=policy.connect_timeout,
        read_timeout=policy.read_timeout,
        pagination=True,
        custom_json=StrictJSON,
    )
    extra = {"logger": logger} if logger is not None else {}
    breaker = breaker or Breaker("Polygon")
    for rest in (client, client.vx):
        rest.client = BudgetedPool(
            rest.client, limiter, policy, secrets=[api_key], breaker=breaker, **extra
        )
    return client


def budgeted_pool(client: RESTClient) -> BudgetedPool:
    pool = client.client
    assert isinstance(pool, BudgetedPool)
    return pool
