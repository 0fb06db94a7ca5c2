"""The record of every load in raw.load_runs: one row per symbol per run, one writer.

Every source describes what a unit of work did as a `LoadRun` and writes it with `write` (in
the transaction that landed its rows, so the record and the rows commit or vanish together).
A second write of the same (load_run_id, source, symbol) adds its counts to the first: a unit
landed in parts (Yahoo's daily + intraday + actions) keeps one row whose counts add up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import psycopg2.extensions

from ingest.outcomes import FileResult

FILE_LEVEL = "*"  # the symbol of a load-run row about a whole file that could not be read
ERROR_LIMIT = 4000

INSERT_SQL = """
insert into raw.load_runs (
    load_run_id, source, symbol, window_start, window_end, rows_received, rows_inserted,
    rows_updated, rows_unchanged, rows_rejected, status, error, source_uri, flow_run_id,
    started_at, finished_at
) values (
    %(load_run_id)s, %(source)s, %(symbol)s, %(window_start)s, %(window_end)s, %(received)s,
    %(inserted)s, %(updated)s, %(unchanged)s, %(rejected)s, %(status)s, %(error)s,
    %(source_uri)s, %(flow_run_id)s, %(started_at)s, now()
)
on conflict (load_run_id, source, symbol) do update set
    window_start = excluded.window_start, window_end = excluded.window_end,
    rows_received = raw.load_runs.rows_received + excluded.rows_received,
    rows_inserted = raw.load_runs.rows_inserted + excluded.rows_inserted,
    rows_updated = raw.load_runs.rows_updated + excluded.rows_updated,
    rows_unchanged = raw.load_runs.rows_unchanged + excluded.rows_unchanged,
    rows_rejected = raw.load_runs.rows_rejected + excluded.rows_rejected,
    status = excluded.status, error = excluded.error, finished_at = now()
"""


@dataclass(frozen=True)
class LoadRun:
    """One raw.load_runs row: what one unit of work (a file's symbol, a vendor window) did."""

    load_run_id: uuid.UUID
    source: str
    symbol: str
    status: str  # success | partial | failed
    started_at: datetime
    window_start: date | None = None
    window_end: date | None = None
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error: str | None = None
    source_uri: str | None = None
    flow_run_id: str | None = None


COUNTED = ("symbol", "status", "window_start", "window_end", "received", "inserted", "updated")
COUNTED += ("unchanged", "rejected")


def of(unit: object, **fields: object) -> LoadRun:
    """The LoadRun of a unit that carries its symbol, status, window and counts (a
    SymbolResult, a Polygon UnitOutcome...); `fields` gives the rest."""
    return LoadRun(**{name: getattr(unit, name) for name in COUNTED}, **fields)


def write(cur: psycopg2.extensions.cursor, run: LoadRun) -> None:
    """The one writer of raw.load_runs (errors cut to 4000 characters; vendor callers pass
    errors already scrubbed of keys)."""
    cur.execute(
        INSERT_SQL,
        {
            "load_run_id": str(run.load_run_id),
            "source": run.source,
            "symbol": run.symbol,
            "window_start": run.window_start,
            "window_end": run.window_end,
            "received": run.received,
            "inserted": run.inserted,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "rejected": run.rejected,
            "status": run.status,
            "error": run.error[:ERROR_LIMIT] if run.error else None,
            "source_uri": run.source_uri,
            "flow_run_id": run.flow_run_id,
            "started_at": run.started_at,
        },
    )


def quarantine_note(rejected: int, lines: tuple[int, ...], uri: str) -> str:
    """`3 row(s) quarantined in raw.rejected_bars (bars.csv lines 5, 9, 12)`."""
    where = f" ({uri} line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}"
    where += ", ...)" if rejected > len(lines) else ")"
    return f"{rejected} row(s) quarantined in raw.rejected_bars" + (where if lines else "")


def record_file(
    cur: psycopg2.extensions.cursor,
    result: FileResult,
    *,
    source: str,
    started_at: datetime,
    flow_run_id: str | None,
) -> None:
    """One row per symbol of a landed file (or vendor answer)."""
    for s in result.symbols:
        write(
            cur,
            of(
                s,
                load_run_id=result.load_run_id,
                source=source,
                started_at=started_at,
                error=quarantine_note(s.rejected, s.rejected_lines, result.path)
                if s.rejected
                else None,
                source_uri=result.path,
                flow_run_id=flow_run_id,
            ),
        )


def record_failure(
    cur: psycopg2.extensions.cursor,
    *,
    load_run_id: uuid.UUID,
    source: str,
    source_uri: str,
    error: str,
    started_at: datetime,
    flow_run_id: str | None,
) -> None:
    """The row of a whole input that could not be landed (symbol `*`)."""
    write(
        cur,
        LoadRun(
            load_run_id=load_run_id,
            source=source,
            symbol=FILE_LEVEL,
            status="failed",
            started_at=started_at,
            error=error,
            source_uri=source_uri,
            flow_run_id=flow_run_id,
        ),
    )
