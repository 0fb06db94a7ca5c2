"""Which symbols a Yahoo run fetches, and in what batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy.engine import URL

from ingest.checks import normalize_symbols as normalize
from ingest.db import transaction


def pick_symbols(
    explicit: Sequence[str] | None,
    universe: Sequence[str],
    active: Sequence[str],
    max_symbols: int | None,
) -> list[str]:
    """Explicit symbols, else the configured universe, else the active raw.symbols; capped."""
    if max_symbols is not None and max_symbols < 0:
        raise ValueError("max_symbols must not be negative")
    for candidates in (explicit, universe, active):
        chosen = normalize(candidates or [])
        if chosen:
            return chosen[:max_symbols] if max_symbols is not None else chosen
    return []


def active_symbols(url: URL) -> list[str]:
    """The active rows of raw.symbols, in symbol order."""
    with transaction(url) as cur:
        cur.execute("select symbol from raw.symbols where active order by symbol")
        return [row[0] for row in cur.fetchall()]


def resolve_symbols(
    url: URL,
    explicit: Sequence[str] | None,
    universe: Sequence[str],
    max_symbols: int | None,
) -> list[str]:
    """pick_symbols, reading raw.symbols only when neither list gives any symbol."""
    if normalize(explicit or []) or normalize(universe):
        return pick_symbols(explicit, universe, [], max_symbols)
    return pick_symbols(None, [], active_symbols(url), max_symbols)


def batches(symbols: Sequence[str], size: int) -> Iterator[list[str]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for i in range(0, len(symbols), size):
        yield list(symbols[i : i + size])
