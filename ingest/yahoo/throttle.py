"""The Yahoo request budget: a Prefect global concurrency limit used as a rate limit.

One limit, `yahoo-api`, shared by every flow run and process that talks to Yahoo: each HTTP
request first takes a slot with `prefect.concurrency.sync.rate_limit`, and slots decay at
`requests_per_minute / 60` per second. The limit holds one slot (no burst), so requests are spaced
at least 60 / requests_per_minute seconds apart and any window of W seconds sees at most
1 + W * requests_per_minute / 60 of them - the smooth pace Yahoo tolerates best (bursts are what
earn a 429).
"""

from __future__ import annotations

from collections.abc import Callable

YAHOO_LIMIT_NAME = "yahoo-api"
BURST = 1  # slots of the limit: requests that may go out back to back


def decay_per_second(requests_per_minute: int) -> float:
    if requests_per_minute <= 0:
        raise ValueError("requests_per_minute must be positive")
    return requests_per_minute / 60.0


def max_requests_in_window(requests_per_minute: int, seconds: float) -> float:
    """The most requests the limit lets through in any window of `seconds` (for checks)."""
    return BURST + seconds * decay_per_second(requests_per_minute)


def ensure_rate_limit(requests_per_minute: int, name: str = YAHOO_LIMIT_NAME) -> None:
    """Create the limit, or bring an existing one to this budget (needs a Prefect API)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectAlreadyExists

    decay = decay_per_second(requests_per_minute)
    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(name, BURST, decay)
        except ObjectAlreadyExists:  # created by a concurrent run between read and create
            client.upsert_global_concurrency_limit_by_name(name, BURST, decay)


def prefect_limiter(name: str = YAHOO_LIMIT_NAME) -> Callable[[], None]:
    """A limiter for YahooSession: blocks until the limit grants one request."""
    from prefect.concurrency.sync import rate_limit

    def acquire() -> None:
        rate_limit(name, occupy=1, strict=True)

    return acquire
