"""A polygon-api-client `RESTClient` wired to the budget, and the API key it uses.

The key comes from the settings (`POLYGON_API_KEY`) or, when that is unset, from the Prefect
Secret block `polygon-api-key`. It is sent only in the Authorization header, never logged, and
scrubbed from every message (see ingest.polygon.http.scrub).
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
from settings import Settings

SECRET_BLOCK = "polygon-api-key"


class MissingApiKey(RuntimeError):
    """Neither POLYGON_API_KEY nor the Prefect Secret block holds a key."""


def resolve_api_key(settings: Settings, block_name: str = SECRET_BLOCK) -> str:
    """The key from the settings, else from the Prefect Secret block `block_name`."""
    if settings.polygon_api_key is not None:
        key = settings.polygon_api_key.get_secret_value().strip()
        if key:
            return key
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(block_name).get()
    except Exception as exc:  # no block, no Prefect API, ... - say which, never more
        raise MissingApiKey(
            f"no Polygon API key: set POLYGON_API_KEY or create a Prefect Secret block named "
            f"{block_name!r} ({type(exc).__name__} while reading the block)"
        ) from None
    key = str(value or "").strip()
    if not key:
        raise MissingApiKey(f"the Prefect Secret block {block_name!r} is empty")
    return key


def build_client(
    api_key: str,
    base_url: str,
    limiter: Limiter,
    policy: RetryPolicy | None = None,
    *,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
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
    for rest in (client, client.vx):
        rest.client = BudgetedPool(rest.client, limiter, policy, secrets=[api_key], **extra)
    return client


def budgeted_pool(client: RESTClient) -> BudgetedPool:
    pool = client.client
    assert isinstance(pool, BudgetedPool)
    return pool
