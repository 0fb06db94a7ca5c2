"""What a user would write in Python instead of the dbt engine.

- full build: read every bar from PostgreSQL (asyncpg, binary protocol), TA-Lib per symbol, and
  a binary COPY of the results into a fresh table (asyncpg `copy_records_to_table`), then its key.
- seed style (the design of the plan this product grew from): per symbol, fetch the last 300
  bars, compute the indicators with TA-Lib, upsert the new day's row. Measured twice: as lean
  as Python allows (asyncpg, prepared statements: the figure), and as usually written
  (SQLAlchemy + pandas per symbol: context).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import asyncpg
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL

from bench.indicators import INDICATORS, talib_indicators

SCHEMA = "bench_python"
TABLE = "daily_indicators"
COLUMNS: tuple[str, ...] = ("symbol", "trade_date", "close", *INDICATORS)
SEED_DAYS_BACK = 300

# one row per symbol, its bars as arrays: far cheaper to decode than one record per bar
READ_SQL = """
select symbol,
       array_agg(trade_date order by trade_date),
       array_agg(high::float8 order by trade_date),
       array_agg(low::float8 order by trade_date),
       array_agg(close::float8 order by trade_date),
       array_agg(volume::float8 order by trade_date)
from raw.daily_bars
where source = $1
group by symbol
order by symbol
"""

CREATE_SQL = (
    f"create table {SCHEMA}.{TABLE} (symbol text not null, trade_date date not null, "
    "close float8 not null, " + ", ".join(f"{c} float8" for c in INDICATORS) + ")"
)


@dataclass
class Bars:
    """Bars ordered by symbol and date, as flat columns; `parts` locates each symbol's bars."""

    symbol: list[str]
    trade_date: list[date]
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    parts: list[tuple[str, slice]]

    def __len__(self) -> int:
        return len(self.symbol)


@dataclass(frozen=True)
class PythonBuild:
    rows: int
    read_seconds: float
    compute_seconds: float
    write_seconds: float

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.compute_seconds + self.write_seconds


async def read_bars(conn: asyncpg.Connection, source: str = "files") -> Bars:
    records = await conn.fetch(READ_SQL, source)
    symbols: list[str] = []
    dates: list[date] = []
    parts: list[tuple[str, slice]] = []
    for r in records:
        start = len(dates)
        dates.extend(r[1])
        symbols.extend([r[0]] * len(r[1]))
        parts.append((r[0], slice(start, len(dates))))

    def column(i: int) -> np.ndarray:
        return np.concatenate([np.asarray(r[i], dtype=float) for r in records] or [[]])

    return Bars(symbols, dates, column(2), column(3), column(4), column(5), parts)


def compute(bars: Bars) -> dict[str, np.ndarray]:
    """TA-Lib per symbol, results in the bars' order."""
    out = {c: np.empty(len(bars)) for c in INDICATORS}
    for _, part in bars.parts:
        values = talib_indicators(
            bars.high[part], bars.low[part], bars.close[part], bars.volume[part]
        )
        for c in INDICATORS:
            out[c][part] = values[c]
    return out


def _nullable(values: np.ndarray) -> list[float | None]:
    """floats with NaN -> None (NULL), as the SQL engine stores warm-up rows."""
    column: list[float | None] = values.tolist()
    for i in np.flatnonzero(np.isnan(values)).tolist():
        column[i] = None
    return column


async def write(conn: asyncpg.Connection, bars: Bars, values: dict[str, np.ndarray]) -> None:
    columns = [_nullable(values[c]) for c in INDICATORS]
    records = zip(bars.symbol, bars.trade_date, bars.close.tolist(), *columns, strict=True)
    async with conn.transaction():
        await conn.execute(f"drop table if exists {SCHEMA}.{TABLE}")
        await conn.execute(CREATE_SQL)
        await conn.copy_records_to_table(
            TABLE, schema_name=SCHEMA, records=records, columns=list(COLUMNS)
        )
        await conn.execute(f"alter table {SCHEMA}.{TABLE} add primary key (symbol, trade_date)")


async def python_full_build(dsn: str) -> PythonBuild:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"create schema if not exists {SCHEMA}")
        t0 = time.perf_counter()
        bars = await read_bars(conn)
        t1 = time.perf_counter()
        values = compute(bars)
        t2 = time.perf_counter()
        await write(conn, bars, values)
        t3 = time.perf_counter()
    finally:
        await conn.close()
    return PythonBuild(len(bars), t1 - t0, t2 - t1, t3 - t2)


SEED_FETCH_SQL = f"""
select trade_date, high::float8, low::float8, close::float8, volume::float8
from raw.daily_bars
where source = $1 and symbol = $2
order by trade_date desc
limit {SEED_DAYS_BACK}
"""

SEED_UPSERT_SQL = (
    f"insert into {SCHEMA}.{TABLE} ({', '.join(COLUMNS)}) values "
    f"({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))}) "
    "on conflict (symbol, trade_date) do update set "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
)


@dataclass(frozen=True)
class SeedStyleRun:
    symbols: int
    rows_upserted: int
    seconds: float
    # the new day's values, for comparison with the exact (full-history) ones
    values: dict[str, dict[str, float]]


async def seed_style_increment(dsn: str, day: date, source: str = "files") -> SeedStyleRun:
    """One symbol after the other: fetch 300 bars, TA-Lib, upsert the row of `day`."""
    conn = await asyncpg.connect(dsn)
    upserted = 0
    values: dict[str, dict[str, float]] = {}
    try:
        started = time.perf_counter()
        symbols = [
            r[0]
            for r in await conn.fetch(
                "select distinct symbol from raw.daily_bars where source = $1 order by 1", source
            )
        ]
        for symbol in symbols:
            rows = (await conn.fetch(SEED_FETCH_SQL, source, symbol))[::-1]
            if not rows or rows[-1][0] != day:
                continue
            columns = np.array([tuple(r[1:]) for r in rows], dtype=float)
            result = talib_indicators(columns[:, 0], columns[:, 1], columns[:, 2], columns[:, 3])
            latest = {c: float(result[c][-1]) for c in INDICATORS}
            await conn.execute(
                SEED_UPSERT_SQL,
                symbol,
                day,
                float(columns[-1, 2]),
                *(None if np.isnan(v) else v for v in latest.values()),
            )
            values[symbol] = latest
            upserted += 1
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    return SeedStyleRun(len(symbols), upserted, seconds, values)


PANDAS_FETCH_SQL = f"""
select trade_date, high, low, close, volume
from raw.daily_bars
where source = :source and symbol = :symbol
order by trade_date desc
limit {SEED_DAYS_BACK}
"""

PANDAS_UPSERT_SQL = (
    f"insert into {SCHEMA}.{TABLE} ({', '.join(COLUMNS)}) values "
    f"({', '.join(f':{c}' for c in COLUMNS)}) "
    "on conflict (symbol, trade_date) do update set "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
)


def seed_style_pandas(url: URL, day: date, source: str = "files") -> tuple[float, int]:
    """The same seed design as it is usually written: SQLAlchemy + pandas.read_sql per symbol,
    TA-Lib on the DataFrame's columns, an upsert and a commit per symbol.
    Returns (seconds, rows upserted)."""
    engine = sa.create_engine(url)
    upserted = 0
    try:
        started = time.perf_counter()
        with engine.connect() as conn:
            symbols = (
                conn.execute(
                    sa.text(
                        "select distinct symbol from raw.daily_bars"
                        " where source = :source order by 1"
                    ),
                    {"source": source},
                )
                .scalars()
                .all()
            )
        for symbol in symbols:
            with engine.begin() as conn:
                frame = pd.read_sql(
                    sa.text(PANDAS_FETCH_SQL), conn, params={"source": source, "symbol": symbol}
                )
                frame = frame.sort_values("trade_date").reset_index(drop=True)
                if frame.empty or frame["trade_date"].iloc[-1] != day:
                    continue
                prices = {
                    c: frame[c].astype(float).to_numpy() for c in ("high", "low", "close", "volume")
                }
                result = talib_indicators(**prices)
                row: dict[str, object] = {
                    "symbol": symbol,
                    "trade_date": day,
                    "close": float(prices["close"][-1]),
                }
                row.update(
                    {c: None if np.isnan(v[-1]) else float(v[-1]) for c, v in result.items()}
                )
                conn.execute(sa.text(PANDAS_UPSERT_SQL), row)
                upserted += 1
        return time.perf_counter() - started, upserted
    finally:
        engine.dispose()
