"""Yahoo Finance through yfinance: market data and company data into the raw layer.

Modules (small, typed; I/O at the edges):

- `session`  - the curl_cffi session yfinance uses: limiter before every request, last answer
               kept, optional endpoint (the test seam);
- `throttle` - the `yahoo-api` Prefect global concurrency limit (requests per minute);
- `client`   - yfinance calls with retries/backoff and errors sorted by kind;
- `parse`    - pure: yfinance frames and quoteSummary modules -> raw rows, events, datasets;
- `market`   - one symbol's daily + intraday bars and splits/dividends, landed, load run written;
- `company`  - one symbol's company datasets, landed, load run written;
- `symbols`  - which symbols a run fetches, and batching.

`build_client` is what the flows use: a session throttled by the Prefect limit, retries from
the settings.
"""

from __future__ import annotations

from pathlib import Path

from ingest.yahoo.client import RetryPolicy, YahooClient
from ingest.yahoo.session import YahooSession

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_BACKOFF_SECONDS = 2.0


def build_client(
    *,
    max_retries: int,
    cache_dir: Path | None,
    limiter_name: str | None = None,
    backoff_seconds: float | None = None,
    timeout: float | None = None,
) -> YahooClient:
    """A YahooClient whose every request first takes a slot of the Prefect limit `limiter_name`."""
    from ingest.yahoo.throttle import prefect_limiter

    limiter = prefect_limiter(limiter_name) if limiter_name else None
    session = YahooSession(limiter=limiter)
    retry = RetryPolicy(
        max_retries=max_retries,
        base_seconds=DEFAULT_BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds,
    )
    return YahooClient(
        session,
        retry=retry,
        cache_dir=cache_dir,
        timeout=DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout,
    )
