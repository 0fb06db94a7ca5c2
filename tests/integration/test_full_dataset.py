"""Every indicator agrees with TA-Lib on the whole all_stocks_5yr.csv (505 symbols, 619,040 rows,
with its real gaps, late starters and NaN rows), fed the series the warehouse holds."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.db import migrate
from ingest.landing import ingest_file
from ingest.sessions import calendar_start, land_sessions
from tests.conftest import SHARED_DATA
from tests.integration.conftest import create_database, dbt, drop_database, query
from tests.integration.test_indicators import INDICATORS, assert_matches_talib, talib_reference
from tests.integration.test_marts import build

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


def test_the_symbol_dimension_and_sessions_cover_all_505_symbols(full_warehouse):
    """dim_symbols, dim_symbol_history and dim_sessions on the whole set, with no reference flow
    run: every symbol has a row, its facts from its bars, and every bar one version."""
    land_sessions(full_warehouse, start=calendar_start(full_warehouse, date(1990, 1, 1)))
    build(full_warehouse, "+dim_symbols", "dim_sessions", "--exclude", "+fct_daily_indicators")
    symbols = query(full_warehouse, "select * from marts.dim_symbols")
    assert len(symbols) == symbols.symbol.nunique() == 505
    assert symbols[["security_name", "sector", "name_source", "sector_source"]].isna().all().all()
    assert (symbols.listed_on == symbols.first_trade_date).all()
    assert set(symbols.listed_on_source) == set(symbols.status_source) == {"bars"}
    assert symbols.is_active.all() and (symbols.last_trade_date == date(2018, 2, 7)).all()
    landed = query(
        full_warehouse,
        "select symbol, min(trade_date) as first_trade_date, max(trade_date) as last_trade_date,"
        " count(*) as bar_count from raw.daily_bars group by symbol",
    )
    columns = ["first_trade_date", "last_trade_date", "bar_count"]
    assert symbols.set_index("symbol")[columns].to_dict("index") == (
        landed.set_index("symbol")[columns].to_dict("index")
    )
    assert query(
        full_warehouse,
        """select (select count(*) from marts.dim_symbol_history) as versions,
                  (select count(*) from marts.fct_daily_bars) as bars,
                  (select count(*) from marts.fct_daily_bars as b
                   join marts.dim_symbol_history as h on h.symbol = b.symbol
                       and b.trade_date >= h.valid_from and b.trade_date < h.valid_to) as joined,
                  (select session_date from marts.dim_sessions
                   where is_latest_complete) as today""",
    ).iloc[0].to_dict() == {
        "versions": 505,
        "bars": 619_017,
        "joined": 619_017,
        "today": date(2018, 2, 7),
    }
