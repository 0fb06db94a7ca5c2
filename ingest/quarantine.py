"""The quarantine: every record that failed its checks, kept as received with the reason.

Bars from files and vendors go to raw.rejected_bars (text columns, the file's line); every other
kind of record (intraday bars, corporate actions, company datasets) to raw.rejected_records as a
JSON payload. Both are idempotent: a rerun of the same input adds no row (it updates
`last_seen_run_id`), while repeats of one bad row within one input are each kept - the
fingerprint carries the occurrence number of a repeat.
"""

from __future__ import annotations

import json
import uuid

import psycopg2.extensions
from psycopg2.extras import Json

# From the file source's `_classified` table (ingest.files): one statement for the whole file.
QUARANTINE_BARS_SQL = """
insert into raw.rejected_bars as r (
    source, load_run_id, last_seen_run_id, source_uri, source_line,
    symbol, trade_date, open, high, low, close, volume, reason, fingerprint
)
select
    %(source)s, %(run_id)s, %(run_id)s, %(uri)s, f._line,
    f.symbol_raw, f.date_raw, f.open_raw, f.high_raw, f.low_raw, f.close_raw, f.volume_raw,
    f.reason,
    case when f.occurrence = 1 then f.base else f.base || ':' || f.occurrence end
from (
    select c.*, b.base, row_number() over (partition by b.base order by c._line) as occurrence
    from _classified as c
    cross join lateral (
        select md5(concat_ws(chr(31), c.symbol_raw, c.date_raw, c.open_raw, c.high_raw,
                             c.low_raw, c.close_raw, c.volume_raw, c.reason)) as base
    ) as b
    where c.reason is not null
) as f
on conflict (source, fingerprint) do update
    set last_seen_run_id = excluded.last_seen_run_id, last_seen_at = now()
"""

QUARANTINE_RECORD_SQL = """
insert into raw.rejected_records as r (
    source, record_kind, symbol, payload, reason, fingerprint, load_run_id, last_seen_run_id
) values (%s, %s, %s, %s, %s, md5(%s), %s, %s)
on conflict (source, record_kind, fingerprint) do update
    set last_seen_run_id = excluded.last_seen_run_id, last_seen_at = now()
"""


def quarantine_bars(
    cur: psycopg2.extensions.cursor, *, source: str, source_uri: str, load_run_id: uuid.UUID
) -> None:
    """Quarantine the rows of `_classified` that have a reason (the file source)."""
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
    occurrence: int = 1,
) -> None:
    """Keep a record that failed its checks, as received, with the reason (idempotent).

    `occurrence` numbers identical records within one input (1, 2, ...) so repeats are all kept.
    """
    text = json.dumps(payload, sort_keys=True, default=str)
    key = text + reason + (f":{occurrence}" if occurrence > 1 else "")
    cur.execute(
        QUARANTINE_RECORD_SQL,
        (
            source,
            record_kind,
            symbol,
            Json(json.loads(text)),
            reason,
            key,
            str(load_run_id),
            str(load_run_id),
        ),
    )
