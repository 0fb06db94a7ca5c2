"""The file source: canonical CSV or Parquet bars landed with COPY and merged into raw.daily_bars.

A file's columns are `symbol,date,open,high,low,close,volume` in any order and case (a few
common aliases are accepted, see `COLUMN_ALIASES`). The file is copied as text into a
temporary table; one SQL statement classifies every row with the checks of `ingest.checks`,
rows that fail go to `raw.rejected_bars` with the reason and their line, the rest are upserted.
Nothing is silently dropped.

A clean CSV is copied as it is (fast). When PostgreSQL refuses it (a ragged line, a stray
carriage return, bytes that are not UTF-8), the file is read again line by line: each bad line
is kept for the quarantine with its problem, and the rest lands. Blank lines are not rows.
Parquet timestamps are dated by the exchange's (New York) trading day, as the vendors' bars are.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import stat
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import psycopg2.errors
import psycopg2.extensions

from ingest import checks
from ingest.outcomes import FileResult, SymbolResult, SymbolTotals
from ingest.quarantine import quarantine_bars

__all__ = [
    "CANONICAL",
    "FileFormatError",
    "FileResult",
    "SymbolResult",
    "SymbolTotals",
    "file_kind",
    "inspect_path",
    "land_file",
    "land_rows",
    "map_header",
]

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


def map_header(header: Iterable[str]) -> list[str]:
    """Canonical name for each column of a file's header (`_extra_N` for columns we ignore).

    Raises FileFormatError naming what is missing or doubled.
    """
    header = list(header)
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
            f"line 1: missing column(s) {', '.join(missing)}; found {', '.join(header)} "
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


def inspect_path(path: Path) -> str:
    """The file's kind (csv | parquet) - after making sure it is a regular file we can open
    without blocking (a FIFO would hang a reader; a directory is not a file of bars)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    if stat.S_ISDIR(mode):
        raise FileFormatError(f"{path}: is a directory, not a file: give the files inside it")
    if not stat.S_ISREG(mode):
        what = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "not a regular file"
        raise FileFormatError(f"{path}: is {what}; copy its bars into a .csv or .parquet file")
    return file_kind(path)


# --- reading --------------------------------------------------------------------------------


def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")  # noqa: SIM115


def _csv_header(path: Path) -> list[str]:
    """The header row, decoded on its own (a bad byte further down is that line's problem)."""
    with _open_binary(path) as fh:
        first = fh.readline()
    if not first.strip():
        raise FileFormatError(f"{path}: empty file (line 1 has no header)")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{path}: line 1: the header is not UTF-8 (byte {first[exc.start]:#04x} at "
            f"column {exc.start + 1}); save the file as UTF-8"
        ) from None
    return next(csv.reader([text]))


def _clean(field: str) -> tuple[str, bool]:
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


def _checked_lines(path: Path, width: int) -> Iterator[list[str]]:
    """`[line, *fields, problem]` for every non-blank line after the header, read leniently."""
    csv.field_size_limit(1 << 24)
    with io.TextIOWrapper(
        _open_binary(path), encoding="utf-8-sig", errors="surrogateescape", newline=""
    ) as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            cleaned = [_clean(f) for f in fields]
            values = [v for v, _ in cleaned]
            problems = []
            if any(bad for _, bad in cleaned):
                problems.append("line is not valid UTF-8 (bad bytes kept as \\x escapes)")
            if len(values) != width:
                problems.append(f"line has {len(values)} fields, expected {width}")
                values = values[: width - 1] + [",".join(values[width - 1 :])]
                values += [""] * (width - len(values))
            problem = "malformed line: " + "; ".join(problems) if problems else ""
            yield [str(reader.line_num), *values, problem]


def _parquet_stream(path: Path) -> tuple[list[str], io.BufferedIOBase]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(f"{path}: not a readable Parquet file: {exc}") from exc
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_timestamp(kind):
            if kind.tz is not None:  # an instant: the New York trading day it falls in
                column = pc.local_timestamp(
                    column.cast(pa.timestamp(kind.unit, checks.EXCHANGE_TIMEZONE))
                )
            column = column.cast(pa.date32())  # a naive timestamp is already a local date
        columns.append(column.cast(pa.string()))
    table = pa.table(columns, names=table.column_names)
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    buf.seek(0)
    return list(table.column_names), buf


# --- classifying ------------------------------------------------------------------------------

_SYMBOL_KEY = (
    f"case when {checks.sql_valid_symbol('c.symbol')} then c.symbol "
    f"else '{checks.UNSET_SYMBOL}' end"
)

CLASSIFY_SQL = rf"""
create temporary table _classified on commit drop as
with typed as materialized (
    select
        s._line, s._problem,
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
        coalesce(nullif(t._problem, ''), parsing.problem, nullif(concat_ws('; ',
            {checks.sql_ohlc_checks()}
        ), '')) as problem
    from typed as t
    cross join lateral (
        select nullif(concat_ws('; ',
            {checks.sql_symbol_check()},
            {checks.sql_date_check()},
            {checks.sql_number_check("open")},
            {checks.sql_number_check("high")},
            {checks.sql_number_check("low")},
            {checks.sql_number_check("close")},
            {checks.sql_number_check("volume")}
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

SUMMARY_SQL = f"""
select {_SYMBOL_KEY},
       min(c.trade_date) filter (where c.reason is null),
       max(c.trade_date) filter (where c.reason is null),
       count(*),
       count(*) filter (where c.reason is not null),
       (array_agg(c._line order by c._line) filter (where c.reason is not null))[1:5]
from _classified as c
group by 1 order by 1
"""

_COPY_LINE = re.compile(r"COPY _incoming, line (\d+)")


def _create_incoming(cur: psycopg2.extensions.cursor, columns: list[str]) -> None:
    cols_sql = ", ".join(f'"{c}" text' for c in columns)
    cur.execute(
        "create temporary table _incoming ("
        " _line bigint generated by default as identity (start with 2),"
        f" {cols_sql}, _problem text) on commit drop"
    )


def _copy(
    cur: psycopg2.extensions.cursor, columns: Sequence[str], stream: io.BufferedIOBase, header: bool
) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    with stream:
        cur.copy_expert(
            f"copy _incoming ({names}) from stdin with (format csv, header {str(header).lower()})",
            stream,
        )


def _copy_csv(cur: psycopg2.extensions.cursor, path: Path, columns: list[str]) -> None:
    """COPY the file as it is; if PostgreSQL refuses a line, copy it again line by line."""
    cur.execute("savepoint copy_as_is")
    try:
        _copy(cur, columns, _open_binary(path), header=True)
    except psycopg2.DataError:
        cur.execute("rollback to savepoint copy_as_is")
    else:
        cur.execute("release savepoint copy_as_is")
        return
    with tempfile.TemporaryFile() as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        csv.writer(text, lineterminator="\n").writerows(_checked_lines(path, len(columns)))
        text.flush()
        spool.seek(0)
        _copy(cur, ["_line", *columns, "_problem"], text.detach(), header=False)


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
    quarantine_bars(cur, source=source, source_uri=source_uri, load_run_id=load_run_id)
    cur.execute(UPSERT_SQL, {"source": source, "run_id": str(load_run_id)})
    changed = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
    cur.execute(SUMMARY_SQL)
    symbols = []
    for symbol, start, end, received, rejected, lines in cur.fetchall():
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
                rejected_lines=tuple(lines or ()),
            )
        )
    cur.execute("drop table _classified; drop table _incoming")
    return symbols


def copy_error_line(exc: BaseException) -> int | None:
    """The line of the input a COPY error points at (PostgreSQL's CONTEXT), if any."""
    match = _COPY_LINE.search(str(getattr(exc, "pgerror", None) or exc))
    return int(match.group(1)) if match else None


def land_file(
    cur: psycopg2.extensions.cursor,
    path: Path,
    *,
    source: str,
    load_run_id: uuid.UUID,
) -> FileResult:
    """Land one file inside the caller's transaction. Raises FileFormatError if it can't."""
    kind = inspect_path(path)
    if kind == "csv":
        columns = map_header_of(path, _csv_header(path))
        _create_incoming(cur, columns)
        _copy_csv(cur, path, columns)
    else:
        header, stream = _parquet_stream(path)
        columns = map_header_of(path, header)
        _create_incoming(cur, columns)
        try:
            _copy(cur, columns, stream, header=True)
        except psycopg2.DataError as exc:
            raise FileFormatError(f"{path}: unreadable Parquet values: {exc}") from exc
    cur.execute("select exists (select from _incoming)")
    if not cur.fetchone()[0]:
        raise FileFormatError(f"{path}: line 2: no data rows after the header")
    symbols = _classify_and_merge(cur, source=source, source_uri=str(path), load_run_id=load_run_id)
    return FileResult(path=str(path), load_run_id=load_run_id, symbols=symbols)


def map_header_of(path: Path, header: Sequence[str]) -> list[str]:
    try:
        return map_header(header)
    except FileFormatError as exc:
        raise FileFormatError(f"{path}: {exc}") from None


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
        writer.writerow(["" if v is None else _clean(str(v))[0] for v in row])
    stream = io.BytesIO(buf.getvalue().encode())
    _create_incoming(cur, list(CANONICAL))
    _copy(cur, CANONICAL, stream, header=True)
    symbols = _classify_and_merge(
        cur, source=source, source_uri=source_uri, load_run_id=load_run_id
    )
    return FileResult(path=source_uri, load_run_id=load_run_id, symbols=symbols)
