"""The strategy marts against a vectorised pandas/numpy backtest of the same strategies.

`full`: after the engine's full build, the strategy marts are built from scratch (dbt, timed by
its node timings: the strategy models only) and the reference reads the same rows from
PostgreSQL (asyncpg, one row of arrays per symbol, the cheapest decode) and computes the same
books, returns and metrics with numpy and pandas (vectorised over symbols and bars; the
max_positions slots in a loop over sessions, as they are sequential). Its net returns must equal
the marts' (relative 1e-9). `increment`: after one new session landed and the engine's increment,
the strategy marts' incremental run (node timings).

Figures (bench/report.py): backtest_vs_pandas = the marts' full build / the reference;
backtest_increment_vs_full = the increment / the full build.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import numpy as np
import pandas as pd

SELECTION = "int_strategy_positions_simulated+"
MODELS = (
    "int_strategy_positions_simulated",
    "fct_strategy_returns",
    "fct_strategy_positions",
    "fct_strategy_trades",
    "fct_strategy_performance",
)
INDICATORS = (
    "sma_50",
    "sma_200",
    "rsi_14",
    "macd",
    "macd_signal",
    "bb_upper",
    "bb_middle",
    "roc_10",
)
PRICES = ("open", "close", "dividend_factor", "total_return_close")
READ_SQL = f"""
select bars.symbol,
       array_agg(bars.trade_date order by bars.trade_date),
       {", ".join(f"array_agg(bars.{c}::float8 order by bars.trade_date)" for c in PRICES)},
       {", ".join(f"array_agg(ind.{c} order by bars.trade_date)" for c in INDICATORS)}
from marts.fct_daily_bars as bars
left join marts.fct_daily_indicators as ind using (symbol, trade_date)
group by bars.symbol
order by bars.symbol
"""
STALE_AFTER = 5
ANNUAL = 252


@dataclass
class Bars:
    """Every bar as flat arrays ordered by symbol and date; `session` indexes `sessions`."""

    symbols: list[str]
    code: np.ndarray  # symbol index per bar
    session: np.ndarray  # session index per bar
    sessions: np.ndarray  # sorted distinct dates
    first: np.ndarray  # the symbol's first bar
    values: dict[str, np.ndarray]

    def previous(self, name: str) -> np.ndarray:
        x = self.values[name]
        out = np.empty_like(x)
        out[0] = np.nan
        out[1:] = x[:-1]
        out[self.first] = np.nan
        return out


async def read(dsn: str) -> Bars:
    conn = await asyncpg.connect(dsn)
    try:
        records = await conn.fetch(READ_SQL)
    finally:
        await conn.close()
    symbols = [r[0] for r in records]
    lengths = np.array([len(r[1]) for r in records])
    dates = np.concatenate([np.array(r[1], dtype="datetime64[D]") for r in records])
    sessions, session = np.unique(dates, return_inverse=True)
    names = (*PRICES, *INDICATORS)
    values = {
        name: np.concatenate([np.array(r[2 + i], dtype=float) for r in records])
        for i, name in enumerate(names)
    }
    first = np.zeros(len(dates), dtype=bool)
    first[np.r_[0, np.cumsum(lengths)[:-1]]] = True
    code = np.repeat(np.arange(len(symbols)), lengths)
    return Bars(symbols, code, session, sessions, first, values)


# --- the shipped strategies, vectorised --------------------------------------------------------

Rule = Callable[[Bars, dict[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Leg:
    side: str
    entry: Rule
    exit: Rule


@dataclass(frozen=True)
class Strategy:
    name: str
    legs: tuple[Leg, ...]
    next_open: bool = True
    fraction: float | None = None  # None: equal weight
    max_positions: int | None = None
    priority: Rule | None = None
    rebalance_monthly: bool = False
    cost_bps: float = 0.0
    cost_per_trade: float = 0.0
    capital: float = 100_000.0
    first_of: tuple[str, ...] | None = None


def _v(b: Bars, name: str) -> np.ndarray:
    return b.values[name]


def crossed(a: str, b: str, above: bool) -> Rule:
    def rule(bars: Bars, _: dict) -> np.ndarray:
        pa, pb, xa, xb = bars.previous(a), bars.previous(b), _v(bars, a), _v(bars, b)
        with np.errstate(invalid="ignore"):
            return (pa <= pb) & (xa > xb) if above else (pa >= pb) & (xa < xb)

    return rule


def level(name: str, op: str, other: float | str) -> Rule:
    def rule(bars: Bars, extra: dict) -> np.ndarray:
        x = extra[name] if name in extra else _v(bars, name)
        y = _v(bars, other) if isinstance(other, str) else other
        with np.errstate(invalid="ignore"):
            return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]

    return rule


def constant(value: bool) -> Rule:
    return lambda bars, _: np.full(len(bars.code), value)


STRATEGIES = (
    Strategy(
        "sma_trend",
        (Leg("long", crossed("sma_50", "sma_200", True), crossed("sma_50", "sma_200", False)),),
        fraction=0.1,
        max_positions=10,
        priority=lambda b, _: (_v(b, "sma_50") - _v(b, "sma_200")) / _v(b, "sma_200"),
        cost_bps=5,
        cost_per_trade=1,
    ),
    Strategy(
        "rsi_reversion",
        (Leg("long", level("rsi_14", "<", 30), level("rsi_14", ">", 50)),),
        fraction=0.1,
        max_positions=10,
        priority=lambda b, _: 30 - _v(b, "rsi_14"),
        cost_bps=5,
        cost_per_trade=1,
    ),
    Strategy(
        "macd_cross",
        (Leg("long", crossed("macd", "macd_signal", True), crossed("macd", "macd_signal", False)),),
        next_open=False,
        max_positions=10,
        cost_bps=5,
        cost_per_trade=1,
    ),
    Strategy(
        "bollinger_breakout",
        (Leg("long", level("close", ">", "bb_upper"), level("close", "<", "bb_middle")),),
        fraction=0.1,
        max_positions=10,
        priority=lambda b, _: _v(b, "close") / _v(b, "bb_upper") - 1,
        cost_bps=5,
        cost_per_trade=1,
    ),
    Strategy(
        "momentum_long_short",
        (
            Leg("long", level("rank_pct", ">=", 0.9), level("rank_pct", "<", 0.9)),
            Leg("short", level("rank_pct", "<=", 0.1), level("rank_pct", ">", 0.1)),
        ),
        rebalance_monthly=True,
        cost_bps=10,
    ),
    Strategy(
        "buy_and_hold_benchmark",
        (Leg("long", constant(True), constant(False)),),
        next_open=False,
        fraction=1.0,
        first_of=("SPY", "AAPL"),
    ),
    Strategy(
        "equal_weight_universe", (Leg("long", constant(True), constant(False)),), next_open=False
    ),
)


@dataclass
class Result:
    net_returns: pd.Series  # by session
    rows: int  # (symbol, session, leg) with a decision or a position
    metrics: dict[str, float]


def _ffill_by_symbol(values: np.ndarray, code: np.ndarray) -> np.ndarray:
    return pd.Series(values).groupby(code).ffill().to_numpy()


def _shift_by_symbol(values: np.ndarray, first: np.ndarray, steps: int) -> np.ndarray:
    out = np.zeros_like(values)
    out[steps:] = values[:-steps]
    boundary = first.copy()
    for k in range(1, steps):
        boundary[k:] |= first[:-k]
    out[boundary] = 0
    return out


def _slots(strategy: Strategy, bars: Bars, entry: np.ndarray, exit_: np.ndarray,
           stale_last: np.ndarray, mask: np.ndarray) -> np.ndarray:  # fmt: skip
    """The max_positions slots, session by session (exits first, then entries by priority)."""
    priority = strategy.priority(bars, {}) if strategy.priority else np.full(len(entry), np.nan)
    candidates = np.flatnonzero(mask & (entry | exit_ | stale_last))
    order = np.lexsort((bars.code[candidates], bars.session[candidates]))
    candidates = candidates[order]
    decided = np.full(len(entry), np.nan)
    held: set[int] = set()
    bounds = np.flatnonzero(np.diff(bars.session[candidates])) + 1
    for rows in np.split(candidates, bounds):
        for i in rows:
            if (exit_[i] or stale_last[i]) and bars.code[i] in held:
                held.discard(bars.code[i])
                decided[i] = 0
        wanted = [i for i in rows if entry[i] and not exit_[i] and not stale_last[i]
                  and bars.code[i] not in held]  # fmt: skip
        wanted.sort(key=lambda i: (np.isnan(priority[i]), -np.nan_to_num(priority[i]),
                                   bars.symbols[bars.code[i]]))  # fmt: skip
        for i in wanted:
            if len(held) >= strategy.max_positions:
                break
            held.add(bars.code[i])
            decided[i] = 1
    return decided


def simulate(strategy: Strategy, bars: Bars) -> Result:
    """The strategy's book, returns and metrics (the accounting of the strategy marts)."""
    if strategy.first_of:
        present = [s for s in strategy.first_of if s in bars.symbols]
        universe = np.isin(bars.code, [bars.symbols.index(s) for s in present[:1]])
    else:
        universe = np.ones(len(bars.code), dtype=bool)
    used = np.unique(bars.session[universe])
    sessions = bars.sessions[used]
    n = len(sessions)
    grid = np.full(len(bars.sessions), -1)
    grid[used] = np.arange(n)
    s_index = grid[bars.session]
    sub = universe.copy()
    # per bar, in the universe only
    b = Bars(
        bars.symbols,
        bars.code[sub],
        s_index[sub],
        sessions,
        bars.first[sub],
        {k: v[sub] for k, v in bars.values.items()},
    )
    months = sessions.astype("datetime64[M]")
    month_start = np.r_[True, months[1:] != months[:-1]]
    rebalance = month_start[b.session] if strategy.rebalance_monthly else np.ones(len(b.code), bool)
    extra = {}
    if any("rank" in str(leg) for leg in strategy.legs) or strategy.name == "momentum_long_short":
        value = b.values["roc_10"]
        frame = pd.DataFrame({"session": b.session, "value": value})
        ranks = frame.groupby("session")["value"].rank(method="min")
        counts = frame.groupby("session")["value"].transform("count")
        pct = ((ranks - 1) / (counts - 1)).to_numpy().copy()
        pct[(counts == 1).to_numpy() & ~np.isnan(value)] = 0.0
        extra["rank_pct"] = pct
    last = np.r_[b.first[1:], True]
    stale_last = last & (n - 1 - b.session >= STALE_AFTER)
    sides = {}
    for leg in strategy.legs:
        entry = rebalance & strategy_rule(leg.entry, b, extra)
        exit_ = rebalance & strategy_rule(leg.exit, b, extra)
        if strategy.max_positions:
            code = _slots(strategy, b, entry, exit_, stale_last, np.ones(len(entry), bool))
        else:
            code = np.where(exit_, 0.0, np.where(entry, 1.0, np.nan))
        decided = np.nan_to_num(_ffill_by_symbol(code, b.code))
        executed = _shift_by_symbol(decided, b.first, 1)
        overnight = _shift_by_symbol(decided, b.first, 2)
        end = np.where(stale_last, 0.0, executed)
        intraday = executed if strategy.next_open else overnight
        target = np.where(stale_last, 0.0, decided)
        sides[leg.side] = (target, overnight, intraday, end)
    return _value(strategy, b, n, stale_last, sides)


def strategy_rule(rule: Rule, bars: Bars, extra: dict) -> np.ndarray:
    return np.asarray(rule(bars, extra), dtype=bool)


def _dense(bars: Bars, n: int, values: np.ndarray) -> np.ndarray:
    out = np.full((n, len(bars.symbols)), np.nan)
    out[bars.session, bars.code] = values
    return out


def _value(strategy: Strategy, b: Bars, n: int, stale_last: np.ndarray, sides: dict) -> Result:
    """On the session x symbol grid: carry positions through gaps, weight, return, equity."""
    alive = np.zeros((n, len(b.symbols)), dtype=bool)
    first_session = np.full(len(b.symbols), n)
    last_session = np.full(len(b.symbols), -1)
    np.minimum.at(first_session, b.code, b.session)
    np.maximum.at(last_session, b.code, b.session)
    stale_symbol = np.zeros(len(b.symbols), dtype=bool)
    stale_symbol[b.code[stale_last]] = True
    rows = np.arange(n)[:, None]
    alive = (rows >= first_session[None, :]) & (
        ~stale_symbol[None, :] | (rows <= last_session[None, :])
    )
    has_bar = ~np.isnan(_dense(b, n, np.ones(len(b.code))))
    previous = np.where(b.first, np.nan, np.r_[np.nan, b.values["total_return_close"][:-1]])
    r_ov = np.nan_to_num(b.values["open"] * b.values["dividend_factor"] / previous - 1)
    r_cc = np.nan_to_num(b.values["total_return_close"] / previous - 1)
    r_id = np.nan_to_num(b.values["close"] / b.values["open"] - 1)
    first = np.nan_to_num(_dense(b, n, r_ov if strategy.next_open else r_cc))
    second = (
        np.nan_to_num(_dense(b, n, r_id)) if strategy.next_open else np.zeros((n, len(b.symbols)))
    )
    r1 = np.zeros(n)
    r2 = np.zeros(n)
    to1 = np.zeros(n)
    to2 = np.zeros(n)
    k1 = np.zeros(n)
    k2 = np.zeros(n)
    held_rows = 0
    for side, (target, overnight, intraday, end) in sides.items():
        t, o, i, e = (_dense(b, n, x) for x in (target, overnight, intraday, end))
        carried_end = pd.DataFrame(e).ffill().to_numpy()
        carried_target = pd.DataFrame(t).ffill().to_numpy()
        gap = alive & ~has_bar
        o = np.where(gap, carried_end, o)
        i = np.where(gap, carried_end, i)
        e = np.where(gap, carried_end, e)
        t = np.where(gap, carried_target, t)
        o, i, e, t = (np.where(alive, np.nan_to_num(x), 0.0) for x in (o, i, e, t))
        held_rows += int(((t != 0) | (o != 0) | (i != 0) | (e != 0)).sum())
        sign = 1.0 if side == "long" else -1.0
        if strategy.fraction is not None:
            ow, iw, ew = (sign * x * strategy.fraction for x in (o, i, e))
        else:
            n_end = e.sum(axis=1)
            n_end_before = np.r_[0.0, n_end[:-1]]
            n_id = i.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                ow = np.nan_to_num(sign * o / n_end_before[:, None])
                iw = np.nan_to_num(
                    sign * i / (n_id if strategy.next_open else n_end_before)[:, None]
                )
                ew = np.nan_to_num(sign * e / n_end[:, None])
        r1 += (ow * first).sum(axis=1)
        r2 += (iw * second).sum(axis=1)
        to1 += np.abs(iw - ow).sum(axis=1)
        to2 += np.abs(ew - iw).sum(axis=1)
        k1 += (iw != ow).sum(axis=1)
        k2 += (ew != iw).sum(axis=1)
    c, fee = strategy.cost_bps / 10_000, strategy.cost_per_trade
    growth = (1 + r1) * (1 - c * to1) * (1 + r2) * (1 - c * to2)
    fixed = -(fee * k1 * (1 + r2) * (1 - c * to2)) - fee * k2
    equity = np.empty(n)
    e_prev = strategy.capital
    for s in range(n):
        e_prev = equity[s] = e_prev * growth[s] + fixed[s]
    previous_equity = np.r_[strategy.capital, equity[:-1]]
    net = equity / previous_equity - 1
    return Result(pd.Series(net), held_rows, metrics(net, equity, strategy.capital))


def metrics(r: np.ndarray, equity: np.ndarray, capital: float) -> dict[str, float]:
    """The 'all' period's metrics (the definitions of fct_strategy_performance)."""
    n = len(r)
    total = equity[-1] / capital - 1
    std = r.std(ddof=1)
    downside = np.sqrt(np.mean(np.minimum(r, 0) ** 2))
    peak = np.maximum.accumulate(np.r_[capital, equity])[1:]
    max_dd = (equity / peak - 1).min()
    cagr = (1 + total) ** (ANNUAL / n) - 1
    return {
        "total_return": total,
        "cagr": cagr,
        "annual_volatility": std * np.sqrt(ANNUAL),
        "sharpe_ratio": r.mean() / std * np.sqrt(ANNUAL) if std else np.nan,
        "sortino_ratio": r.mean() * ANNUAL / (downside * np.sqrt(ANNUAL)) if downside else np.nan,
        "max_drawdown": max_dd,
        "calmar_ratio": cagr / abs(max_dd) if max_dd < 0 else np.nan,
    }


@dataclass(frozen=True)
class Reference:
    seconds: float
    read_seconds: float
    results: dict[str, Result]


def reference(dsn: str) -> Reference:
    started = time.perf_counter()
    bars = asyncio.run(read(dsn))
    read_seconds = time.perf_counter() - started
    results = {s.name: simulate(s, bars) for s in STRATEGIES}
    return Reference(time.perf_counter() - started, read_seconds, results)


def agrees(url_query: Callable[[str], pd.DataFrame], ref: Reference) -> tuple[bool, str]:
    """The marts' net returns and book sizes against the reference's."""
    returns = url_query(
        "select strategy, trade_date, net_return from marts.fct_strategy_returns"
        " order by strategy, trade_date"
    )
    rows = url_query(
        "select strategy, count(*) as n from intermediate.int_strategy_positions_simulated"
        " where symbol <> '$CASH' group by strategy"
    ).set_index("strategy")["n"]
    worst, problems = 0.0, []
    for name, result in ref.results.items():
        got = returns.loc[returns["strategy"] == name, "net_return"].to_numpy()
        want = result.net_returns.to_numpy()
        if len(got) != len(want):
            problems.append(f"{name}: {len(got)} sessions, reference {len(want)}")
            continue
        error = np.abs(got - want) / np.maximum(np.abs(want), 1e-3)
        worst = max(worst, float(error.max()))
        if int(rows.get(name, 0)) != result.rows:
            problems.append(f"{name}: {rows.get(name, 0)} book rows, reference {result.rows}")
    ok = not problems and worst <= 1e-9
    detail = "; ".join(problems) or f"7 strategies, worst relative difference {worst:.1e}"
    return ok, detail


# --- the bench steps (called from bench/__main__.py) --------------------------------------------


def node_seconds(built) -> float:
    """The strategy models' own time in a dbt invocation (its node timings)."""
    return sum(n.seconds for n in built.nodes if n.name in MODELS)


def full(run, server, dbt) -> None:
    """The strategy marts from scratch at 1x, against the numpy reference on the same rows."""
    from bench import verify
    from bench.warehouse import scalar

    run.dbt(dbt, "backtest_inputs", "run", "--select", "fct_daily_bars")  # an input, not timed
    built = run.dbt(dbt, "backtest_full_invocation", "run", "--full-refresh", "--select", SELECTION)
    run.seconds["backtest_full"] = node_seconds(built)
    run.log(
        "numpy/pandas reference backtest (asyncpg read, vectorised books, returns, metrics) ..."
    )
    with run.watch("backtest_pandas"):
        ref = reference(server.dsn)
    run.seconds.update(backtest_pandas=ref.seconds, backtest_pandas_read=ref.read_seconds)
    run.log(
        f"  backtest_full {run.seconds['backtest_full']:.2f} s (dbt nodes), reference "
        f"{ref.seconds:.2f} s (read {ref.read_seconds:.2f} s)"
    )
    run.rows["backtest_book_rows"] = int(
        scalar(server.url, "select count(*) from intermediate.int_strategy_positions_simulated")
    )
    ok, detail = agrees(lambda sql: _query(server.url, sql), ref)
    run.check(verify.Check("backtest: net returns and books equal the numpy reference", ok, detail))


def increment(run, server, dbt) -> None:
    """The strategy marts' incremental run after one new session landed (and the engine ran)."""
    built = run.dbt(
        dbt, "backtest_increment_invocation", "run", "--select", f"fct_daily_bars {SELECTION}"
    )
    run.seconds["backtest_increment"] = node_seconds(built)
    run.log(f"  backtest_increment {run.seconds['backtest_increment']:.2f} s (dbt nodes)")


def _query(url, sql: str) -> pd.DataFrame:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(sql), conn)
    finally:
        engine.dispose()
