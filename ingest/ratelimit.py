"""The vendors' request budgets (pure): one rule for Polygon and Yahoo.

Each vendor has one rate limit shared by every process and task that talks to it (flows.limits
enforces it with a Prefect global concurrency limit used as a rate limit). The limit holds one
slot (no burst) that decays at `requests_per_minute / 60` slots per second, so requests are at
least `60 / rpm` seconds apart and any window of W seconds sees at most `1 + W * rpm / 60` of
them. `ingest` only receives the resulting limiter: a callable that blocks until a request
may go out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

POLYGON_LIMIT = "polygon-api"
YAHOO_LIMIT = "yahoo-api"
BURST = 1  # slots of the limit: requests that may go out back to back

Limiter = Callable[[], None]


@dataclass(frozen=True)
class LimitSpec:
    name: str
    limit: int
    slot_decay_per_second: float


def decay_per_second(requests_per_minute: float) -> float:
    if requests_per_minute <= 0:
        raise ValueError("requests_per_minute must be positive")
    return requests_per_minute / 60.0


def limit_spec(requests_per_minute: float, name: str = POLYGON_LIMIT) -> LimitSpec:
    """The global concurrency limit that enforces `requests_per_minute`."""
    return LimitSpec(name, BURST, decay_per_second(requests_per_minute))


def max_requests_in_window(requests_per_minute: float, seconds: float) -> float:
    """The most requests the limit lets through in any window of `seconds` (for checks)."""
    return BURST + seconds * decay_per_second(requests_per_minute)
