"""Polygon aggregates -> canonical bar rows for ingest.landing.land_rows (pure).

`t` is epoch milliseconds (UTC). A daily bar's trading date is `t` in America/New_York: the
range endpoint stamps daily bars at 00:00 New York time (05:00Z in EST, 04:00Z in EDT), the
grouped endpoint at the 16:00 close; both are the same New York date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")

Row = tuple[object, ...]  # symbol, date, open, high, low, close, volume


def trade_date(t_ms: object) -> date | None:
    """The New York trading date of a Polygon `t` (None when missing or unreadable)."""
    if t_ms is None or isinstance(t_ms, bool):
        return None
    try:
        seconds = int(t_ms) / 1000
        return datetime.fromtimestamp(seconds, tz=UTC).astimezone(NEW_YORK).date()
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def bar_row(symbol: object, agg: object) -> Row:
    """One canonical row from a polygon `Agg` / `GroupedDailyAgg` (values as received; a
    missing value stays missing so that landing quarantines the row with the reason)."""
    return (
        symbol,
        trade_date(getattr(agg, "timestamp", None)),
        getattr(agg, "open", None),
        getattr(agg, "high", None),
        getattr(agg, "low", None),
        getattr(agg, "close", None),
        getattr(agg, "volume", None),
    )


def symbol_rows(symbol: str, aggs: Iterable[object]) -> list[Row]:
    """Rows of one symbol's range aggregates."""
    return [bar_row(symbol, a) for a in aggs]


@dataclass(frozen=True)
class GroupedSelection:
    """What one grouped-daily answer gives for a day and a universe."""

    day: date
    market_rows: int
    rows: list[Row] = field(default_factory=list)
    off_day: list[tuple[Row, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    not_in_universe: int = 0


def select_grouped(
    day: date,
    aggs: Iterable[object],
    universe: Iterable[str] | None,
    max_symbols: int | None = None,
) -> GroupedSelection:
    """Split a grouped-daily answer into rows to land, rows stamped for another day (to
    quarantine: a bar must belong to the day that was asked for), and universe symbols absent
    from the answer. `universe=None` keeps the whole market (the first `max_symbols` tickers in
    alphabetical order when given)."""
    wanted = None if universe is None else {s.strip().upper() for s in universe if s.strip()}
    received = list(aggs)
    keep: list[Row] = []
    off: list[tuple[Row, str]] = []
    seen: set[str] = set()
    outside = 0
    for agg in received:
        ticker = getattr(agg, "ticker", None)
        key = str(ticker or "").strip().upper()
        if wanted is not None and key not in wanted:
            outside += 1
            continue
        row = bar_row(ticker, agg)
        if row[1] is not None and row[1] != day:
            off.append(
                (
                    row,
                    f"timestamp t={getattr(agg, 'timestamp', None)} is trading day "
                    f"{row[1].isoformat()}, not the requested day {day.isoformat()}",
                )
            )
            continue
        keep.append(row)
        seen.add(key)
    if wanted is None and max_symbols is not None:
        allowed = set(sorted(seen)[:max_symbols])
        outside += sum(1 for r in keep if str(r[0] or "").strip().upper() not in allowed)
        keep = [r for r in keep if str(r[0] or "").strip().upper() in allowed]
    missing = sorted(wanted - seen - {str(r[0]).strip().upper() for r, _ in off}) if wanted else []
    return GroupedSelection(day, len(received), keep, off, missing, outside)
