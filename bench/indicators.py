"""The indicator set, as TA-Lib (Classic mode) computes it: what the dbt engine must reproduce.

Same definitions as the integration tests' `talib_reference` (tests/integration/test_indicators.py);
the benchmark keeps its own copy so that it does not import the test suite.
"""

from __future__ import annotations

import numpy as np
import talib

INDICATORS: tuple[str, ...] = (
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

# MACD and its signal/histogram are differences of EMAs and cross zero, where a relative
# comparison means nothing: they are compared to 1e-12 of the price level instead (as the tests do).
PRICE_SCALED: frozenset[str] = frozenset({"macd", "macd_signal", "macd_hist"})

RTOL = 1e-9
PRICE_ATOL = 1e-12


def talib_indicators(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray
) -> dict[str, np.ndarray]:
    """Every indicator of INDICATORS for one symbol's ordered bars (NaN in the warm-up)."""
    n = len(close)
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, talib.MA_Type.SMA)
    volatility = np.full(n, np.nan)
    if n > 1:
        log_returns = np.log(close[1:] / close[:-1])
        # sample sigma of 20 log returns = TA-Lib's population STDDEV * sqrt(20/19)
        volatility[1:] = talib.STDDEV(log_returns, 20, 1.0) * np.sqrt(20 / 19) * np.sqrt(252)
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
        "atr_14": talib.ATR(high, low, close, 14),
        "obv": talib.OBV(close, volume),
        "volatility_20": volatility,
    }


def mismatches(column: str, got: np.ndarray, expected: np.ndarray, close: np.ndarray) -> int:
    """How many values differ: null where the other is not, or beyond the tolerance."""
    got_nan, expected_nan = np.isnan(got), np.isnan(expected)
    both = ~got_nan & ~expected_nan
    error = np.abs(got[both] - expected[both])
    allowed = RTOL * np.abs(expected[both])
    if column in PRICE_SCALED:
        allowed = np.maximum(allowed, PRICE_ATOL * np.abs(close[both]))
    return int((got_nan != expected_nan).sum() + (error > allowed).sum())
