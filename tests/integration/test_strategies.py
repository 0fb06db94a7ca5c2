"""The strategy marts against independent references, on the built sample.

Positions, returns and trades are compared with a plain simulation written here (a pandas/Python
loop over the sessions, independent of the SQL), every performance metric with empyrical-reloaded.
Also: no look-ahead (prices after a session changed), costs (doubled: net = gross - costs, trade
by trade), the increment (a new session appended equals a full refresh, bit for bit; a changed
declaration recomputes only its strategy), and the declarations' errors.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sqlalchemy.engine import URL

from ingest.db import transaction
from settings import PROJECT_ROOT
from tests.integration.conftest import dbt, query

pytestmark = pytest.mark.integration

DBT_PROJECT_FILE = PROJECT_ROOT / "dbt_project" / "dbt_project.yml"
# empyrical-reloaded is installed outside site-packages (Makefile: `pip check` stays clean)
TEST_ONLY = Path(sys.prefix) / "test-only"
RELATIVE = 1e-9
STRATEGY_MODELS = "int_strategy_positions_simulated+"


def empyrical():
    if str(TEST_ONLY) not in sys.path:
        sys.path.insert(0, str(TEST_ONLY))
    try:
        import empyrical as ep
    except ImportError:
        pytest.fail(
            f"empyrical-reloaded is not in {TEST_ONLY}: `rm .venv/.installed && make install`"
        )
    return ep


def declared() -> dict:
    return yaml.safe_load(DBT_PROJECT_FILE.read_text())["vars"]


def close(
    a: float | None, b: float | None, relative: float = RELATIVE, absolute: float = 1e-12
) -> bool:
    """Equal within `relative` (values near 0: within `absolute`); None/NaN equal each other."""
    missing = (
        a is None or (isinstance(a, float) and math.isnan(a)),
        b is None or (isinstance(b, float) and math.isnan(b)),
    )
    if any(missing):
        return all(missing)
    return math.isclose(float(a), float(b), rel_tol=relative, abs_tol=absolute)


# --- the reference simulation ------------------------------------------------------------------

Row = dict[str, object]


@dataclass(frozen=True)
class Leg:
    side: str
    entry: Callable[[Row], bool]
    exit: Callable[[Row], bool]


@dataclass(frozen=True)
class Spec:
    """A shipped strategy, written again in Python from its declaration."""

    name: str
    legs: tuple[Leg, ...]
    execution: str = "next_open"
    method: str = "equal_weight"
    fraction: float | None = None
    max_positions: int | None = None
    priority: Callable[[Row], float | None] | None = None
    rank_by: str | None = None
    rebalance: str = "daily"
    cost_bps: float = 0.0
    cost_per_trade: float = 0.0
    capital: float = 100_000.0
    universe: tuple[str, ...] | None = None  # None: all symbols
    first_of: tuple[str, ...] | None = None


def _ok(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def crossed_above(a: str, b: str) -> Callable[[Row], bool]:
    def rule(r: Row) -> bool:
        values = (r.get(f"previous_{a}"), r.get(f"previous_{b}"), r[a], r[b])
        return all(_ok(v) for v in values) and values[0] <= values[1] and values[2] > values[3]

    return rule


def crossed_below(a: str, b: str) -> Callable[[Row], bool]:
    def rule(r: Row) -> bool:
        values = (r.get(f"previous_{a}"), r.get(f"previous_{b}"), r[a], r[b])
        return all(_ok(v) for v in values) and values[0] >= values[1] and values[2] < values[3]

    return rule


def compare(column: str, op: str, level: float | str) -> Callable[[Row], bool]:
    def rule(r: Row) -> bool:
        a = r[column]
        b = r[level] if isinstance(level, str) else level
        if not (_ok(a) and _ok(b)):
            return False
        return {"<": a < b, ">": a > b, ">=": a >= b, "<=": a <= b}[op]

    return rule


def always(_: Row) -> bool:
    return True


def never(_: Row) -> bool:
    return False


SHIPPED = {
    "sma_trend": Spec(
        "sma_trend",
        (Leg("long", crossed_above("sma_50", "sma_200"), crossed_below("sma_50", "sma_200")),),
        method="fixed_fraction",
        fraction=0.1,
        max_positions=10,
        priority=lambda r: (
            (r["sma_50"] - r["sma_200"]) / r["sma_200"]
            if _ok(r["sma_50"]) and _ok(r["sma_200"])
            else None
        ),
        cost_bps=5,
        cost_per_trade=1,
    ),
    "rsi_reversion": Spec(
        "rsi_reversion",
        (Leg("long", compare("rsi_14", "<", 30), compare("rsi_14", ">", 50)),),
        method="fixed_fraction",
        fraction=0.1,
        max_positions=10,
        priority=lambda r: 30 - r["rsi_14"] if _ok(r["rsi_14"]) else None,
        cost_bps=5,
        cost_per_trade=1,
    ),
    "macd_cross": Spec(
        "macd_cross",
        (Leg("long", crossed_above("macd", "macd_signal"), crossed_below("macd", "macd_signal")),),
        execution="next_close",
        max_positions=10,
        cost_bps=5,
        cost_per_trade=1,
    ),
    "bollinger_breakout": Spec(
        "bollinger_breakout",
        (Leg("long", compare("close", ">", "bb_upper"), compare("close", "<", "bb_middle")),),
        method="fixed_fraction",
        fraction=0.1,
        max_positions=10,
        priority=lambda r: r["close"] / r["bb_upper"] - 1 if _ok(r["bb_upper"]) else None,
        cost_bps=5,
        cost_per_trade=1,
    ),
    "momentum_long_short": Spec(
        "momentum_long_short",
        (
            Leg("long", compare("rank_pct", ">=", 0.9), compare("rank_pct", "<", 0.9)),
            Leg("short", compare("rank_pct", "<=", 0.1), compare("rank_pct", ">", 0.1)),
        ),
        rank_by="roc_10",
        rebalance="monthly",
        cost_bps=10,
    ),
    "buy_and_hold_benchmark": Spec(
        "buy_and_hold_benchmark",
        (Leg("long", always, never),),
        execution="next_close",
        method="fixed_fraction",
        fraction=1.0,
        first_of=("SPY", "AAPL"),
    ),
    "equal_weight_universe": Spec(
        "equal_weight_universe", (Leg("long", always, never),), execution="next_close"
    ),
}

INPUT_SQL = """
select
    bars.symbol, bars.trade_date, bars.open, bars.high, bars.low, bars.close,
    bars.dividend_factor, bars.total_return_close,
    ind.sma_50, ind.sma_200, ind.rsi_14, ind.macd, ind.macd_signal, ind.bb_upper,
    ind.bb_middle, ind.roc_10
from marts.fct_daily_bars as bars
left join marts.fct_daily_indicators as ind using (symbol, trade_date)
order by bars.symbol, bars.trade_date
"""


@dataclass
class Simulated:
    """What the reference computes for one strategy."""

    positions: dict[tuple[str, str, date], tuple[float, float, float, int]] = field(
        default_factory=dict
    )
    returns: dict[date, dict[str, float]] = field(default_factory=dict)
    trades: list[dict[str, object]] = field(default_factory=list)


def read_inputs(url: URL) -> pd.DataFrame:
    bars = query(url, INPUT_SQL)
    bars["trade_date"] = pd.to_datetime(bars["trade_date"]).dt.date
    return bars


def simulate(spec: Spec, bars: pd.DataFrame, stale_after: int = 5, start: date | None = None,
             end: date | None = None) -> Simulated:  # fmt: skip
    """The strategy, session by session: decide on each bar, execute at the symbol's next bar."""
    if spec.first_of:
        present = [s for s in spec.first_of if (bars["symbol"] == s).any()]
        universe = set(present[:1])
    else:
        universe = set(spec.universe) if spec.universe else set(bars["symbol"])
    rows = bars[bars["symbol"].isin(universe)]
    if end:
        rows = rows[rows["trade_date"] <= end]
    all_dates = sorted(set(rows["trade_date"]))
    sessions = [d for d in all_dates if start is None or d >= start]
    previous_session = {d: (all_dates[i - 1] if i else None) for i, d in enumerate(all_dates)}
    series: dict[str, list[Row]] = {}
    for symbol, group in rows.groupby("symbol", sort=True):
        records = group.to_dict("records")
        for i, r in enumerate(records):
            before = records[i - 1] if i else None
            for c in ("sma_50", "sma_200", "rsi_14", "macd", "macd_signal"):
                r[f"previous_{c}"] = before[c] if before else None
            r["previous_trc"] = before["total_return_close"] if before else None
            for c in (
                "sma_50",
                "sma_200",
                "rsi_14",
                "macd",
                "macd_signal",
                "bb_upper",
                "bb_middle",
                "roc_10",
            ):
                if not _ok(r[c]):
                    r[c] = None
        series[symbol] = records
    last_bar = {s: recs[-1]["trade_date"] for s, recs in series.items()}
    number = {d: i for i, d in enumerate(sessions)}
    stale = {
        s: (d in number and len(sessions) - 1 - number[d] >= stale_after)
        for s, d in last_bar.items()
    }
    at = {(s, r["trade_date"]): r for s, recs in series.items() for r in recs}

    legs = [leg.side for leg in spec.legs]
    decided = {(s, leg): 0 for s in series for leg in legs}  # after the symbol's last bar so far
    executed = {(s, leg): 0 for s in series for leg in legs}  # held after the last execution
    started: set[str] = set()
    closed: set[str] = set()
    out = Simulated()
    flags: dict[date, list[tuple[str, str, int, int, int, int, Row | None, bool]]] = {}
    for day in sessions:
        previous = previous_session[day]
        rebalance = (
            spec.rebalance == "daily"
            or previous is None
            or ((day.year, day.month) != (previous.year, previous.month))
        )
        todays = {s: at[(s, day)] for s in series if (s, day) in at}
        if spec.rank_by:
            ranked = sorted(
                (r[spec.rank_by], s) for s, r in todays.items() if r[spec.rank_by] is not None
            )
            values = [v for v, _ in ranked]
            for r in todays.values():
                v = r[spec.rank_by]
                if v is None:
                    r["rank_pct"] = None
                elif len(values) == 1:
                    r["rank_pct"] = 0.0
                else:
                    r["rank_pct"] = values.index(v) / (len(values) - 1)
        # executions at this bar: the sides decided at the symbol's previous bar
        held_before = dict(executed)
        for s in todays:
            started.add(s)
            for leg in legs:
                executed[(s, leg)] = decided[(s, leg)]
        # decisions at this bar's close
        events = {}
        for s, r in todays.items():
            last = stale[s] and day == last_bar[s]
            for leg in spec.legs:
                entry = rebalance and leg.entry(r)
                exit_ = rebalance and leg.exit(r)
                events[(s, leg.side)] = (entry, exit_, last)
        if spec.max_positions:
            leg = legs[0]
            for (s, _), (_entry, exit_, last) in sorted(events.items()):
                if decided[(s, leg)] and (exit_ or last):
                    decided[(s, leg)] = 0
            count = sum(decided[(s, leg)] for s in series)
            candidates = [
                (s, spec.priority(todays[s]) if spec.priority else None)
                for (s, _), (entry, exit_, last) in events.items()
                if entry and not exit_ and not last and not decided[(s, leg)]
            ]
            candidates.sort(key=lambda c: (c[1] is None, -(c[1] or 0.0), c[0]))
            for s, _ in candidates:
                if count >= spec.max_positions:
                    break
                decided[(s, leg)] = 1
                count += 1
        else:
            for (s, leg), (entry, exit_, _last) in events.items():
                if exit_:
                    decided[(s, leg)] = 0
                elif entry:
                    decided[(s, leg)] = 1
        # the session's rows
        day_rows = []
        for s in sorted(started - closed):
            has_bar = s in todays
            last = has_bar and stale[s] and day == last_bar[s]
            for leg in legs:
                if has_bar:
                    overnight = held_before[(s, leg)]
                    ex = executed[(s, leg)]
                    end_side = 0 if last else ex
                    intraday = ex if spec.execution == "next_open" else overnight
                else:
                    overnight = intraday = end_side = executed[(s, leg)]
                target = 0 if last else decided[(s, leg)]
                if last:
                    executed[(s, leg)] = 0
                if target or overnight or intraday or end_side:
                    day_rows.append(
                        (s, leg, target, overnight, intraday, end_side, todays.get(s), last)
                    )
            if last:
                closed.add(s)
        flags[day] = day_rows
    _value(spec, sessions, flags, out)
    return out


@dataclass
class Held:
    """One row of the book: a leg's sides (0/1) at a session, its weights and returns."""

    symbol: str
    side: str
    target: int
    overnight: int
    intraday: int
    end: int
    bar: Row | None
    last: bool
    weights: tuple[float, float, float] = (0.0, 0.0, 0.0)
    returns: tuple[float, float] = (0.0, 0.0)


def _weight(spec: Spec, side: str, flag: int, n: int | None) -> float:
    if not flag:
        return 0.0
    sign = 1 if side == "long" else -1
    if spec.method == "fixed_fraction":
        return sign * flag * spec.fraction
    return sign * flag / n


def _returns(spec: Spec, bar: Row | None) -> tuple[float, float]:
    """The returns the overnight and the intraday weights earn (next_close: close to close)."""
    if bar is None:
        return 0.0, 0.0
    previous = bar["previous_trc"]
    next_open = spec.execution == "next_open"
    if previous is None:
        first = 0.0
    elif next_open:
        first = bar["open"] * bar["dividend_factor"] / previous - 1
    else:
        first = bar["total_return_close"] / previous - 1
    return first, (bar["close"] / bar["open"] - 1 if next_open else 0.0)


def _value(spec: Spec, sessions: list[date], flags: dict, out: Simulated) -> None:
    """Weights, returns, equity and trades from the sides (the accounting of the README)."""
    c, fee = spec.cost_bps / 10_000, spec.cost_per_trade
    next_open = spec.execution == "next_open"
    equity = spec.capital
    previous_end: dict[str, int] = {}
    trades: dict[tuple[str, str], dict[str, object]] = {}
    for day in sessions:
        rows = [Held(*row) for row in flags[day]]
        count_id = {
            leg: sum(1 for r in rows if r.side == leg and r.intraday) for leg in ("long", "short")
        }
        count_end = {
            leg: sum(1 for r in rows if r.side == leg and r.end) for leg in ("long", "short")
        }
        r1 = r2 = to1 = to2 = 0.0
        k1 = k2 = 0
        for r in rows:
            ov = _weight(spec, r.side, r.overnight, previous_end.get(r.side))
            iw = _weight(spec, r.side, r.intraday, count_id[r.side]) if next_open else ov
            ew = _weight(spec, r.side, r.end, count_end[r.side])
            r.weights, r.returns = (ov, iw, ew), _returns(spec, r.bar)
            r1 += ov * r.returns[0]
            r2 += iw * r.returns[1]
            to1, k1 = to1 + abs(iw - ov), k1 + (iw != ov)
            to2, k2 = to2 + abs(ew - iw), k2 + (ew != iw)
            out.positions[(r.symbol, r.side, day)] = (ov, iw, ew, r.target)
        growth = (1 + r1) * (1 - c * to1) * (1 + r2) * (1 - c * to2)
        fixed = -(fee * k1 * (1 + r2) * (1 - c * to2)) - fee * k2
        previous_equity, equity = equity, equity * growth + fixed
        at_open = previous_equity * (1 + r1)
        after_open = at_open * (1 - c * to1) - fee * k1
        at_close = after_open * (1 + r2)
        out.returns[day] = {
            "net_return": equity / previous_equity - 1,
            "equity": equity,
            "gross_return": (1 + r1) * (1 + r2) - 1,
        }
        for r in rows:
            _trade(spec, day, r, trades, out, (previous_equity, at_open, after_open, at_close))
        previous_end = count_end
    for trade in trades.values():
        trade.update(exit_date=None, exit_reason="open", exit_adjusted=trade.get("last_adjusted"))
        out.trades.append(trade)
    for trade in out.trades:
        direction = 1 if trade["side"] == "long" else -1
        trade["gross_return"] = direction * (trade["exit_adjusted"] / trade["entry_adjusted"] - 1)
        trade["net_pnl"] = trade["gross_pnl"] - trade["costs"]


def _trade(spec: Spec, day: date, r: Held, trades: dict, out: Simulated, equities: tuple) -> None:
    """A row's part in its round trip: entry, P&L and costs, exit."""
    previous_equity, at_open, after_open, at_close = equities
    c, fee = spec.cost_bps / 10_000, spec.cost_per_trade
    next_open = spec.execution == "next_open"
    ov, iw, ew = r.weights
    key = (r.symbol, r.side)
    if (r.intraday and not r.overnight) if next_open else (r.end and not r.intraday):
        price = r.bar["open"] if next_open else r.bar["close"]
        trades[key] = {
            "symbol": r.symbol,
            "side": r.side,
            "entry_date": day,
            "entry_price": price,
            "entry_adjusted": price * r.bar["dividend_factor"],
            "entry_value": abs(iw) * at_open if next_open else abs(ew) * at_close,
            "gross_pnl": 0.0,
            "costs": 0.0,
        }
    trade = trades.get(key)
    if trade is None:
        return
    trade["gross_pnl"] += previous_equity * ov * r.returns[0] + after_open * iw * r.returns[1]
    trade["costs"] += (
        c * abs(iw - ov) * at_open
        + (fee if iw != ov else 0)
        + c * abs(ew - iw) * at_close
        + (fee if ew != iw else 0)
    )
    if r.bar is not None:
        trade["last_adjusted"] = r.bar["close"] * r.bar["dividend_factor"]
    if (next_open and r.overnight and not r.intraday) or (r.intraday and not r.end):
        price = r.bar["open"] if next_open and not r.last else r.bar["close"]
        trade.update(
            exit_date=day,
            exit_reason="last_bar" if r.last else "signal",
            exit_adjusted=price * r.bar["dividend_factor"],
        )
        out.trades.append(trades.pop(key))


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(built_warehouse) -> pd.DataFrame:
    return read_inputs(built_warehouse)


@pytest.fixture(scope="module")
def marts(built_warehouse) -> dict[str, pd.DataFrame]:
    return read_marts(built_warehouse)


def read_marts(url: URL) -> dict[str, pd.DataFrame]:
    return {
        "positions": query(
            url,
            "select strategy, symbol, side, trade_date, overnight_weight, intraday_weight, weight,"
            " target from intermediate.int_strategy_positions_simulated where symbol <> '$CASH'",
        ),
        "returns": query(
            url, "select * from marts.fct_strategy_returns order by strategy, trade_date"
        ),
        "trades": query(url, "select * from marts.fct_strategy_trades"),
        "performance": query(url, "select * from marts.fct_strategy_performance"),
    }


# --- the shipped declarations are the ones written again above -------------------------------


def test_the_reference_covers_every_shipped_strategy():
    strategies = declared()["strategies"]
    assert set(strategies) == set(SHIPPED)
    for name, spec in SHIPPED.items():
        d = strategies[name]
        assert d.get("execution", "next_open") == spec.execution, name
        assert d["sizing"].get("method") == spec.method, name
        assert d["sizing"].get("fraction") == spec.fraction, name
        assert d["sizing"].get("max_positions") == spec.max_positions, name
        assert d.get("costs", {}).get("bps", 0) == spec.cost_bps, name
        assert d.get("costs", {}).get("per_trade", 0) == spec.cost_per_trade, name
        assert d.get("rebalance", "daily") == spec.rebalance, name


# --- positions, returns and trades against the loop --------------------------------------------


def assert_close_arrays(
    name: str, got: pd.DataFrame, want: pd.DataFrame, columns: list[str]
) -> None:
    """Every value of `columns` equal within RELATIVE (near 0: 1e-12); names the first misses."""
    for column in columns:
        a, b = got[column].to_numpy(dtype=float), want[column].to_numpy(dtype=float)
        ok = np.isclose(a, b, rtol=RELATIVE, atol=1e-12, equal_nan=True)
        assert ok.all(), (name, column, list(got.index[~ok][:3]), a[~ok][:3], b[~ok][:3])


def assert_matches_reference(url: URL, bars: pd.DataFrame, marts: dict[str, pd.DataFrame],
                             specs: dict[str, Spec] | None = None) -> int:  # fmt: skip
    compared = 0
    specs = specs or SHIPPED
    for name in sorted(specs):
        spec = specs[name]
        ref = simulate(spec, bars)
        key = ["symbol", "side", "trade_date"]
        columns = ["overnight_weight", "intraday_weight", "weight", "target"]
        got = marts["positions"][marts["positions"]["strategy"] == name].set_index(key)[columns]
        want = pd.DataFrame.from_dict(ref.positions, orient="index", columns=columns)
        want.index = pd.MultiIndex.from_tuples(want.index, names=key)
        differ = got.index.symmetric_difference(want.index)
        assert differ.empty, f"{name}: position rows differ: {list(differ[:5])}"
        want = want.loc[got.index]
        assert_close_arrays(name, got, want, columns)
        ret = marts["returns"][marts["returns"]["strategy"] == name].set_index("trade_date")
        assert list(ret.index) == sorted(ref.returns), name
        want = pd.DataFrame.from_dict(ref.returns, orient="index").loc[ret.index]
        assert_close_arrays(name, ret, want, list(want.columns))
        trades = marts["trades"][marts["trades"]["strategy"] == name]
        got_trades = {(t.symbol, t.side, t.entry_date): t for t in trades.itertuples()}
        assert len(got_trades) == len(ref.trades), (name, len(got_trades), len(ref.trades))
        for t in ref.trades:
            row = got_trades[(t["symbol"], t["side"], t["entry_date"])]
            assert row.exit_reason == t["exit_reason"], (name, t)
            if t["exit_date"] is not None:
                assert row.exit_date == t["exit_date"], (name, t)
            for column in (
                "entry_price",
                "entry_value",
                "gross_return",
                "gross_pnl",
                "costs",
                "net_pnl",
            ):
                assert close(getattr(row, column), t[column], absolute=1e-9), (
                    name,
                    column,
                    getattr(row, column),
                    t[column],
                )
        compared += len(ref.positions) + len(ref.returns) + len(ref.trades)
    return compared


def test_positions_returns_and_trades_equal_the_reference_loop(built_warehouse, inputs, marts):
    assert assert_matches_reference(built_warehouse, inputs, marts) > 50_000


# --- every metric against empyrical ------------------------------------------------------------


def empyrical_metrics(ep, r: np.ndarray, b: np.ndarray | None) -> dict[str, float]:
    out = {
        "total_return": ep.cum_returns_final(r),
        "cagr": ep.annual_return(r),
        "annual_volatility": ep.annual_volatility(r),
        "sharpe_ratio": ep.sharpe_ratio(r),
        "sortino_ratio": ep.sortino_ratio(r),
        "downside_risk": ep.downside_risk(r),
        "max_drawdown": ep.max_drawdown(r),
        "calmar_ratio": ep.calmar_ratio(r),
    }
    if b is not None:
        alpha, beta = ep.alpha_beta(r, b)
        out.update(alpha=alpha, beta=beta, information_ratio=ep.excess_sharpe(r, b) * np.sqrt(252))
    for key, value in out.items():  # empyrical's inf/nan (a ratio over 0) is our null
        if value is not None and not np.isfinite(value):
            out[key] = None
    return out


def assert_metrics_equal_empyrical(marts: dict[str, pd.DataFrame], benchmark: str) -> int:
    ep = empyrical()
    returns = marts["returns"].copy()
    returns["year"] = [d.year for d in returns["trade_date"]]
    bench = returns[returns["strategy"] == benchmark].set_index("trade_date")["net_return"]
    performance = marts["performance"].set_index(["strategy", "period"])
    compared = 0
    for (name, period), row in performance.iterrows():
        series = returns[returns["strategy"] == name]
        if period != "all":
            series = series[series["year"] == int(period)]
        r = series.set_index("trade_date")["net_return"]
        aligned = pd.concat([r, bench], axis=1, join="inner")
        expected = empyrical_metrics(ep, r.to_numpy(), None)
        strategy, bench_aligned = aligned.iloc[:, 0].to_numpy(), aligned.iloc[:, 1].to_numpy()
        relative = empyrical_metrics(ep, strategy, bench_aligned)
        expected.update({k: relative[k] for k in ("alpha", "beta", "information_ratio")})
        assert row["sessions"] == len(r)
        for metric, value in expected.items():
            assert close(row[metric], value, absolute=1e-12), (
                name,
                period,
                metric,
                row[metric],
                value,
            )
            compared += 1
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant series: no correlation
            corr = np.corrcoef(aligned.iloc[:, 0], aligned.iloc[:, 1])[0, 1]
        assert close(row["correlation"], corr if np.isfinite(corr) else None, absolute=1e-12), (
            name,
            period,
        )
    return compared


def test_every_metric_of_every_strategy_equals_empyrical(marts):
    benchmark = declared()["strategy_benchmark"]
    compared = assert_metrics_equal_empyrical(marts, benchmark)
    assert compared > 7 * 6 * 11  # 7 strategies, 'all' and 5 years, 11 metrics


def test_trade_statistics_are_those_of_the_trades(marts):
    trades, performance = marts["trades"], marts["performance"].set_index(["strategy", "period"])
    for name in SHIPPED:
        closed = trades[(trades["strategy"] == name) & ~trades["is_open"]]
        row = performance.loc[(name, "all")]
        assert row["trades"] == len(closed)
        if len(closed):
            wins, losses = closed[closed["net_pnl"] > 0], closed[closed["net_pnl"] < 0]
            assert close(row["trade_win_rate"], len(wins) / len(closed))
            assert close(
                row["profit_factor"],
                wins["net_pnl"].sum() / -losses["net_pnl"].sum() if len(losses) else None,
            )
            assert close(row["expectancy"], closed["net_pnl"].mean())
            assert close(row["average_holding_sessions"], closed["holding_sessions"].mean())


# --- no look-ahead -----------------------------------------------------------------------------


def test_changing_every_price_after_a_session_changes_nothing_decided_up_to_it(warehouse_copy):
    t = date(2016, 6, 15)
    before = read_marts(warehouse_copy)
    rng = np.random.default_rng(21)
    with transaction(warehouse_copy) as cur:
        cur.execute("select symbol, trade_date from raw.daily_bars where trade_date > %s", (t,))
        keys = cur.fetchall()
        factors = rng.uniform(0.7, 1.3, len(keys))
        cur.execute("create temporary table moved (symbol text, trade_date date, factor numeric)")
        cur.executemany(
            "insert into moved values (%s, %s, %s)",
            [(s, d, float(f)) for (s, d), f in zip(keys, factors, strict=True)],
        )
        cur.execute(
            "update raw.daily_bars as b set open = b.open * m.factor, high = b.high * m.factor,"
            " low = b.low * m.factor, close = b.close * m.factor, loaded_at = now()"
            " from moved as m where b.symbol = m.symbol and b.trade_date = m.trade_date"
        )
    assert dbt(warehouse_copy, "run", "--exclude", "path:models/marts/quality").success
    after = read_marts(warehouse_copy)
    # decisions up to t, and the book executed at t+1 (decided at t), are unchanged
    sessions = sorted(set(before["returns"]["trade_date"]))
    next_session = sessions[sessions.index(t) + 1]
    key = ["strategy", "symbol", "side", "trade_date"]

    def held(frame: pd.DataFrame, upto: date, exactly: bool = False) -> pd.DataFrame:
        rows = frame[frame["trade_date"] == upto] if exactly else frame[frame["trade_date"] <= upto]
        if exactly:
            rows = rows.loc[
                (rows["intraday_weight"] != 0) | (rows["weight"] != 0),
                [*key, "intraday_weight", "weight"],
            ]
        return rows.sort_values(key).reset_index(drop=True)

    pd.testing.assert_frame_equal(
        held(before["positions"], t), held(after["positions"], t), check_exact=True
    )
    pd.testing.assert_frame_equal(
        held(before["positions"], next_session, exactly=True),
        held(after["positions"], next_session, exactly=True),
        check_exact=True,
    )
    columns = ["strategy", "trade_date", "net_return", "equity", "gross_exposure", "turnover"]
    upto_before = (
        before["returns"].loc[before["returns"]["trade_date"] <= t, columns].reset_index(drop=True)
    )
    upto_after = (
        after["returns"].loc[after["returns"]["trade_date"] <= t, columns].reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(upto_before, upto_after, check_exact=True)
    # and the change reached the marts after t (the test would pass vacuously otherwise)
    later = (
        after["returns"].loc[after["returns"]["trade_date"] > next_session, "net_return"].to_numpy()
    )
    assert not np.array_equal(
        later,
        before["returns"]
        .loc[before["returns"]["trade_date"] > next_session, "net_return"]
        .to_numpy(),
    )


# --- costs -------------------------------------------------------------------------------------


def test_doubling_the_costs_changes_only_the_costs(warehouse_copy):
    base = read_marts(warehouse_copy)
    strategies = declared()["strategies"]
    for spec in strategies.values():
        costs = spec.setdefault("costs", {})
        costs["bps"] = 2 * costs.get("bps", 0)
        costs["per_trade"] = 2 * costs.get("per_trade", 0)
    vars_ = yaml.safe_dump({"strategies": strategies})
    assert dbt(warehouse_copy, "run", "--select", STRATEGY_MODELS, "--vars", vars_).success
    doubled = read_marts(warehouse_copy)
    # the decisions and the book do not depend on the costs
    key = ["strategy", "symbol", "side", "trade_date"]
    pd.testing.assert_frame_equal(
        base["positions"].sort_values(key).reset_index(drop=True),
        doubled["positions"].sort_values(key).reset_index(drop=True),
        check_exact=True,
    )
    for frame in (base, doubled):
        trades = frame["trades"]
        # net = gross - costs, trade by trade, in money and in return
        assert np.allclose(
            trades["net_pnl"], trades["gross_pnl"] - trades["costs"], rtol=0, atol=1e-9
        )
        net = trades["gross_return"] - trades["costs"] / trades["entry_value"]
        assert np.allclose(trades["net_return"], net, rtol=0, atol=1e-12)
    a = base["trades"].set_index(["strategy", "symbol", "side", "entry_date"]).sort_index()
    b = doubled["trades"].set_index(["strategy", "symbol", "side", "entry_date"]).sort_index()
    assert list(a.index) == list(b.index)
    assert (a["gross_return"] == b["gross_return"]).all()
    costly = a["costs"] > 0
    assert costly.sum() > 1000 and (b.loc[costly, "costs"] > a.loc[costly, "costs"]).all()
    assert (b.loc[~costly, "costs"] == 0).all()  # the benchmarks trade without costs
    ret_a = base["returns"].set_index(["strategy", "trade_date"])
    ret_b = doubled["returns"].set_index(["strategy", "trade_date"])
    assert (ret_a["turnover"] == ret_b["turnover"]).all()
    assert (ret_a["gross_return"] == ret_b["gross_return"]).all()
    # and the doubled costs are the reference's, trade by trade and session by session
    specs = {
        name: replace(spec, cost_bps=2 * spec.cost_bps, cost_per_trade=2 * spec.cost_per_trade)
        for name, spec in SHIPPED.items()
    }
    assert (
        assert_matches_reference(warehouse_copy, read_inputs(warehouse_copy), doubled, specs)
        > 50_000
    )


# --- increments --------------------------------------------------------------------------------


def snapshot(url: URL) -> dict[str, pd.DataFrame]:
    drop = ["built_at", "positions_built_at", "inputs_loaded_at"]
    tables = {
        "intermediate.int_strategy_positions_simulated": "strategy, symbol, side, trade_date",
        "marts.fct_strategy_returns": "strategy, trade_date",
        "marts.fct_strategy_trades": "strategy, symbol, side, entry_date",
        "marts.fct_strategy_performance": "strategy, period",
    }
    return {
        t: query(url, f"select * from {t} order by {k}").drop(columns=drop, errors="ignore")
        for t, k in tables.items()
    }


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True, obj=table)


def built_at(url: URL) -> dict[str, object]:
    frame = query(
        url,
        "select strategy, max(built_at) as built_at"
        " from intermediate.int_strategy_positions_simulated"
        " where symbol = '$CASH' group by strategy",
    )
    return dict(zip(frame["strategy"], frame["built_at"], strict=True))


def test_new_sessions_are_appended_exactly_and_a_changed_declaration_recomputes_only_it(
    warehouse_copy,
):
    """KO stops trading on 2017-05-31 (stale: its positions close at its last bar); the last
    three sessions land one at a time; then the same warehouse from scratch."""
    url = warehouse_copy
    run = ("run", "--exclude", "path:models/marts/quality")
    last_days = ["2018-02-05", "2018-02-06", "2018-02-07"]
    with transaction(url) as cur:
        cur.execute("delete from raw.daily_bars where symbol = 'KO' and trade_date > '2017-05-31'")
        cur.execute(
            "create table public.held_back as"
            " select * from raw.daily_bars where trade_date::text = any(%s)",
            (last_days,),
        )
        cur.execute("delete from raw.daily_bars where trade_date::text = any(%s)", (last_days,))
    assert dbt(url, *run, "--full-refresh").success
    for day in last_days:  # one session at a time, as the daily pipeline lands them
        with transaction(url) as cur:
            cur.execute(
                "insert into raw.daily_bars"
                " select * from public.held_back where trade_date::text = %s",
                (day,),
            )
            cur.execute(
                "update raw.daily_bars set loaded_at = clock_timestamp()"
                " where trade_date::text = %s",
                (day,),
            )
        assert dbt(url, *run).success
        recomputed = query(
            url,
            "select strategy, array_agg(trade_date::text order by trade_date) as sessions"
            " from intermediate.int_strategy_positions_simulated where symbol = '$CASH'"
            " and built_at = ("
            "   select max(built_at) from intermediate.int_strategy_positions_simulated)"
            " group by strategy",
        )
        # every strategy computed the new session, and only it
        assert set(recomputed["strategy"]) == set(SHIPPED)
        assert all(list(sessions) == [day] for sessions in recomputed["sessions"]), recomputed
    appended = snapshot(url)
    assert dbt(url, *run, "--full-refresh").success
    assert_same(appended, snapshot(url))
    # the stale symbol's positions closed at its last bar, as the reference closes them
    marts = read_marts(url)
    stale = marts["trades"][marts["trades"]["symbol"] == "KO"]
    assert (stale["exit_reason"] == "last_bar").any() and not stale["is_open"].any()
    assert (stale.loc[stale["exit_reason"] == "last_bar", "exit_date"] == date(2017, 5, 31)).all()
    assert assert_matches_reference(url, read_inputs(url), marts) > 50_000
    # a changed declaration: only that strategy is recomputed
    stamps = built_at(url)
    strategies = declared()["strategies"]
    strategies["rsi_reversion"]["exit"] = "rsi_14 > 55"
    assert dbt(url, *run, "--vars", yaml.safe_dump({"strategies": strategies})).success
    changed = {name for name, at in built_at(url).items() if at != stamps[name]}
    assert changed == {"rsi_reversion"}


# --- the flow ----------------------------------------------------------------------------------


def test_the_backtest_flow_builds_the_asked_strategies_and_leaves_the_table(
    prefect_api, warehouse_copy, monkeypatch
):
    from flows.backtest import ARTIFACT_KEY, backtest
    from tests.integration.test_ingest_files_flow import artifact

    monkeypatch.setenv("WAREHOUSE_URL", warehouse_copy.render_as_string(hide_password=False))
    state = backtest(["sma_trend"], start="2015-01-02", cost_bps=10.0, return_state=True)
    assert state.is_completed(), state.message
    shown = [r["strategy"] for r in state.result()]
    assert shown == ["sma_trend", "buy_and_hold_benchmark", "equal_weight_universe"]
    markdown = artifact(state, ARTIFACT_KEY)
    assert "# Backtest (costs 10 bps per side)" in markdown and "| sma_trend |" in markdown
    assert "rsi_reversion" not in markdown
    perf = query(
        warehouse_copy,
        "select strategy, first_date, cost_bps from marts.fct_strategy_performance"
        " where period = 'all'",
    ).set_index("strategy")
    assert perf.at["sma_trend", "first_date"] == date(2015, 1, 2)
    assert perf.at["sma_trend", "cost_bps"] == 10
    assert perf.at["equal_weight_universe", "first_date"] == date(2015, 1, 2)
    assert perf.at["equal_weight_universe", "cost_bps"] == 0  # benchmarks: no costs
    # the strategies not asked for are as they were
    assert perf.at["rsi_reversion", "first_date"] == date(2013, 2, 8)
    assert perf.at["rsi_reversion", "cost_bps"] == 5


# --- declarations ------------------------------------------------------------------------------


def test_a_bad_declaration_fails_parse_naming_the_strategy_and_the_column(built_warehouse):
    strategies = declared()["strategies"]
    strategies["rsi_reversion"]["entry"] = "rsi_15 < 30"
    result = dbt(built_warehouse, "parse", "--vars", yaml.safe_dump({"strategies": strategies}))
    assert not result.success
    message = str(result.exception)
    assert "strategy 'rsi_reversion'" in message and "rsi_15" in message, message
    strategies = declared()["strategies"]
    strategies["sma_trend"]["sizing"]["method"] = "kelly"
    result = dbt(built_warehouse, "parse", "--vars", yaml.safe_dump({"strategies": strategies}))
    assert (
        not result.success
        and "strategy 'sma_trend'" in str(result.exception)
        and "kelly" in str(result.exception)
    )
    strategies = declared()["strategies"]
    strategies["macd_cross"]["stop_loss"] = 0.1
    result = dbt(built_warehouse, "parse", "--vars", yaml.safe_dump({"strategies": strategies}))
    assert (
        not result.success
        and "strategy 'macd_cross'" in str(result.exception)
        and "stop_loss" in str(result.exception)
    )


def test_a_rule_that_never_fires_gives_no_trades_and_null_ratios(warehouse_copy):
    strategies = declared()["strategies"]
    strategies["rsi_reversion"]["entry"] = "rsi_14 < -1"
    assert dbt(
        warehouse_copy,
        "run",
        "--select",
        STRATEGY_MODELS,
        "--vars",
        yaml.safe_dump({"strategies": strategies}),
    ).success
    perf = query(
        warehouse_copy,
        "select * from marts.fct_strategy_performance"
        " where strategy = 'rsi_reversion' and period = 'all'",
    )
    row = perf.iloc[0]
    assert row["trades"] == 0 and row["total_return"] == 0 and row["max_drawdown"] == 0
    for ratio in (
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
        "profit_factor",
        "trade_win_rate",
    ):
        assert row[ratio] is None or np.isnan(row[ratio]), ratio
