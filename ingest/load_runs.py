"""The record of every load in raw.load_runs: one row per symbol per run."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg2.extensions

from ingest.files import FileResult

FILE_LEVEL = "*"  # the symbol of a load-run row about a whole file that could not be read

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


def record_file(
    cur: psycopg2.extensions.cursor,
    result: FileResult,
    *,
    source: str,
    started_at: datetime,
    flow_run_id: str | None,
) -> None:
    for s in result.symbols:
        error = None
        if s.rejected:
            error = f"{s.rejected} row(s) quarantined in raw.rejected_bars"
        cur.execute(
            INSERT_SQL,
            {
                "load_run_id": str(result.load_run_id),
                "source": source,
                "symbol": s.symbol,
                "window_start": s.window_start,
                "window_end": s.window_end,
                "received": s.received,
                "inserted": s.inserted,
                "updated": s.updated,
                "unchanged": s.unchanged,
                "rejected": s.rejected,
                "status": s.status,
                "error": error,
                "source_uri": result.path,
                "flow_run_id": flow_run_id,
                "started_at": started_at,
            },
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
    cur.execute(
        INSERT_SQL,
        {
            "load_run_id": str(load_run_id),
            "source": source,
            "symbol": FILE_LEVEL,
            "window_start": None,
            "window_end": None,
            "received": 0,
            "inserted": 0,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
            "status": "failed",
            "error": error[:4000],
            "source_uri": source_uri,
            "flow_run_id": flow_run_id,
            "started_at": started_at,
        },
    )
