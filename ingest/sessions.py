"""Land the exchange trading calendar (`exchange_calendars`) into raw.trading_sessions.

The calendar covers from `start` (default: the earlier of the configured start and the oldest
landed bar, so every symbol's range is covered; `get_calendar` alone covers only the last 20
years) to the calendar's own end (about a year ahead). Idempotent: unchanged sessions are left
alone, changed ones updated, sessions the calendar no longer has inside the range are deleted,
and every refresh is a row of raw.load_runs (source `exchange_calendars`).
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime

import exchange_calendars
import pandas as pd
import psycopg2.extras
from sqlalchemy.engine import URL

from ingest.db import transaction
from ingest.load_runs import write_outcomes
from ingest.outcomes import Counts, Unit

SOURCE = "exchange_calendars"
DEFAULT_EXCHANGE = "XNYS"


@dataclass(frozen=True)
class SessionsResult:
    exchange: str
    first_session: date
    last_session: date
    received: int
    inserted: int
    updated: int
    deleted: int
    load_run_id: uuid.UUID


def calendar_sessions(exchange: str, start: date) -> pd.DataFrame:
    """`exchange` sessions from `start`: session_date, open_at, close_at (UTC), is_early_close."""
    with warnings.catch_warnings():  # exchange_calendars 4.13 itself trips pandas 3.1's warning
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        calendar = exchange_calendars.get_calendar(exchange, start=start.isoformat())
    schedule = calendar.schedule
    early = set(calendar.early_closes)
    return pd.DataFrame(
        {
            "session_date": [d.date() for d in schedule.index],
            "open_at": [t.to_pydatetime() for t in schedule["open"]],
            "close_at": [t.to_pydatetime() for t in schedule["close"]],
            "is_early_close": [d in early for d in schedule.index],
        }
    )


def calendar_start(url: URL, configured: date) -> date:
    """The earlier of `configured` and the oldest landed daily bar."""
    with transaction(url) as cur:
        cur.execute("select min(trade_date) from raw.daily_bars")
        oldest = cur.fetchone()[0]
    return min(configured, oldest) if oldest else configured


UPSERT_SQL = """
insert into raw.trading_sessions as t
    (exchange, session_date, open_at, close_at, is_early_close, load_run_id)
values %s
on conflict (exchange, session_date) do update set
    open_at = excluded.open_at, close_at = excluded.close_at,
    is_early_close = excluded.is_early_close, load_run_id = excluded.load_run_id,
    loaded_at = now()
where (t.open_at, t.close_at, t.is_early_close)
    is distinct from (excluded.open_at, excluded.close_at, excluded.is_early_close)
returning (xmax = 0) as inserted
"""


def land_sessions(
    url: URL,
    *,
    start: date,
    exchange: str = DEFAULT_EXCHANGE,
    flow_run_id: str | None = None,
) -> SessionsResult:
    """Bring raw.trading_sessions in line with the calendar from `start` on, in one transaction."""
    started_at = datetime.now(UTC)
    load_run_id = uuid.uuid4()
    sessions = calendar_sessions(exchange, start)
    first, last = sessions["session_date"].min(), sessions["session_date"].max()
    rows = [
        (exchange, r.session_date, r.open_at, r.close_at, bool(r.is_early_close), str(load_run_id))
        for r in sessions.itertuples(index=False)
    ]
    with transaction(url) as cur:
        written = psycopg2.extras.execute_values(cur, UPSERT_SQL, rows, page_size=5000, fetch=True)
        inserted = sum(1 for (was_insert,) in written if was_insert)
        cur.execute(
            "delete from raw.trading_sessions where exchange = %s"
            " and session_date between %s and %s and not (session_date = any(%s))",
            (exchange, first, last, list(sessions["session_date"])),
        )
        deleted = cur.rowcount
        result = SessionsResult(
            exchange,
            first,
            last,
            len(rows),
            inserted,
            len(written) - inserted,
            deleted,
            load_run_id,
        )
        unit = Unit(
            SOURCE, "calendar", exchange, f"exchange_calendars:{exchange}", first, last, load_run_id
        )
        unchanged = result.received - result.inserted - result.updated
        recorded = unit.outcome(
            counts=Counts(result.received, result.inserted, result.updated, unchanged),
            notes=(f"{deleted} session(s) no longer in the calendar deleted",) if deleted else (),
        )
        write_outcomes(cur, [recorded], started_at=started_at, flow_run_id=flow_run_id)
    return result
