"""The file source: CSV or Parquet bars, read in bounded memory and landed through ingest.merge.

A file's columns are `symbol,date,open,high,low,close,volume` in any order and case (a few
common aliases are accepted, see `COLUMN_ALIASES`; other columns are ignored). A file of one
symbol without a symbol column lands with the symbol given (`symbol=`, `mdw ingest files
--symbol NVDA`). Optional `dividend_amount` / `Dividends` and `split_coefficient` /
`Stock Splits` columns (Alpha Vantage, yfinance) become corporate actions in
raw.corporate_actions: a split coefficient other than 0 and 1 is a split of `split_to =
coefficient` for `split_from = 1` on that day, a dividend amount above 0 a cash dividend.

Reading never holds more than a line in memory: a clean CSV is streamed to COPY as it is
(fast); if PostgreSQL refuses a line (a ragged line, a stray carriage return, bytes that are not
UTF-8) or a line is longer than `LINE_LIMIT`, the file is read again record by record: each bad
line is kept for the quarantine with its problem (an over-long one cut to its first bytes), and
the rest lands. Blank lines are not rows. Parquet is read in batches; its timestamps are dated
by the exchange's (New York) trading day, as the vendors' bars are.
"""

from __future__ import annotations

import csv
import gzip
import io
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

import psycopg2
import psycopg2.extensions

from ingest import checks, merge
from ingest.actions import CorporateAction, actions_note, land_actions
from ingest.merge import CANONICAL
from ingest.outcomes import FAILED, Outcome, Unit, quarantine_note

__all__ = ["CANONICAL", "FileFormatError", "file_kind", "inspect_path", "land_file", "map_header"]

LINE_LIMIT = 1 << 20  # bytes of one line (record) at most: a longer one is quarantined, cut
KEPT_OF_LONG_LINE = 256  # bytes of an over-long line kept in the quarantine
PARQUET_BATCH = 65_536  # rows per Parquet batch

COLUMN_ALIASES: dict[str, str] = {
    "symbol": "symbol",
    "ticker": "symbol",
    "name": "symbol",
    "date": "date",
    "trade_date": "date",
    "timestamp": "date",
    "datetime": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "dividend_amount": "dividend",
    "dividends": "dividend",
    "dividend": "dividend",
    "split_coefficient": "split",
    "stock splits": "split",
    "stock_splits": "split",
    "splits": "split",
}


class FileFormatError(ValueError):
    """The file cannot be landed at all (unknown format, missing columns, unreadable)."""


def map_header(header: Sequence[str], symbol: str | None = None) -> list[str]:
    """Canonical name for each column of a file's header (`_extra_N` for columns we ignore).

    `symbol`: the symbol of a file without a symbol column. Raises FileFormatError naming what
    is missing, doubled or contradictory.
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
    found = ", ".join(header)
    if "symbol" in mapped and symbol:
        raise FileFormatError(
            f"line 1: the file has a symbol column ({seen['symbol']}) and a symbol was given "
            f"({symbol}); give --symbol only for files without one"
        )
    if "symbol" not in mapped and not symbol:
        raise FileFormatError(
            f"line 1: no symbol column (found {found}); for a file of one symbol give it with "
            "--symbol SYM (flow parameter `symbol`), else add a symbol column"
        )
    missing = [c for c in CANONICAL if c not in mapped and c != "symbol"]
    if missing:
        raise FileFormatError(
            f"line 1: missing column(s) {', '.join(missing)}; found {found} "
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


# --- reading CSV in bounded memory ----------------------------------------------------------


def _open_binary(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")  # noqa: SIM115


def _csv_header(path: Path) -> list[str]:
    """The header row, decoded on its own (a bad byte further down is that line's problem)."""
    with _open_binary(path) as fh:
        first = fh.readline(LINE_LIMIT + 1)
    if len(first) > LINE_LIMIT and not first.endswith(b"\n"):
        raise FileFormatError(
            f"{path}: line 1: longer than {LINE_LIMIT:,} bytes, so not a header of bar "
            "columns; is this a CSV file?"
        )
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


class LineTooLong(Exception):
    """Raised while streaming a file to COPY: a line is longer than LINE_LIMIT."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} is longer than {LINE_LIMIT:,} bytes")
        self.line = line


class BoundedLines(io.RawIOBase):
    """The file as COPY reads it, refusing any line longer than LINE_LIMIT (so neither this
    process nor the server ever buffers one)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.line = 1
        self.run = 0  # bytes of the current line so far

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size if size and size > 0 else 1 << 16)
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            length = (end if end >= 0 else len(chunk)) - start
            if self.run + length > LINE_LIMIT:
                raise LineTooLong(self.line)
            if end < 0:
                self.run += length
                return chunk
            self.line, self.run, start = self.line + 1, 0, end + 1

    def close(self) -> None:
        self.raw.close()
        super().close()


def _physical_line(fh: BinaryIO, budget: int) -> tuple[bytes, bool]:
    """The next line (at most `budget` bytes; the rest of a longer line is read and dropped)
    and whether it was cut."""
    data = fh.readline(budget + 1)
    if len(data) <= budget or data.endswith(b"\n"):
        return data, False
    while True:  # drop the rest of the over-long line, a block at a time
        more = fh.readline(1 << 16)
        if not more or more.endswith(b"\n"):
            return data[:budget], True


def _records(fh: BinaryIO) -> Iterator[tuple[int, bytes, int, bool]]:
    """(first line, record, lines it spans, cut) for each CSV record after the header: physical
    lines joined while a quoted field is open, every record bounded by LINE_LIMIT."""
    line = 2
    while True:
        record, cut = _physical_line(fh, LINE_LIMIT)
        if not record:
            return
        spans = 1
        while not cut and record.count(b'"') % 2 and record.endswith(b"\n"):
            more, cut = _physical_line(fh, LINE_LIMIT - len(record))
            if not more:
                break
            record, spans = record + more, spans + 1
        yield line, record, spans, cut
        line += spans


def _checked_lines(path: Path, width: int) -> Iterator[list[str]]:
    """`[line, *fields, problem]` for every non-blank record after the header, read leniently."""
    csv.field_size_limit(LINE_LIMIT)
    with _open_binary(path) as fh:
        fh.readline(LINE_LIMIT + 1)  # the header (read and checked already)
        for line, record, _spans, cut in _records(fh):
            text = record.decode("utf-8", "surrogateescape")
            if cut:
                text = text[:KEPT_OF_LONG_LINE]
            if not text.strip():
                continue
            fields = next(csv.reader([text]), [])
            cleaned = [merge.clean_text(f) for f in fields]
            values = [v for v, _ in cleaned]
            problems = []
            if cut:
                problems.append(
                    f"line is longer than {LINE_LIMIT:,} bytes (its first {KEPT_OF_LONG_LINE} kept)"
                )
            if any(bad for _, bad in cleaned):
                problems.append("line is not valid UTF-8 (bad bytes kept as \\x escapes)")
            if len(values) != width and not cut:
                problems.append(f"line has {len(values)} fields, expected {width}")
            if len(values) != width:
                values = values[: width - 1] + [",".join(values[width - 1 :])]
                values += [""] * (width - len(values))
            problem = "malformed line: " + "; ".join(problems) if problems else ""
            yield [str(line), *values, problem]


def _copy_csv(cur: psycopg2.extensions.cursor, path: Path, columns: list[str]) -> None:
    """COPY the file as it is; if PostgreSQL refuses a line or a line is too long, copy it
    again record by record (bad ones kept for the quarantine)."""
    cur.execute("savepoint copy_as_is")
    try:
        with BoundedLines(_open_binary(path)) as stream:
            merge.copy_incoming(cur, columns, stream, header=True)
    except (psycopg2.DataError, psycopg2.errors.QueryCanceled, LineTooLong):
        cur.execute("rollback to savepoint copy_as_is")
    else:
        cur.execute("release savepoint copy_as_is")
        return
    with tempfile.TemporaryFile() as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        csv.writer(text, lineterminator="\n").writerows(_checked_lines(path, len(columns)))
        text.flush()
        spool.seek(0)
        merge.copy_incoming(cur, ["_line", *columns, "_problem"], text.detach(), header=False)


# --- reading Parquet in batches -------------------------------------------------------------


def _parquet_header(path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(f"{path}: not a readable Parquet file: {exc}") from None


def _copy_parquet(cur: psycopg2.extensions.cursor, path: Path, columns: list[str]) -> None:
    """Batch by batch into a CSV spool file (timestamps as New York trading days), then COPY."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    with tempfile.TemporaryFile() as spool:
        writer = None
        for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH):
            converted = []
            for column in batch.columns:
                kind = column.type
                if pa.types.is_timestamp(kind):
                    if kind.tz is not None:  # an instant: the New York trading day it falls in
                        column = pc.local_timestamp(
                            column.cast(pa.timestamp(kind.unit, checks.EXCHANGE_TIMEZONE))
                        )
                    column = column.cast(pa.date32())  # a naive timestamp is a local date
                converted.append(column.cast(pa.string()))
            table = pa.table(converted, names=columns)
            if writer is None:
                writer = pacsv.CSVWriter(spool, table.schema)
            writer.write_table(table)
        if writer is None:
            raise FileFormatError(f"{path}: line 2: no data rows in the Parquet file")
        writer.close()
        spool.seek(0)
        try:
            merge.copy_incoming(cur, columns, spool, header=True)
        except psycopg2.DataError as exc:
            raise FileFormatError(f"{path}: unreadable Parquet values: {exc}") from exc


# --- landing ---------------------------------------------------------------------------------

ACTIONS_SQL = """
select c.symbol, c.trade_date, i.dividend, i.split
from _incoming as i
inner join _judged as c on c._line = i._line
where c.reason is null
  and (btrim(coalesce(i.dividend, '')) !~ '^(0*[.]?0*)?$'
       or btrim(coalesce(i.split, '')) !~ '^(0*[.]?0*|0*1([.]0*)?)$')
"""


def _number(text: str | None) -> Decimal | None:
    try:
        return Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None


def file_actions(rows: Sequence[tuple]) -> list[CorporateAction]:
    """Splits and dividends from the action columns of landed rows (pure)."""
    found = []
    for symbol, day, dividend, split in rows:
        coefficient = _number(split) if split not in (None, "") else None
        if split not in (None, "") and coefficient not in (Decimal(0), Decimal(1)):
            found.append(
                CorporateAction(symbol, "split", day, split_from=1, split_to=split.strip())
            )
        amount = _number(dividend) if dividend not in (None, "") else None
        if dividend not in (None, "") and amount != 0:
            found.append(CorporateAction(symbol, "dividend", day, cash_amount=dividend.strip()))
    return found


def land_file(
    cur: psycopg2.extensions.cursor, unit: Unit, path: Path, symbol: str | None = None
) -> Outcome:
    """Land one file inside the caller's transaction. Raises FileFormatError if it can't."""
    kind = inspect_path(path)
    header = _csv_header(path) if kind == "csv" else _parquet_header(path)
    try:
        columns = map_header(header, symbol.strip().upper() if symbol else None)
    except FileFormatError as exc:
        raise FileFormatError(f"{path}: {exc}") from None
    merge.create_incoming(cur, columns, symbol.strip().upper() if symbol else None)
    if kind == "csv":
        _copy_csv(cur, path, columns)
    else:
        _copy_parquet(cur, path, columns)
    cur.execute("select exists (select from _incoming)")
    if not cur.fetchone()[0]:
        raise FileFormatError(f"{path}: line 2: no data rows after the header")
    landed = merge.merge(cur, unit)
    notes = []
    if any(c in columns for c in merge.OPTIONAL):
        cur.execute(ACTIONS_SQL)
        counts, rejected = land_actions(
            cur, file_actions(cur.fetchall()), source=unit.source, load_run_id=unit.load_run_id
        )
        notes.append(actions_note(counts, rejected))
    merge.drop_staging(cur)
    return file_outcome(landed, notes)


def file_outcome(landed: Outcome, notes: Sequence[str]) -> Outcome:
    """A file's outcome: one raw.load_runs row per symbol (none of its own); a symbol whose
    every row was quarantined fails that part of the file (rows without a usable symbol are
    quarantined rows, not a symbol). Quarantined rows are named with a ready query."""
    failures = tuple(
        f"{r.symbol}: all {r.received} row(s) quarantined"
        for r in landed.rows
        if r.status == FAILED and r.symbol != checks.UNSET_SYMBOL
    )
    rejected = landed.counts.rejected
    found = (
        f"{quarantine_note(rejected, 'raw.rejected_bars')}: select * from raw.rejected_bars"
        f" where last_seen_run_id = '{landed.load_run_id}'"
    )
    return replace(
        landed,
        summary_row=False,
        failures=failures,
        notes=((found,) if rejected else ()) + tuple(notes),
    )
