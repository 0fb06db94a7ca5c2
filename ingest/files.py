"""The file source: canonical CSV or Parquet bars landed with COPY and merged into raw.daily_bars.

A file's columns are `symbol,date,open,high,low,close,volume` in any order and case (a few
common aliases are accepted, see `COLUMN_ALIASES`). The file is copied as text into a
temporary table; one SQL statement classifies every row, rows that fail a check go to
`raw.rejected_bars` with the reason, the rest are upserted. Nothing is silently dropped.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg2.errors
import psycopg2.extensions

CANONICAL = ("symbol", "date", "open", "high", "low", "close", "volume")

COLUMN_ALIASES: dict[str, str] = {
    "symbol": "symbol",
    "ticker": "symbol",
    "name": "symbol",
    "date": "date",
    "trade_date": "date",
    "timestamp": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
}


class FileFormatError(ValueError):
    """The file cannot be landed at all (unknown format, missing columns, unreadable)."""


@dataclass(frozen=True)
class SymbolResult:
    symbol: str
    window_start: date | None
    window_end: date | None
    received: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int

    @property
    def status(self) -> str:
        if self.rejected == 0:
            return "success"
        return "failed" if self.rejected == self.received else "partial"


class SymbolTotals:
    """Totals over the per-symbol results of a landing (a `symbols` list of SymbolResult)."""

    symbols: list[SymbolResult]

    @property
    def received(self) -> int:
        return sum(s.received for s in self.symbols)

    @property
    def inserted(self) -> int:
        return sum(s.inserted for s in self.symbols)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.symbols)

    @property
    def unchanged(self) -> int:
        return sum(s.unchanged for s in self.symbols)


@dataclass(frozen=True)
class FileResult(SymbolTotals):
    path: str
    load_run_id: uuid.UUID
    symbols: list[SymbolResult] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.symbols)


def map_header(header: Iterable[str]) -> list[str]:
    """Canonical name for each column of a file's header (`_extra_N` for columns we ignore).

    Raises FileFormatError naming what is missing or doubled.
    """
    mapped: list[str] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(header):
        key = raw.strip().strip('"').lower()
        canonical = COLUMN_ALIASES.get(key)
        if canonical is None or canonical in seen:
            if canonical in seen and key in CANONICAL and seen[canonical] not in CANONICAL:
                # an exact canonical name wins over an alias seen earlier
                mapped[mapped.index(canonical)] = f"_extra_{mapped.index(canonical)}"
            else:
                mapped.append(f"_extra_{i}")
                continue
        seen[canonical] = key
        mapped.append(canonical)
    missing = [c for c in CANONICAL if c not in mapped]
    if missing:
        raise FileFormatError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(header)} "
            f"(expected {','.join(CANONICAL)}, any order and case)"
        )
    return mapped


def file_kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-1:] == [".parquet"] or suffixes[-1:] == [".pq"]:
        return "parquet"
    if suffixes[-1:] in ([".csv"], [".txt"]) or suffixes[-2:-1] == [".csv"]:
        return "csv"
    raise FileFormatError(f"{path}: unknown file type (expected .csv, .csv.gz or .parquet)")


def _csv_stream(path: Path) -> tuple[list[str], io.BufferedIOBase]:
    """The header and a binary stream of the whole file (header included) for COPY."""
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as fh:
        try:
            header = next(csv.reader(fh))
        except StopIteration:
            raise FileFormatError(f"{path}: empty file") from None
    return header, opener(path, "rb")


def _parquet_stream(path: Path) -> tuple[list[str], io.BufferedIOBase]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(f"{path}: not a readable Parquet file: {exc}") from exc
    table = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    buf.seek(0)
    return list(table.column_names), buf


CLASSIFY_SQL = r"""
create temporary table _classified on commit drop as
with typed as materialized (
    select
        s._line,
        s.symbol as symbol_raw, s.date as date_raw, s.open as open_raw, s.high as high_raw,
        s.low as low_raw, s.close as close_raw, s.volume as volume_raw,
        nullif(upper(btrim(s.symbol)), '') as symbol,
        case when pg_input_is_valid(btrim(s.date), 'date') then btrim(s.date)::date end
            as trade_date,
        case when pg_input_is_valid(btrim(s.open), 'numeric') then btrim(s.open)::numeric end
            as open,
        case when pg_input_is_valid(btrim(s.high), 'numeric') then btrim(s.high)::numeric end
            as high,
        case when pg_input_is_valid(btrim(s.low), 'numeric') then btrim(s.low)::numeric end
            as low,
        case when pg_input_is_valid(btrim(s.close), 'numeric') then btrim(s.close)::numeric end
            as close,
        case when pg_input_is_valid(btrim(s.volume), 'numeric') then btrim(s.volume)::numeric end
            as volume
    from _incoming as s
),
checked as materialized (
    select
        t.*,
        coalesce(parsing.problem, nullif(concat_ws('; ',
            case when t.high < t.low then 'high < low' end,
            case when t.open not between t.low and t.high then 'open outside [low, high]' end,
            case when t.close not between t.low and t.high then 'close outside [low, high]' end
        ), '')) as problem
    from typed as t
    cross join lateral (
        select nullif(concat_ws('; ',
            case when t.symbol is null then 'missing symbol' end,
            case when nullif(btrim(t.date_raw), '') is null then 'missing date'
                 when t.trade_date is null then 'unparseable date' end,
            case when nullif(btrim(t.open_raw), '') is null then 'missing open'
                 when t.open is null or t.open in ('NaN', 'Infinity', '-Infinity')
                     then 'unparseable open'
                 when t.open <= 0 then 'non-positive open' end,
            case when nullif(btrim(t.high_raw), '') is null then 'missing high'
                 when t.high is null or t.high in ('NaN', 'Infinity', '-Infinity')
                     then 'unparseable high'
                 when t.high <= 0 then 'non-positive high' end,
            case when nullif(btrim(t.low_raw), '') is null then 'missing low'
                 when t.low is null or t.low in ('NaN', 'Infinity', '-Infinity')
                     then 'unparseable low'
                 when t.low <= 0 then 'non-positive low' end,
            case when nullif(btrim(t.close_raw), '') is null then 'missing close'
                 when t.close is null or t.close in ('NaN', 'Infinity', '-Infinity')
                     then 'unparseable close'
                 when t.close <= 0 then 'non-positive close' end,
            case when nullif(btrim(t.volume_raw), '') is null then 'missing volume'
                 when t.volume is null or t.volume in ('NaN', 'Infinity', '-Infinity')
                     then 'unparseable volume'
                 when t.volume < 0 then 'negative volume' end
        ), '') as problem
    ) as parsing
),
repeated_keys as (
    -- keys landed more than once in this file (a hash aggregate; usually none)
    select symbol, trade_date, min(_line) as first_line
    from checked
    where problem is null
    group by symbol, trade_date
    having count(*) > 1
),
repeated_versions as (
    select r.symbol, r.trade_date, r.first_line,
           count(distinct (c.open, c.high, c.low, c.close, c.volume)) as versions
    from repeated_keys as r
    inner join checked as c
        on c.symbol = r.symbol and c.trade_date = r.trade_date and c.problem is null
    group by r.symbol, r.trade_date, r.first_line
)
select
    c.*,
    case
        when c.problem is not null then c.problem
        when r.versions > 1 then 'conflicting duplicate of symbol and date within the file'
        when r.versions = 1 and c._line <> r.first_line
            then 'repeated row within the file (first copy landed)'
    end as reason
from checked as c
left join repeated_versions as r
    on r.symbol = c.symbol and r.trade_date = c.trade_date and c.problem is null
"""

# The same classification when every value casts: plain casts instead of pg_input_is_valid.
FAST_CLASSIFY_SQL = CLASSIFY_SQL
for _column, _type in (
    ("date", "date"),
    ("open", "numeric"),
    ("high", "numeric"),
    ("low", "numeric"),
    ("close", "numeric"),
    ("volume", "numeric"),
):
    FAST_CLASSIFY_SQL = FAST_CLASSIFY_SQL.replace(
        f"case when pg_input_is_valid(btrim(s.{_column}), '{_type}') "
        f"then btrim(s.{_column})::{_type} end",
        f"nullif(btrim(s.{_column}), '')::{_type}",
    )
assert "pg_input_is_valid" not in FAST_CLASSIFY_SQL

QUARANTINE_SQL = """
insert into raw.rejected_bars as r (
    source, load_run_id, last_seen_run_id, source_uri, source_line,
    symbol, trade_date, open, high, low, close, volume, reason, fingerprint
)
select
    %(source)s, %(run_id)s, %(run_id)s, %(uri)s, c._line,
    c.symbol_raw, c.date_raw, c.open_raw, c.high_raw, c.low_raw, c.close_raw, c.volume_raw,
    c.reason,
    md5(concat_ws(chr(31), c.symbol_raw, c.date_raw, c.open_raw, c.high_raw, c.low_raw,
                  c.close_raw, c.volume_raw, c.reason))
from _classified as c
where c.reason is not null
on conflict (source, fingerprint) do update
    set last_seen_run_id = excluded.last_seen_run_id, last_seen_at = now()
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

SUMMARY_SQL = """
select coalesce(c.symbol, '(unparseable symbol)'),
       min(c.trade_date) filter (where c.reason is null),
       max(c.trade_date) filter (where c.reason is null),
       count(*),
       count(*) filter (where c.reason is not null)
from _classified as c
group by 1 order by 1
"""


def _copy_incoming(
    cur: psycopg2.extensions.cursor, columns: list[str], stream: io.BufferedIOBase, what: str
) -> None:
    cols_sql = ", ".join(f'"{c}" text' for c in columns)
    cur.execute(f"create temporary table _incoming (_line bigserial, {cols_sql}) on commit drop")
    try:
        with stream:
            cur.copy_expert(
                f"copy _incoming ({', '.join(chr(34) + c + chr(34) for c in columns)}) "
                "from stdin with (format csv, header true)",
                stream,
            )
    except psycopg2.DataError as exc:
        raise FileFormatError(f"{what}: malformed CSV: {exc.pgerror or exc}".strip()) from exc


def _classify(cur: psycopg2.extensions.cursor) -> None:
    """Type and check every row. Clean files take plain casts; if one fails, every value is
    validated with pg_input_is_valid instead (slower), so a bad value becomes a reason."""
    cur.execute("savepoint fast_casts")
    try:
        cur.execute(FAST_CLASSIFY_SQL)
    except (psycopg2.DataError, psycopg2.errors.InvalidDatetimeFormat):
        cur.execute("rollback to savepoint fast_casts")
        cur.execute(CLASSIFY_SQL)
    else:
        cur.execute("release savepoint fast_casts")


def _classify_and_merge(
    cur: psycopg2.extensions.cursor, *, source: str, source_uri: str, load_run_id: uuid.UUID
) -> list[SymbolResult]:
    _classify(cur)
    params = {"source": source, "run_id": str(load_run_id), "uri": source_uri}
    cur.execute(QUARANTINE_SQL, params)
    cur.execute(UPSERT_SQL, params)
    changed = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
    cur.execute(SUMMARY_SQL)
    symbols = []
    for symbol, start, end, received, rejected in cur.fetchall():
        inserted, updated = changed.get(symbol, (0, 0))
        symbols.append(
            SymbolResult(
                symbol=symbol,
                window_start=start,
                window_end=end,
                received=received,
                inserted=inserted,
                updated=updated,
                unchanged=received - rejected - inserted - updated,
                rejected=rejected,
            )
        )
    cur.execute("drop table _classified; drop table _incoming")
    return symbols


def land_file(
    cur: psycopg2.extensions.cursor,
    path: Path,
    *,
    source: str,
    load_run_id: uuid.UUID,
) -> FileResult:
    """Land one file inside the caller's transaction. Raises FileFormatError if it can't."""
    kind = file_kind(path)
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    header, stream = _csv_stream(path) if kind == "csv" else _parquet_stream(path)
    _copy_incoming(cur, map_header(header), stream, str(path))
    symbols = _classify_and_merge(cur, source=source, source_uri=str(path), load_run_id=load_run_id)
    return FileResult(path=str(path), load_run_id=load_run_id, symbols=symbols)


def land_rows(
    cur: psycopg2.extensions.cursor,
    rows: Iterable[Sequence[object]],
    *,
    source: str,
    source_uri: str,
    load_run_id: uuid.UUID,
) -> FileResult:
    """Land bars given as rows in CANONICAL order (symbol, date, open, high, low, close, volume).

    The same checks, quarantine and upsert as for files: vendor clients call this with what
    the vendor returned (None becomes missing), so nothing a vendor sends is dropped silently.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CANONICAL)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    stream = io.BytesIO(buf.getvalue().encode())
    _copy_incoming(cur, list(CANONICAL), stream, source_uri)
    symbols = _classify_and_merge(
        cur, source=source, source_uri=source_uri, load_run_id=load_run_id
    )
    return FileResult(path=source_uri, load_run_id=load_run_id, symbols=symbols)
