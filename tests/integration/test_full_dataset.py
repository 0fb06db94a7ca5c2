"""Every indicator agrees with TA-Lib on the whole all_stocks_5yr.csv (505 symbols, 619,040 rows,
with its real gaps, late starters and NaN rows), fed the series the warehouse holds."""

from __future__ import annotations

import pytest

from ingest.db import migrate
from ingest.landing import ingest_file
from tests.conftest import SHARED_DATA
from tests.integration.conftest import create_database, dbt, drop_database, query
from tests.integration.test_indicators import INDICATORS, assert_matches_talib, talib_reference

pytestmark = pytest.mark.integration

ALL_STOCKS = SHARED_DATA / "prices" / "all_stocks_5yr.csv"


@pytest.fixture(scope="module")
def full_warehouse(pg_server):
    url = create_database(pg_server)
    migrate(url)
    outcome = ingest_file(url, ALL_STOCKS)
    assert outcome.ok and outcome.received == 619_040
    assert outcome.rejected == 23  # NaN prices and OHLC violations, quarantined
    result = dbt(url, "run", "--select", "+fct_daily_indicators")
    assert result.success, result.exception
    yield url
    drop_database(pg_server, url)


def test_all_505_symbols_agree_with_talib(full_warehouse):
    bars = query(
        full_warehouse,
        "select symbol, high, low, close, volume"
        " from intermediate.int_daily_bars_adjusted"
        " order by symbol, trade_date",
    )
    indicators = query(
        full_warehouse, "select * from marts.fct_daily_indicators order by symbol, trade_date"
    )
    assert len(bars) == len(indicators) == 619_017
    assert bars["symbol"].nunique() == 505
    compared = 0
    for (symbol, series), (_, computed) in zip(
        bars.groupby("symbol"), indicators.groupby("symbol"), strict=True
    ):
        arrays = {c: series[c].to_numpy(dtype=float) for c in ("high", "low", "close", "volume")}
        expected = talib_reference(**arrays)
        for column in INDICATORS:
            compared += assert_matches_talib(
                symbol,
                column,
                computed[column].to_numpy(dtype=float),
                expected[column],
                arrays["close"],
                expected.get("ad"),
            )
    assert compared > 9_000_000
