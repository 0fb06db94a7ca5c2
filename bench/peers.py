"""The way other public dbt projects compute SMA 20/50/200, stddev 20, EMA 12/26 and RSI 14:
moving-frame `avg`/`stddev_pop` over `rows between n-1 preceding`, a 14-row average RSI, and
the EMAs by a recursive CTE per symbol. Same input rows as the engine (int_daily_bars_adjusted),
default planner settings. The recursive CTE takes minutes on all symbols: it runs on all of them
under a 10-minute statement timeout, and only when that is exceeded on a subset, extrapolated
by rows (said so in the results)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.engine import URL

from bench.warehouse import execute, scalar

SCHEMA = "bench_peers"
SOURCE = "intermediate.int_daily_bars_adjusted"


def frames_sql(kind: str) -> str:
    """The moving-frame part: SMA 20/50/200, population stddev 20, 14-row average RSI."""
    frames = {n: f"rows between {n - 1} preceding and current row" for n in (14, 20, 50, 200)}
    return f"""
create table {SCHEMA}.frames_{kind} as
select
    symbol,
    trade_date,
    avg(c) over (by_date {frames[20]}) as sma_20,
    avg(c) over (by_date {frames[50]}) as sma_50,
    avg(c) over (by_date {frames[200]}) as sma_200,
    stddev_pop(c) over (by_date {frames[20]}) as stddev_20,
    100 - 100 / (1 + avg(gain) over (by_date {frames[14]})
                     / nullif(avg(loss) over (by_date {frames[14]}), 0)) as rsi_14
from (
    select
        symbol,
        trade_date,
        close::{kind} as c,
        greatest(close - lag(close) over (partition by symbol order by trade_date), 0)::{kind}
            as gain,
        greatest(lag(close) over (partition by symbol order by trade_date) - close, 0)::{kind}
            as loss
    from {SOURCE}
) as bars
window by_date as (partition by symbol order by trade_date)
"""


def recursive_ema_sql(symbols: list[str] | None) -> str:
    """The EMAs by a recursive CTE per symbol (all symbols when `symbols` is None)."""
    where = (
        ""
        if symbols is None
        else "where symbol in ({})".format(", ".join(f"'{s}'" for s in symbols))
    )
    return f"""
create table {SCHEMA}.ema as
with recursive numbered as (
    select symbol, trade_date, close,
        row_number() over (partition by symbol order by trade_date) as rn
    from {SOURCE}
    {where}
),
ema as (
    select symbol, rn, trade_date, close as ema_12, close as ema_26
    from numbered
    where rn = 1
    union all
    select n.symbol, n.rn, n.trade_date,
        (n.close - e.ema_12) * 2 / 13 + e.ema_12,
        (n.close - e.ema_26) * 2 / 27 + e.ema_26
    from ema as e
    inner join numbered as n on n.symbol = e.symbol and n.rn = e.rn + 1
)
select * from ema
"""


@dataclass(frozen=True)
class Peers:
    frames_numeric: float
    frames_float8: float
    ema_subset: float
    ema_subset_rows: int
    ema_symbols: int | None  # None: ran on all symbols
    all_rows: int
    frames_rows: int
    sma_mismatches: int

    @property
    def ema_extrapolated(self) -> float:
        return self.ema_subset * self.all_rows / max(self.ema_subset_rows, 1)

    @property
    def sql_total(self) -> float:
        """The peers' whole set: float8 frames (their usual type) + the recursive CTE EMAs."""
        return self.frames_float8 + self.ema_extrapolated


def _timed(url: URL, *statements: str) -> float:
    started = time.perf_counter()
    execute(url, *statements)
    return time.perf_counter() - started


def _recursive_ema(url: URL, subset: list[str], timeout_s: float) -> tuple[float, list[str] | None]:
    """Seconds of the recursive CTE on all symbols, or, past `timeout_s`, on `subset`."""
    try:
        seconds = _timed(
            url, f"set statement_timeout = {int(timeout_s * 1000)}", recursive_ema_sql(None)
        )
        return seconds, None
    except Exception as exc:  # the timeout: measure the subset instead
        if "statement timeout" not in str(exc):
            raise
    execute(url, f"drop table if exists {SCHEMA}.ema")
    return _timed(url, recursive_ema_sql(subset)), subset


def run_peers(url: URL, subset: list[str], indicators: str, timeout_s: float = 600) -> Peers:
    """Time the peer methods; compare their SMAs with the engine's (`indicators` relation)."""
    execute(url, f"drop schema if exists {SCHEMA} cascade", f"create schema {SCHEMA}")
    frames_numeric = _timed(url, frames_sql("numeric"))
    frames_float8 = _timed(url, frames_sql("float8"))
    ema_subset, used = _recursive_ema(url, subset, timeout_s)
    mismatches = int(
        scalar(  # type: ignore[arg-type]
            url,
            f"""select count(*) from {SCHEMA}.frames_numeric as p
            join {indicators} as i using (symbol, trade_date)
            where (i.sma_20 is not null and abs(p.sma_20 - i.sma_20) > 1e-9 * abs(i.sma_20))
               or (i.sma_200 is not null and abs(p.sma_200 - i.sma_200) > 1e-9 * abs(i.sma_200))""",
        )
    )
    result = Peers(
        frames_numeric=frames_numeric,
        frames_float8=frames_float8,
        ema_subset=ema_subset,
        ema_subset_rows=int(scalar(url, f"select count(*) from {SCHEMA}.ema")),  # type: ignore[arg-type]
        ema_symbols=None if used is None else len(used),
        all_rows=int(scalar(url, f"select count(*) from {SOURCE}")),  # type: ignore[arg-type]
        frames_rows=int(scalar(url, f"select count(*) from {SCHEMA}.frames_float8")),  # type: ignore[arg-type]
        sma_mismatches=mismatches,
    )
    execute(url, f"drop schema {SCHEMA} cascade")
    return result
