"""Which symbols a vendor run fetches: one rule for Polygon and Yahoo.

Explicit symbols (the `symbols` parameter), else the configured universe (`MDW_UNIVERSE`), else
the active rows of raw.symbols (read only when neither list gives a symbol), else the whole
market - which only Polygon's grouped-daily endpoint can fetch; `max_symbols` keeps the first
N (of an explicit or configured list as given, of raw.symbols in alphabetical order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import URL

from ingest.checks import normalize_symbols as normalize
from ingest.db import transaction


@dataclass(frozen=True)
class Universe:
    """`symbols` None means the whole market. `origin` says where the list came from."""

    symbols: list[str] | None
    origin: str

    @property
    def whole_market(self) -> bool:
        return self.symbols is None


def resolve_universe(
    *,
    explicit: Sequence[str] | None,
    configured: Sequence[str] | None,
    registered: Sequence[str] | None,
    whole_market: bool = False,
    max_symbols: int | None = None,
) -> Universe:
    """The rule above, on lists already read (pure)."""
    if max_symbols is not None and max_symbols <= 0:
        raise ValueError("max_symbols must be positive")
    if whole_market:
        return Universe(None, "whole market (requested)")
    for origin, symbols in (
        ("symbols parameter", normalize(explicit or [])),
        ("MDW_UNIVERSE", normalize(configured or [])),
        ("raw.symbols (active)", sorted(normalize(registered or []))),
    ):
        if symbols:
            return Universe(symbols[:max_symbols] if max_symbols else symbols, origin)
    return Universe(None, "whole market (no universe configured)")


def active_symbols(url: URL) -> list[str]:
    """The active rows of raw.symbols, in symbol order."""
    with transaction(url) as cur:
        cur.execute("select symbol from raw.symbols where active order by symbol")
        return [row[0] for row in cur.fetchall()]


def choose_universe(
    url: URL,
    explicit: Sequence[str] | None,
    configured: Sequence[str] | None,
    *,
    whole_market: bool = False,
    max_symbols: int | None = None,
) -> Universe:
    """The rule above, reading raw.symbols only when it is needed."""
    needed = not (whole_market or normalize(explicit or []) or normalize(configured or []))
    return resolve_universe(
        explicit=explicit,
        configured=configured,
        registered=active_symbols(url) if needed else [],
        whole_market=whole_market,
        max_symbols=max_symbols,
    )


def batches(
    symbols: Sequence[str], size: int, stopped: Callable[[], bool] = lambda: False
) -> Iterator[list[str]]:
    """`size` symbols at a time; once `stopped()` (the run stopped early), all the rest at once
    (to be recorded as not attempted in one go)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    i = 0
    while i < len(symbols):
        step = len(symbols) - i if stopped() else size
        yield list(symbols[i : i + step])
        i += step
