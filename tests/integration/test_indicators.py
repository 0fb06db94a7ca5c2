"""dbt builds the marts, and every indicator agrees with TA-Lib on the bundled sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.indicators import INDICATORS, allowed_error, registry, talib_indicators
from tests.integration.conftest import dbt, query

pytestmark = pytest.mark.integration


def talib_reference(
    close: np.ndarray, high: np.ndarray, low: np.ndarray, volume: np.ndarray
) -> dict[str, np.ndarray]:
    """What TA-Lib (Classic mode) gives for every registry column of the same ordered series."""
    return talib_indicators(high, low, close, volume)


def assert_matches_talib(
    symbol: str,
    column: str,
    got: np.ndarray,
    expected: np.ndarray,
    close: np.ndarray,
    ad: np.ndarray | None = None,
) -> int:
    """Same null mask as TA-Lib, values within tolerance; returns how many values compared."""
    assert np.array_equal(np.isnan(expected), np.isnan(got)), (
        f"{symbol} {column}: null where TA-Lib is NaN must match "
        f"({np.isnan(expected).sum()} vs {np.isnan(got).sum()} nulls)"
    )
    valid = ~np.isnan(expected)
    error = np.abs(got[valid] - expected[valid])
    allowed = allowed_error(
        column, expected[valid], close[valid], None if ad is None else ad[valid]
    )
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
    # the mart's columns are the registry's, in its order (macros/indicator_registry.sql)
    assert list(indicators.columns) == ["symbol", "trade_date", "bar_number", "close", *INDICATORS]


@pytest.mark.parametrize("column", INDICATORS)
def test_indicator_agrees_with_talib(bars, indicators, column):
    checked = 0
    for symbol, series in bars.groupby("symbol", sort=True):
        arrays = {c: series[c].to_numpy(dtype=float) for c in ("high", "low", "close", "volume")}
        expected = talib_reference(**arrays)
        got = indicators.loc[indicators["symbol"] == symbol, column].to_numpy(dtype=float)
        checked += assert_matches_talib(
            symbol, column, got, expected[column], arrays["close"], expected.get("ad")
        )
    assert checked > 15_000


def test_warm_up_lengths_follow_talib_lookbacks(indicators):
    aapl = indicators[indicators["symbol"] == "AAPL"].reset_index(drop=True)
    first_valid = {c: int(aapl[c].first_valid_index()) + 1 for c in INDICATORS}
    assert first_valid == {c.name: c.first_bar for c in registry()}
    assert first_valid["macd"] == 34 and first_valid["tema_30"] == 88 and first_valid["ad"] == 1


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
