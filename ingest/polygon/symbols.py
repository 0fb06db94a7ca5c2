"""Which symbols a Polygon run fetches (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.checks import normalize_symbols as normalize


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
    """Explicit symbols, else the configured universe (MDW_UNIVERSE), else the active rows of
    raw.symbols, else the whole market; `whole_market=True` keeps the whole market regardless.
    `max_symbols` keeps the first N (of an explicit or configured list as given, of raw.symbols
    in alphabetical order)."""
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
