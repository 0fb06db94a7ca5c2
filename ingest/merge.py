"""Bars staged in `_incoming` -> checked, quarantined, upserted into raw.daily_bars.

Every bar of every source lands here: the file source COPYs a file's text into `_incoming`,
vendors their answers (`stage_rows`). One statement types and checks every row with the rules
of `ingest.checks` into `_classified`; rows that fail go to the quarantine (one row per
distinct bad line, with how often it occurred: `ingest.quarantine`), the rest are upserted - a
row whose values did not change is not touched, a restated one is updated. Returns per-symbol
counts that add up. Runs inside the caller's transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import psycopg2.errors
import psycopg2.extensions

from ingest import checks
from ingest.outcomes import Counts, Outcome, Unit, quarantine_note
from ingest.quarantine import quarantine_bars

CANONICAL = ("symbol", "date", "open", "high", "low", "close", "volume")
NUMBERS = ("open", "high", "low", "close", "volume")
OPTIONAL = ("dividend", "split")  # corporate-action columns a file may have (ingest.files)

# --- classification -------------------------------------------------------------------------


def _classify_sql(safe: bool) -> str:
    """`safe`: every value is validated with pg_input_is_valid (a bad value becomes a reason,
    slower); else plain casts (a bad value raises, and the caller retries safely). The typed
    values and the reason are computed once per row (`offset 0` fences each subquery); the reason
    text is built only for rows that fail, and only they keep their text as received (for
    the quarantine)."""
    typed = ",\n        ".join(
        [
            f"{checks.sql_typed_symbol('s.symbol')} as symbol",
            f"{checks.sql_typed_date('s.date', safe)} as trade_date",
            *(f"{checks.sql_typed_number(f's.{n}', safe)} as {n}" for n in NUMBERS),
        ]
    )
    raw = ", ".join(f"s.{c} as {c}_raw" for c in CANONICAL)
    reason = (
        f"case when {checks.sql_valid_bar('t')} and coalesce(t._problem, '') = '' then null "
        f"else coalesce(nullif(t._problem, ''), {checks.sql_bar_problems('t', 't', '_raw')}) end"
    )
    kept = ", ".join(
        f"case when r.reason is not null then r.{c}_raw end as {c}_raw" for c in CANONICAL
    )
    return f"""
create temporary table _classified on commit drop as
select
    r._line, r.symbol, r.trade_date, r.open, r.high, r.low, r.close, r.volume, r.reason, {kept}
from (
    select t.*, {reason} as reason
    from (
        select
            s._line, s._problem, {raw},
            {typed}
        from _incoming as s
        offset 0
    ) as t
    offset 0
) as r
"""


CLASSIFY_FAST = _classify_sql(safe=False)
CLASSIFY_SAFE = _classify_sql(safe=True)

# Several rows for one symbol and date: all are quarantined when they disagree; of identical
# copies the first (by line) lands and the others are quarantined. (min/max per column tell
# whether the copies disagree without sorting them.)
MARK_REPEATS_SQL = """
with keys as (
    select symbol, trade_date, min(_line) as first_line,
           (min(open), min(high), min(low), min(close), min(volume))
           is distinct from (max(open), max(high), max(low), max(close), max(volume))
           as conflicting
    from _classified where reason is null
    group by symbol, trade_date having count(*) > 1
)
update _classified as c
set reason = case when k.conflicting
                  then 'conflicting duplicate of symbol and date within the file'
                  else 'repeated row within the file (first copy landed)' end,
    symbol_raw = i.symbol, date_raw = i.date, open_raw = i.open, high_raw = i.high,
    low_raw = i.low, close_raw = i.close, volume_raw = i.volume
from keys as k, _incoming as i
where c.reason is null and c.symbol = k.symbol and c.trade_date = k.trade_date
  and (k.conflicting or c._line <> k.first_line) and i._line = c._line
"""

UPSERT_SQL = """
with landed as (
    insert into raw.daily_bars as b (
        source, symbol, trade_date, open, high, low, close, volume, load_run_id
    )
    select %(source)s, c.symbol, c.trade_date, c.open, c.high, c.low, c.close, c.volume,
           %(run_id)s
    from _classified as c
    where c.reason is null
    on conflict (source, symbol, trade_date) do update
        set open = excluded.open, high = excluded.high, low = excluded.low,
            close = excluded.close, volume = excluded.volume,
            loaded_at = now(), load_run_id = excluded.load_run_id
        where (b.open, b.high, b.low, b.close, b.volume)
              is distinct from
              (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume)
    returning b.symbol, (b.xmax = 0) as inserted
)
select symbol, count(*) filter (where inserted), count(*) filter (where not inserted)
from landed group by symbol
"""

# Per typed symbol (symbols that are not valid are put together by the caller): the window and
# count of the rows that pass, the count and first lines of those that do not, and whether a
# key came more than once (one hash aggregate over the keys tells both).
SUMMARY_SQL = """
with keys as (
    select symbol, trade_date, count(*) as copies
    from _classified where reason is null
    group by symbol, trade_date
),
bad as (
    select symbol, count(*) as n, (array_agg(_line order by _line))[1:5] as lines
    from _classified where reason is not null
    group by symbol
),
parts as (
    select symbol, min(trade_date) as lo, max(trade_date) as hi, sum(copies) as n,
           0 as bad, null::bigint[] as lines, max(copies) > 1 as repeats
    from keys group by symbol
    union all
    select symbol, null, null, n, n, lines, false from bad
)
select symbol, min(lo), max(hi), sum(n)::bigint, sum(bad)::bigint, max(lines), bool_or(repeats)
from parts group by symbol
"""


@dataclass(frozen=True)
class SymbolCounts:
    """What one landing did for one symbol: its window, counts and first quarantined lines."""

    symbol: str
    window_start: date | None
    window_end: date | None
    counts: Counts
    rejected_lines: tuple[int, ...] = ()


def create_incoming(
    cur: psycopg2.extensions.cursor, columns: Sequence[str], symbol: str | None = None
) -> None:
    """The staging table: one text column per file column (and the optional ones), the line,
    a problem found while reading; `symbol` fills the symbol of files without such a column."""
    cols = [f'"{c}" text' for c in columns]
    if "symbol" not in columns:
        given = psycopg2.extensions.QuotedString(symbol or "").getquoted().decode()
        cols.append(f"symbol text default {given}")
    cols += [f"{c} text" for c in OPTIONAL if c not in columns]
    cur.execute(
        "create temporary table _incoming ("
        " _line bigint generated by default as identity (start with 2),"
        f" {', '.join(cols)}, _problem text) on commit drop"
    )


def copy_incoming(
    cur: psycopg2.extensions.cursor, columns: Sequence[str], stream: io.RawIOBase, header: bool
) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    cur.copy_expert(
        f"copy _incoming ({names}) from stdin with (format csv, header {str(header).lower()})",
        stream,
        size=1 << 16,
    )


def stage_rows(
    cur: psycopg2.extensions.cursor,
    rows: Iterable[Sequence[object]],
    rejects: Iterable[tuple[Sequence[object], str]] = (),
) -> None:
    """Stage vendor bars (CANONICAL order, None = missing) and bars already found bad by the
    vendor's own checks (`rejects`: (row, reason)) - the latter are quarantined as they are."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row, problem in [*((r, "") for r in rows), *rejects]:
        writer.writerow([*("" if v is None else clean_text(str(v))[0] for v in row), problem])
    create_incoming(cur, CANONICAL)
    copy_incoming(cur, [*CANONICAL, "_problem"], io.BytesIO(buf.getvalue().encode()), False)


def clean_text(field: str) -> tuple[str, bool]:
    """A field as PostgreSQL text (bytes that were not UTF-8 as \\x escapes, NUL as \\x00)."""
    bad = False
    try:
        field.encode("utf-8")
    except UnicodeEncodeError:
        field = field.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        bad = True
    if "\x00" in field:
        field, bad = field.replace("\x00", "\\x00"), True
    return field, bad


def classify(cur: psycopg2.extensions.cursor) -> None:
    """Type and check every staged row into `_classified` (with `reason` for the bad ones)."""
    cur.execute("savepoint fast_casts")
    try:
        cur.execute(CLASSIFY_FAST)
    except (psycopg2.DataError, psycopg2.errors.InvalidDatetimeFormat):
        cur.execute("rollback to savepoint fast_casts")
        cur.execute(CLASSIFY_SAFE)
    else:
        cur.execute("release savepoint fast_casts")


def merge(
    cur: psycopg2.extensions.cursor, *, source: str, source_uri: str, load_run_id: object
) -> list[SymbolCounts]:
    """Classify `_incoming`, quarantine the bad rows, upsert the rest; per-symbol counts (rows
    without a valid symbol together, as `checks.UNSET_SYMBOL`)."""
    classify(cur)
    cur.execute(SUMMARY_SQL)
    summary = cur.fetchall()
    if any(repeats for *_, repeats in summary):
        cur.execute(MARK_REPEATS_SQL)
        cur.execute(SUMMARY_SQL)
        summary = cur.fetchall()
    if any(r[4] for r in summary):
        quarantine_bars(cur, source=source, source_uri=source_uri, load_run_id=load_run_id)
    cur.execute(UPSERT_SQL, {"source": source, "run_id": str(load_run_id)})
    changed = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
    groups: dict[str, list[tuple]] = {}
    for row in summary:
        valid = row[0] is not None and checks.symbol_problem(row[0]) is None
        groups.setdefault(row[0] if valid else checks.UNSET_SYMBOL, []).append(row)
    found = []
    for symbol, rows in sorted(groups.items()):
        received = sum(r[3] for r in rows)
        rejected = sum(r[4] for r in rows)
        inserted, updated = changed.get(symbol, (0, 0))
        unchanged = received - rejected - inserted - updated
        starts = [r[1] for r in rows if r[1] is not None]
        ends = [r[2] for r in rows if r[2] is not None]
        lines = sorted(line for r in rows for line in r[5] or ())[:5]
        found.append(
            SymbolCounts(
                symbol,
                min(starts, default=None),
                max(ends, default=None),
                Counts(received, inserted, updated, unchanged, rejected),
                tuple(lines),
            )
        )
    return found


def drop_staging(cur: psycopg2.extensions.cursor) -> None:
    cur.execute("drop table if exists _classified; drop table if exists _incoming")


def symbol_outcome(unit: Unit, found: SymbolCounts) -> Outcome:
    """One symbol's part of a landing, as its own raw.load_runs row."""
    counts = found.counts
    note = quarantine_note(
        counts.rejected, "raw.rejected_bars", found.rejected_lines, unit.source_uri or ""
    )
    return replace(
        unit, symbol=found.symbol, window_start=found.window_start, window_end=found.window_end
    ).outcome(counts=counts, notes=(note,) if counts.rejected else ())
