"""fct_hourly_indicators on real hourly bars (AAPL, 1h, 2024-2025, as yfinance downloads them),
landed through the intraday landing path, agrees with TA-Lib bar for bar."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from ingest.db import migrate, transaction
from ingest.intraday import land_intraday_rows
from tests.conftest import SHARED_DATA
from tests.integration.conftest import dbt, query
from tests.integration.test_indicators import INDICATORS, assert_matches_talib, talib_reference

pytestmark = pytest.mark.integration

HOURLY = SHARED_DATA / "prices" / "intraday" / "AAPL_1h_yfinance.csv"


def test_hourly_indicators_agree_with_talib(warehouse_url):
    migrate(warehouse_url)
    frame = pd.read_csv(HOURLY, skiprows=[1, 2])  # yfinance's 3-line header
    rows = [
        (
            "AAPL",
            pd.Timestamp(r.Price).to_pydatetime(),
            r.Open,
            r.High,
            r.Low,
            r.Close,
            r.Volume,
            "America/New_York",
        )
        for r in frame.itertuples()
    ]
    with transaction(warehouse_url) as cur:
        result = land_intraday_rows(
            cur, rows, source="yahoo", bar_interval="1h", load_run_id=uuid.uuid4()
        )
    assert len(rows) == 3299 and not result.rejected
    result = dbt(warehouse_url, "build", "--select", "+fct_hourly_indicators")
    assert result.success, result.exception

    bars = query(
        warehouse_url,
        "select high, low, close, volume, bar_start from"
        " intermediate.int_hourly_bars_adjusted order by bar_start",
    )
    indicators = query(
        warehouse_url, "select * from marts.fct_hourly_indicators order by bar_start"
    )
    assert len(bars) == len(indicators) > 3000
    assert indicators["trade_date"].iloc[0].isoformat() == "2024-01-02"
    arrays = {c: bars[c].to_numpy(dtype=float) for c in ("high", "low", "close", "volume")}
    expected = talib_reference(**arrays)
    for column in INDICATORS:
        assert_matches_talib(
            "AAPL 1h",
            column,
            indicators[column].to_numpy(dtype=float),
            expected[column],
            arrays["close"],
            expected.get("ad"),
        )
    assert np.isclose(indicators["close"].iloc[0], 186.1898956298828)
