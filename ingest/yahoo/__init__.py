"""Yahoo Finance through yfinance: market data and company data into the raw layer.

Modules (small, typed; I/O at the edges):

- `session`  - the curl_cffi session yfinance uses: limiter before every request, last answer
               kept, optional endpoint (the test seam);
- `client`   - yfinance calls with retries/backoff and errors sorted by kind;
- `parse`    - pure: yfinance frames and quoteSummary modules -> raw rows, events, datasets;
- `market`   - one symbol's daily + intraday bars and splits/dividends, landed, load run written;
- `company`  - one symbol's company datasets, landed, load run written;

`build_client` is what the flows use: a session throttled by the limiter they pass in (the
`yahoo-api` limit, see ingest.ratelimit and flows.limits), retries from the settings.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ingest.ratelimit import Limiter
from ingest.units import Breaker
from ingest.yahoo.client import DEFAULT_POLICY, YahooClient
from ingest.yahoo.session import YahooSession

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_BACKOFF_SECONDS = 2.0


def build_client(
    *,
    max_retries: int,
    cache_dir: Path | None,
    limiter: Limiter | None = None,
    breaker: Breaker | None = None,
    backoff_seconds: float | None = None,
    timeout: float | None = None,
) -> YahooClient:
    """A YahooClient whose every request first calls `limiter` (one slot of the budget), and
    refuses to go out once `breaker` (shared by the run) has seen Yahoo stop answering."""
    session = YahooSession(limiter=limiter, breaker=breaker)
    retry = replace(
        DEFAULT_POLICY,
        max_retries=max_retries,
        backoff_base=DEFAULT_BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds,
    )
    return YahooClient(
        session,
        retry=retry,
        cache_dir=cache_dir,
        timeout=DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout,
    )
