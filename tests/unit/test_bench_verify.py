"""The benchmark's correctness checks: tolerances and the comparison query (pure parts)."""

from __future__ import annotations

import numpy as np

from bench import verify
from bench.indicators import INDICATORS, mismatches, talib_indicators


def test_mismatches_counts_null_mask_and_tolerance_differences():
    close = np.array([10.0, 10.0, 10.0, 10.0])
    expected = np.array([np.nan, 1.0, 2.0, 3.0])
    assert mismatches("sma_20", expected.copy(), expected, close) == 0
    assert mismatches("sma_20", np.array([np.nan, 1.0 + 1e-12, 2.0, 3.0]), expected, close) == 0
    assert mismatches("sma_20", np.array([np.nan, 1.0 + 1e-6, 2.0, 3.0]), expected, close) == 1
    assert mismatches("sma_20", np.array([0.0, 1.0, np.nan, 3.0]), expected, close) == 2


def test_macd_near_zero_is_compared_to_the_price_level():
    close = np.array([100.0])
    assert mismatches("macd", np.array([1e-11]), np.array([2e-11]), close) == 0
    assert mismatches("sma_20", np.array([1e-11]), np.array([2e-11]), close) == 1


def test_talib_indicators_cover_the_set_with_talib_warm_ups():
    rng = np.random.default_rng(7)
    close = 100 + np.cumsum(rng.normal(size=250))
    values = talib_indicators(close + 1, close - 1, close, np.full(250, 1000.0))
    assert set(values) == set(INDICATORS)
    first = {c: int(np.flatnonzero(~np.isnan(v))[0]) + 1 for c, v in values.items()}
    assert first["sma_200"] == 200 and first["macd"] == 34 and first["rsi_14"] == 15
    assert first["volatility_20"] == 21 and first["obv"] == 1
    assert all(len(v) == 250 for v in values.values())
    one_bar = talib_indicators(close[:1], close[:1], close[:1], np.ones(1))
    assert np.isnan(one_bar["volatility_20"]).all()


def test_comparison_sql_checks_every_indicator_on_a_full_join():
    sql = verify.comparison_sql("a.x", "b.y")
    assert "from a.x as l full join b.y as r" in sql
    for column in INDICATORS:
        assert f") as {column}" in sql
    assert "greatest(1e-09 * abs(r.macd), 1e-12 * abs(r.close))" in sql


def test_differences_summarised_per_column():
    row = {"joined": 10, "missing_left": 0, "missing_right": 0, "sma_20": 0, "rsi_14": 2}
    check = verify.summarise_differences("x", row)
    assert not check.ok and check.detail == "differences: rsi_14 2"
    assert verify.summarise_differences("x", {"joined": 10, "sma_20": 0}).ok
    assert verify.row_count_check("c", {"raw": 3, "dbt": 3}).ok
    assert not verify.row_count_check("c", {"raw": 3, "dbt": 2}).ok
