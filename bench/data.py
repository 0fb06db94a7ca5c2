"""The benchmark's input: the real file split into history + the last trading day, optionally
cut to a few symbols, and the SQL that synthesises N x the rows from what is landed."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.files import map_header


@dataclass(frozen=True)
class BenchFiles:
    """history: every row before the last date; last_day: the rows of the last date."""

    history: Path
    last_day: Path
    last_date: str
    symbols: int
    history_rows: int
    last_day_rows: int

    @property
    def rows(self) -> int:
        return self.history_rows + self.last_day_rows


def pick_symbols(symbols: Sequence[str], n: int | None) -> list[str]:
    """All symbols (sorted), or n of them spread evenly over the sorted list (deterministic)."""
    ordered = sorted(set(symbols))
    if n is None or n >= len(ordered):
        return ordered
    if n <= 0:
        raise ValueError("the number of symbols must be positive")
    return [ordered[i * len(ordered) // n] for i in range(n)]


def _columns(header: list[str]) -> tuple[int, int]:
    mapped = map_header(header)
    return mapped.index("symbol"), mapped.index("date")


def prepare_files(source: Path, folder: Path, symbols: int | None = None) -> BenchFiles:
    """Write folder/history.csv and folder/last_day.csv from `source` (same header and rows)."""
    with source.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        symbol_at, date_at = _columns(header)
        seen: set[str] = set()
        last_date = ""
        for row in reader:
            if len(row) > max(symbol_at, date_at):
                seen.add(row[symbol_at].strip().upper())
                last_date = max(last_date, row[date_at].strip())
    keep = set(pick_symbols(sorted(seen), symbols))
    folder.mkdir(parents=True, exist_ok=True)
    history, last_day = folder / "history.csv", folder / "last_day.csv"
    counts = {history: 0, last_day: 0}
    with (
        source.open(newline="", encoding="utf-8-sig") as fh,
        history.open("w", newline="") as out_history,
        last_day.open("w", newline="") as out_last,
    ):
        reader = csv.reader(fh)
        writers = {
            history: csv.writer(out_history, lineterminator="\n"),
            last_day: csv.writer(out_last, lineterminator="\n"),
        }
        header = next(reader)
        for writer in writers.values():
            writer.writerow(header)
        for row in reader:
            if len(row) <= max(symbol_at, date_at) or row[symbol_at].strip().upper() not in keep:
                continue
            target = last_day if row[date_at].strip() == last_date else history
            writers[target].writerow(row)
            counts[target] += 1
    return BenchFiles(history, last_day, last_date, len(keep), counts[history], counts[last_day])


def price_factor(copy: int) -> str:
    """The exact (numeric) factor that scales the prices of synthetic copy number `copy`."""
    return f"{1 + 0.125 * copy:g}"


def synthesis_sql(copies: int, source: str = "files") -> str:
    """INSERT..SELECT adding `copies` copies of every landed bar under new symbols (AAPL_1, ...),
    prices scaled by price_factor(copy), volume unchanged: (copies + 1) x the rows in one go."""
    if copies < 1:
        raise ValueError("copies must be >= 1")
    factors = ", ".join(f"({k}, {price_factor(k)}::numeric)" for k in range(1, copies + 1))
    return f"""
insert into raw.daily_bars
    (source, symbol, trade_date, open, high, low, close, volume, load_run_id)
select b.source, b.symbol || '_' || c.k, b.trade_date,
       b.open * c.factor, b.high * c.factor, b.low * c.factor, b.close * c.factor,
       b.volume, b.load_run_id
from raw.daily_bars as b
cross join (values {factors}) as c (k, factor)
where b.source = '{source}'
"""


def next_day_sql(day: str, source: str = "files") -> str:
    """INSERT..SELECT one new bar on `day` for every symbol, from its last bar before it (close
    +0.1%, a valid OHLC range, the same volume): the daily increment at any scale."""
    return f"""
insert into raw.daily_bars
    (source, symbol, trade_date, open, high, low, close, volume, load_run_id)
select distinct on (b.symbol)
       b.source, b.symbol, date '{day}',
       b.close, b.close * 1.003, b.close * 0.997, b.close * 1.001, b.volume, b.load_run_id
from raw.daily_bars as b
where b.source = '{source}' and b.trade_date < date '{day}'
order by b.symbol, b.trade_date desc
"""
