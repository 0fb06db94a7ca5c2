"""raw.load_runs for the Polygon source: what each unit of work did, and what is already landed.

`source_uri` names the request of a unit, so reruns can find what landed:
`polygon:/v2/aggs/grouped/locale/us/market/stocks/<day>?adjusted=false` (a grouped day: its
symbols' rows plus one summary row with symbol `*`),
`polygon:/v2/aggs/ticker/<SYM>/range/1/day/<from>/<to>?adjusted=false` (a backfill window),
`polygon:/v3/reference/{splits,dividends}?ticker=<SYM>...` and
`polygon:/v3/reference/tickers?...` (reference data).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import psycopg2.extensions
from sqlalchemy.engine import URL

from ingest import load_runs
from ingest.db import transaction
from ingest.files import FileResult
from ingest.polygon import SOURCE
from ingest.polygon.bars import Row
from ingest.polygon.calendar import sessions
from ingest.polygon.http import scrub

LANDED = ("success", "partial")  # partial: landed, with rows quarantined (a refetch won't help)
ALL_SYMBOLS = "*"


def grouped_uri(day: date) -> str:
    return f"polygon:/v2/aggs/grouped/locale/us/market/stocks/{day.isoformat()}?adjusted=false"


def aggs_uri(symbol: str, start: date, end: date) -> str:
    return (
        f"polygon:/v2/aggs/ticker/{symbol}/range/1/day/{start.isoformat()}/"
        f"{end.isoformat()}?adjusted=false"
    )


@dataclass(frozen=True)
class UnitOutcome:
    """One unit of work (a grouped day, a symbol's window, a listing...). `status` is a
    raw.load_runs status, or `skipped` (nothing requested: already landed, or after a
    delisting) which is reported but not recorded."""

    kind: str
    symbol: str
    window_start: date | None
    window_end: date | None
    status: str
    source_uri: str
    load_run_id: uuid.UUID
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error: str | None = None

    @property
    def landed(self) -> bool:
        return self.status in LANDED

    def as_row(self) -> dict[str, object]:
        window = ""
        if self.window_start:
            window = self.window_start.isoformat()
            if self.window_end and self.window_end != self.window_start:
                window += f" .. {self.window_end.isoformat()}"
        return {
            "unit": self.kind,
            "symbol": self.symbol,
            "window": window,
            "status": self.status,
            "received": self.received,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "error": self.error or "",
        }


def outcome_from_result(
    kind: str, result: FileResult, *, window: tuple[date, date], symbol: str | None = None
) -> UnitOutcome:
    """The outcome of an `ingest_rows` call (summed over its symbols)."""
    symbols = result.symbols
    statuses = {s.status for s in symbols}
    if statuses <= {"success"}:
        status = "success"
    elif statuses == {"failed"}:
        status = "failed"
    else:
        status = "partial"
    rejected = sum(s.rejected for s in symbols)
    return UnitOutcome(
        kind=kind,
        symbol=symbol or (symbols[0].symbol if len(symbols) == 1 else ALL_SYMBOLS),
        window_start=window[0],
        window_end=window[1],
        status=status,
        source_uri=result.path,
        load_run_id=result.load_run_id,
        received=result.received,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=sum(s.unchanged for s in symbols),
        rejected=rejected,
        error=f"{rejected} row(s) quarantined in raw.rejected_bars" if rejected else None,
    )


def record(
    cur: psycopg2.extensions.cursor,
    outcome: UnitOutcome,
    *,
    started_at: datetime,
    flow_run_id: str | None,
) -> None:
    """Write the raw.load_runs row of an outcome (skipped ones are not recorded)."""
    if outcome.status == "skipped":
        return
    load_runs.write(
        cur,
        load_runs.of(
            outcome,
            load_run_id=outcome.load_run_id,
            source=SOURCE,
            started_at=started_at,
            error=scrub(outcome.error) if outcome.error else None,
            source_uri=outcome.source_uri,
            flow_run_id=flow_run_id,
        ),
    )


def record_all(
    url: URL,
    outcomes: Iterable[UnitOutcome],
    *,
    started_at: datetime | None = None,
    flow_run_id: str | None = None,
) -> None:
    with transaction(url) as cur:
        for outcome in outcomes:
            record(
                cur, outcome, started_at=started_at or datetime.now(UTC), flow_run_id=flow_run_id
            )


def failed(
    kind: str,
    symbol: str,
    window: tuple[date | None, date | None],
    uri: str,
    error: str,
    run_id: uuid.UUID | None = None,
) -> UnitOutcome:
    return UnitOutcome(
        kind,
        symbol,
        window[0],
        window[1],
        "failed",
        uri,
        run_id or uuid.uuid4(),
        error=scrub(error),
    )


def with_error(outcome: UnitOutcome, note: str | None) -> UnitOutcome:
    if not note:
        return outcome
    return replace(outcome, error=f"{outcome.error}; {note}" if outcome.error else note)


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


def registered_symbols(url: URL) -> list[str]:
    """Active symbols of raw.symbols (the universe when none is configured)."""
    with transaction(url) as cur:
        cur.execute("select symbol from raw.symbols where active order by symbol")
        return [row[0] for row in cur.fetchall()]


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


QUARANTINE_SQL = """
insert into raw.rejected_bars as r (
    source, load_run_id, last_seen_run_id, source_uri, source_line,
    symbol, trade_date, open, high, low, close, volume, reason, fingerprint
) values (
    %(source)s, %(run_id)s, %(run_id)s, %(uri)s, null,
    %(symbol)s, %(date)s, %(open)s, %(high)s, %(low)s, %(close)s, %(volume)s, %(reason)s,
    md5(concat_ws(chr(31), %(symbol)s, %(date)s, %(open)s, %(high)s, %(low)s, %(close)s,
                  %(volume)s, %(reason)s))
)
on conflict (source, fingerprint) do update
    set last_seen_run_id = excluded.last_seen_run_id, last_seen_at = now()
"""


def quarantine_rows(
    cur: psycopg2.extensions.cursor,
    rows: Iterable[tuple[Row, str]],
    *,
    load_run_id: uuid.UUID,
    source_uri: str,
) -> int:
    """Keep bars that fail a Polygon-specific check in raw.rejected_bars (as received, with
    the reason; idempotent like the file quarantine)."""
    n = 0
    for row, reason in rows:
        text = ["" if v is None else str(v) for v in row]
        cur.execute(
            QUARANTINE_SQL,
            {
                "source": SOURCE,
                "run_id": str(load_run_id),
                "uri": source_uri,
                "symbol": text[0],
                "date": text[1],
                "open": text[2],
                "high": text[3],
                "low": text[4],
                "close": text[5],
                "volume": text[6],
                "reason": reason,
            },
        )
        n += 1
    return n
