"""The quarantine: every record that failed its checks, kept as received with the reason.

Bars from files and vendors go to raw.rejected_bars (text columns, the file's first line of it);
every other kind of record (intraday bars, corporate actions, company datasets) to
raw.rejected_records as a JSON payload. One row per distinct bad record (its values and its
reason: the fingerprint) and source, with `occurrences` (how many times it occurred in the
latest input that had it: 1,000,000 copies of one bad line are one row, not a million), the run
that first saw it (`load_run_id`) and the last one (`last_seen_run_id`). Landing the same input
again adds no row (it updates the last sighting): the quarantine grows with what is new, not
with what is repeated.
"""

from __future__ import annotations

import json
import uuid

import psycopg2.extensions
from psycopg2.extras import Json

# The rows of `_judged` (ingest.merge) that failed, with their text as received from
# `_incoming`: one statement for a whole file or vendor answer. Joined on the row's ctid:
# without statistics on the temporary tables the planner joins all of `_incoming` either way,
# and a hash join on ctid beat the merge join on `_line` (600,000 rows, 4 failed: 0.30 s
# against 0.62 s, single runs on a loaded machine). An ANALYZE of `_classified` turns it into
# a TID scan per failed row (0.27 s against 0.55 s then) but cost more when many rows fail
# (300,000: 9.2 s against 7.3 s), so it is not done.
QUARANTINE_BARS_SQL = """
insert into raw.rejected_bars as r (
    source, load_run_id, last_seen_run_id, source_uri, source_line,
    symbol, trade_date, open, high, low, close, volume, reason, fingerprint, occurrences
)
select
    %(source)s, %(run_id)s, %(run_id)s, %(uri)s, d.first_line,
    d.symbol_raw, d.date_raw, d.open_raw, d.high_raw, d.low_raw, d.close_raw, d.volume_raw,
    d.reason,
    md5(row(d.symbol_raw, d.date_raw, d.open_raw, d.high_raw, d.low_raw, d.close_raw,
            d.volume_raw, d.reason)::text),
    d.copies
from (
    select i.symbol as symbol_raw, i.date as date_raw, i.open as open_raw, i.high as high_raw,
           i.low as low_raw, i.close as close_raw, i.volume as volume_raw, j.reason,
           min(j._line) as first_line, count(*) as copies
    from _judged as j
    inner join _incoming as i on i.ctid = j._row  -- the row by its ctid, not by _line
    where j.reason is not null
    group by 1, 2, 3, 4, 5, 6, 7, 8
) as d
on conflict (source, fingerprint) do update
    set last_seen_run_id = excluded.last_seen_run_id, last_seen_at = now(),
        occurrences = excluded.occurrences
"""

QUARANTINE_RECORD_SQL = """
insert into raw.rejected_records as r (
    source, record_kind, symbol, payload, reason, fingerprint, load_run_id, last_seen_run_id,
    occurrences
) values (
    %(source)s, %(kind)s, %(symbol)s, %(payload)s, %(reason)s,
    md5(jsonb_build_array(%(payload)s::jsonb, %(reason)s::text)::text),
    %(run_id)s, %(run_id)s, %(occurrences)s
)
on conflict (source, record_kind, fingerprint) do update
    set last_seen_run_id = excluded.last_seen_run_id, last_seen_at = now(),
        occurrences = excluded.occurrences
"""


def quarantine_bars(
    cur: psycopg2.extensions.cursor, *, source: str, source_uri: str, load_run_id: object
) -> None:
    """Quarantine the rows of `_judged` that have a reason, one row per distinct line."""
    cur.execute(
        QUARANTINE_BARS_SQL, {"source": source, "run_id": str(load_run_id), "uri": source_uri}
    )


def quarantine_record(
    cur: psycopg2.extensions.cursor,
    *,
    source: str,
    record_kind: str,
    symbol: str | None,
    payload: dict,
    reason: str,
    load_run_id: uuid.UUID,
    occurrences: int = 1,
) -> None:
    """Keep a record that failed its checks, as received, with the reason (idempotent);
    `occurrences`: how many identical copies of it the input held."""
    cur.execute(
        QUARANTINE_RECORD_SQL,
        {
            "source": source,
            "kind": record_kind,
            "symbol": symbol,
            "payload": Json(json.loads(json.dumps(payload, sort_keys=True, default=str))),
            "reason": reason,
            "run_id": str(load_run_id),
            "occurrences": occurrences,
        },
    )
