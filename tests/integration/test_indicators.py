"""dbt builds the marts, and every indicator agrees with TA-Lib on the bundled sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from tests.integration.conftest import dbt, query

pytestmark = pytest.mark.integration

RTOL = 1e-9
# MACD, its signal and histogram are differences of EMAs and cross zero, where no relative
# comparison is meaningful: both TA-Lib and SQL carry ~1 ulp of the price level there. They are
# compared to 1e-9 relative or 1e-12 of the price level, whichever is larger (measured: 5e-15).
PRICE_SCALED = {"macd", "macd_signal", "macd_hist"}
INDICATORS = (
    "sma_20",
    "sma_50",
    "sma_200",
    "ema_12",
    "ema_26",
    "ema_50",
    "ema_200",
    "macd",
    "macd_signal",
    "macd_hist",
    "rsi_14",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "atr_14",
    "obv",
    "volatility_20",
)


def talib_reference(
    close: np.ndarray,
    high: np.ndarray | None = None,
    low: np.ndarray | None = None,
    volume: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """What TA-Lib (Classic mode) gives for the same ordered series."""
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, talib.MA_Type.SMA)
    log_returns = np.log(close[1:] / close[:-1])
    # sample sigma of 20 log returns = TA-Lib's population STDDEV * sqrt(20/19)
    vol = talib.STDDEV(log_returns, 20, 1.0) * np.sqrt(20 / 19) * np.sqrt(252)
    return {
        "sma_20": talib.SMA(close, 20),
        "sma_50": talib.SMA(close, 50),
        "sma_200": talib.SMA(close, 200),
        "ema_12": talib.EMA(close, 12),
        "ema_26": talib.EMA(close, 26),
        "ema_50": talib.EMA(close, 50),
        "ema_200": talib.EMA(close, 200),
        "macd": macd,
        "macd_signal": signal,
        "macd_hist": hist,
        "rsi_14": talib.RSI(close, 14),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
        "volatility_20": np.concatenate([[np.nan], vol]),
        "atr_14": talib.ATR(high, low, close, 14) if high is not None else None,
        "obv": talib.OBV(close, volume) if volume is not None else None,
    }


def assert_matches_talib(
    symbol: str, column: str, got: np.ndarray, expected: np.ndarray, close: np.ndarray
) -> int:
    """Same null mask as TA-Lib, values within tolerance; returns how many values compared."""
    assert np.array_equal(np.isnan(expected), np.isnan(got)), (
        f"{symbol} {column}: null where TA-Lib is NaN must match "
        f"({np.isnan(expected).sum()} vs {np.isnan(got).sum()} nulls)"
    )
    valid = ~np.isnan(expected)
    scale = 1e-12 * np.abs(close[valid]) if column in PRICE_SCALED else 0.0
    error = np.abs(got[valid] - expected[valid])
    allowed = np.maximum(RTOL * np.abs(expected[valid]), scale)
    worst = int(np.argmax(error - allowed)) if valid.any() else 0
    assert (error <= allowed).all(), (
        f"{symbol} {column}: row {worst} got {got[valid][worst]!r}, "
        f"TA-Lib {expected[valid][worst]!r}"
    )
    return int(valid.sum())


@pytest.fixture(scope="module")
def indicators(built_warehouse) -> pd.DataFrame:
    return query(
        built_warehouse, "select * from marts.fct_daily_indicators order by symbol, trade_date"
    )


@pytest.fixture(scope="module")
def bars(built_warehouse) -> pd.DataFrame:
    return query(
        built_warehouse,
        "select symbol, trade_date, high, low, close, volume from marts.fct_daily_bars"
        " order by symbol, trade_date",
    )


def test_marts_hold_every_landed_bar(built_warehouse, bars, indicators):
    raw = query(built_warehouse, "select count(*) as n from raw.daily_bars")["n"][0]
    assert len(bars) == len(indicators) == raw == 22202
    assert bars["symbol"].nunique() == 20


@pytest.mark.parametrize("column", INDICATORS)
def test_indicator_agrees_with_talib(bars, indicators, column):
    checked = 0
    for symbol, series in bars.groupby("symbol", sort=True):
        arrays = {c: series[c].to_numpy(dtype=float) for c in ("high", "low", "close", "volume")}
        expected = talib_reference(**arrays)[column]
        got = indicators.loc[indicators["symbol"] == symbol, column].to_numpy(dtype=float)
        checked += assert_matches_talib(symbol, column, got, expected, arrays["close"])
    assert checked > 15_000


def test_warm_up_lengths_follow_talib_lookbacks(indicators):
    aapl = indicators[indicators["symbol"] == "AAPL"].reset_index(drop=True)
    first_valid = {c: int(aapl[c].first_valid_index()) + 1 for c in INDICATORS}
    assert first_valid == {
        "sma_20": 20,
        "sma_50": 50,
        "sma_200": 200,
        "ema_12": 12,
        "ema_26": 26,
        "ema_50": 50,
        "ema_200": 200,
        "macd": 34,
        "macd_signal": 34,
        "macd_hist": 34,
        "rsi_14": 15,
        "bb_upper": 20,
        "bb_middle": 20,
        "bb_lower": 20,
        "atr_14": 15,
        "obv": 1,
        "volatility_20": 21,
    }


def test_a_short_history_is_all_warm_up_for_long_windows(indicators):
    aptv = indicators[indicators["symbol"] == "APTV"]
    assert len(aptv) == 44
    assert aptv["sma_50"].isna().all() and aptv["sma_200"].isna().all()
    assert aptv["macd"].notna().sum() == 44 - 33


def test_rebuilding_changes_nothing(warehouse_copy):
    sql = (
        "select md5(string_agg(t::text, '|' order by symbol, trade_date)) as h"
        " from marts.fct_daily_indicators t"
    )
    before = query(warehouse_copy, sql)["h"][0]
    assert dbt(warehouse_copy, "run").success
    assert query(warehouse_copy, sql)["h"][0] == before


def test_a_failing_dbt_test_is_reported_by_node(warehouse_copy):
    from ingest.db import transaction

    with transaction(warehouse_copy) as cur:  # bypass landing checks on purpose
        cur.execute("""insert into raw.daily_bars
            (source, symbol, trade_date, open, high, low, close, volume, load_run_id)
            values ('files', 'ZZZ', '2020-01-02', 10, 9, 11, 10, 1, gen_random_uuid())""")
    result = dbt(warehouse_copy, "build")
    assert not result.success
    failed = [r.node.name for r in result.result.results if r.status in ("fail", "error")]
    assert any(name.startswith("expression_is_true_stg_raw__daily_bars") for name in failed)
