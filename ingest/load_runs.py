"""The record of every load in raw.load_runs: one row per unit (or per symbol of a unit about
many symbols), one writer.

`write_outcomes` is the only statement that writes the table; `ingest.units` calls it in the
transaction that landed the unit's rows (so the record and the rows commit or vanish
together), or on its own for a unit that failed. A second write of the same
(load_run_id, source, symbol) replaces the first: the last word on a unit is its record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import psycopg2.extensions
from psycopg2.extras import execute_batch

from ingest.outcomes import Outcome
from ingest.redact import scrub

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
    rows_received = excluded.rows_received, rows_inserted = excluded.rows_inserted,
    rows_updated = excluded.rows_updated, rows_unchanged = excluded.rows_unchanged,
    rows_rejected = excluded.rows_rejected, status = excluded.status, error = excluded.error,
    source_uri = excluded.source_uri, finished_at = now()
"""


def write_outcomes(
    cur: psycopg2.extensions.cursor,
    outcomes: Iterable[Outcome],
    *,
    started_at: datetime,
    flow_run_id: str | None,
) -> None:
    """The one writer of raw.load_runs (errors scrubbed of keys, cut to 4000 characters); the
    rows of a unit go in one round trip."""
    rows = []
    for outcome in outcomes:
        counts = outcome.counts
        error = scrub(outcome.error) if outcome.error else None
        rows.append(
            {
                "load_run_id": str(outcome.load_run_id),
                "source": outcome.source,
                "symbol": outcome.symbol,
                "window_start": outcome.window_start,
                "window_end": outcome.window_end,
                "received": counts.received,
                "inserted": counts.inserted,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "rejected": counts.rejected,
                "status": outcome.status,
                "error": error[:ERROR_LIMIT] if error else None,
                "source_uri": outcome.source_uri,
                "flow_run_id": flow_run_id,
                "started_at": started_at,
            }
        )
    execute_batch(cur, INSERT_SQL, rows, page_size=1000)
