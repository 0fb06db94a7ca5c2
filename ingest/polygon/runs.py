"""raw.load_runs for the Polygon source: what each unit of work did, and what is already landed.

`source_uri` names the request of a unit, so reruns can find what landed:
`polygon:/v2/aggs/grouped/locale/us/market/stocks/<day>?adjusted=false` (a grouped day: its
symbols' rows plus one summary row with symbol `*`),
`polygon:/v2/aggs/ticker/<SYM>/range/1/day/<from>/<to>?adjusted=false` (a backfill window),
`polygon:/v3/reference/{splits,dividends}?ticker=<SYM>...` and
`polygon:/v3/reference/tickers?...` (reference data).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.engine import URL

from ingest.db import transaction
from ingest.outcomes import ALL_SYMBOLS, LANDED, Unit
from ingest.polygon import SOURCE
from ingest.polygon.calendar import sessions


def grouped_uri(day: date) -> str:
    return f"polygon:/v2/aggs/grouped/locale/us/market/stocks/{day.isoformat()}?adjusted=false"


def aggs_uri(symbol: str, start: date, end: date) -> str:
    return (
        f"polygon:/v2/aggs/ticker/{symbol}/range/1/day/{start.isoformat()}/"
        f"{end.isoformat()}?adjusted=false"
    )


def unit(
    kind: str,
    symbol: str | None,
    uri: str,
    window: tuple[date | None, date | None] = (None, None),
) -> Unit:
    """A Polygon unit of work (symbol None: the whole market, `*`)."""
    return Unit(SOURCE, kind, symbol or ALL_SYMBOLS, uri, *window)


def landed_grouped_days(url: URL) -> set[date]:
    """Trading days whose grouped-daily request landed (the daily watermark's input)."""
    with transaction(url) as cur:
        cur.execute(
            "select distinct window_start from raw.load_runs"
            " where source = %s and symbol = %s and status = any(%s)"
            " and source_uri like 'polygon:/v2/aggs/grouped/%%' and window_start is not null",
            (SOURCE, ALL_SYMBOLS, list(LANDED)),
        )
        return {row[0] for row in cur.fetchall()}


def covered_sessions(
    url: URL, symbols: Sequence[str], start: date, end: date
) -> dict[str, set[date]]:
    """Per symbol (upper case), the XNYS sessions in [start, end] inside a landed request of
    that symbol: a backfill window or a grouped day (success or partial)."""
    with transaction(url) as cur:
        cur.execute(
            "select distinct symbol, greatest(window_start, %s), least(window_end, %s)"
            " from raw.load_runs"
            " where source = %s and symbol = any(%s) and status = any(%s)"
            " and source_uri like 'polygon:/v2/aggs/%%'"
            " and window_start <= %s and window_end >= %s",
            (start, end, SOURCE, [s.upper() for s in symbols], list(LANDED), end, start),
        )
        spans = cur.fetchall()
    covered: dict[str, set[date]] = {}
    for symbol, lo, hi in spans:
        covered.setdefault(symbol, set()).update(sessions(lo, hi))
    return covered


def landed_uris(url: URL, uris: Sequence[str]) -> set[str]:
    """Which of these requests already landed (success or partial)."""
    if not uris:
        return set()
    with transaction(url) as cur:
        cur.execute(
            "select distinct source_uri from raw.load_runs"
            " where source = %s and status = any(%s) and source_uri = any(%s)",
            (SOURCE, list(LANDED), list(uris)),
        )
        return {row[0] for row in cur.fetchall()}


def delisting_dates(url: URL, symbols: Sequence[str]) -> dict[str, date | None]:
    """raw.symbols rows marked inactive among `symbols`: symbol -> delisted_at."""
    with transaction(url) as cur:
        cur.execute(
            "select symbol, delisted_at from raw.symbols where not active and symbol = any(%s)",
            ([s.upper() for s in symbols],),
        )
        return dict(cur.fetchall())


def symbols_with_bars(url: URL, symbols: Sequence[str]) -> set[str]:
    """Which of these symbols have Polygon bars in raw.daily_bars."""
    with transaction(url) as cur:
        cur.execute(
            "select distinct symbol from raw.daily_bars where source = %s and symbol = any(%s)",
            (SOURCE, [s.upper() for s in symbols]),
        )
        return {row[0] for row in cur.fetchall()}
