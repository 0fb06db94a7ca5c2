"""The strategy marts on the larger real datasets: all_stocks_5yr.csv (505 symbols, 619,040 rows,
with its gaps and late starters) and the Alpha Vantage 1999-2020 histories (raw prices with their
splits and dividends: total returns, SPY as the benchmark). Positions, returns and trades equal
the reference loop of test_strategies.py; every metric equals empyrical-reloaded."""

from __future__ import annotations

import uuid

import pytest

from ingest.actions import land_actions
from ingest.db import migrate, transaction
from ingest.landing import ingest_file
from tests.conftest import SHARED_DATA
from tests.integration.conftest import create_database, dbt, drop_database
from tests.integration.test_corporate_actions import SYMBOLS, alpha_vantage, events
from tests.integration.test_strategies import (
    assert_matches_reference,
    assert_metrics_equal_empyrical,
    declared,
    read_inputs,
    read_marts,
)

pytestmark = pytest.mark.integration

ALL_STOCKS = SHARED_DATA / "prices" / "all_stocks_5yr.csv"
# the strategy marts and everything they read; not the data-quality marts
BUILD = ("run", "--select", "+fct_strategy_performance")


@pytest.fixture(scope="module")
def all_stocks(pg_server):
    url = create_database(pg_server)
    migrate(url)
    assert ingest_file(url, ALL_STOCKS).ok
    result = dbt(url, *BUILD)
    assert result.success, result.exception
    yield url
    drop_database(pg_server, url)


@pytest.fixture(scope="module")
def long_histories(pg_server, tmp_path_factory):
    """The nine histories landed raw, with every split and dividend."""
    url = create_database(pg_server)
    migrate(url)
    folder = tmp_path_factory.mktemp("alpha_vantage")
    actions = []
    for symbol in SYMBOLS:
        frame = alpha_vantage(symbol)
        bars = frame.assign(symbol=symbol).rename(columns={"timestamp": "date"})[
            ["symbol", "date", "open", "high", "low", "close", "volume"]
        ]
        path = folder / f"{symbol}.csv"
        bars.to_csv(path, index=False)
        assert ingest_file(url, path).ok
        actions += events(symbol, frame)
    with transaction(url) as cur:
        land_actions(cur, actions, source="files", load_run_id=uuid.uuid4())
    result = dbt(url, *BUILD)
    assert result.success, result.exception
    yield url
    drop_database(pg_server, url)


def test_505_symbols_equal_the_reference_and_empyrical(all_stocks):
    marts = read_marts(all_stocks)
    assert marts["returns"]["strategy"].nunique() == 7
    assert assert_matches_reference(all_stocks, read_inputs(all_stocks), marts) > 800_000
    assert assert_metrics_equal_empyrical(marts, declared()["strategy_benchmark"]) > 7 * 6 * 11


def test_alpha_vantage_histories_with_dividends_equal_the_reference_and_empyrical(long_histories):
    marts = read_marts(long_histories)
    bench = marts["trades"][marts["trades"]["strategy"] == "buy_and_hold_benchmark"]
    assert list(bench["symbol"]) == ["SPY"]  # the benchmark symbol, present here
    # SPY paid dividends: its total return beats its price change
    spy = bench.iloc[0]
    assert spy["gross_return"] > spy["exit_price"] / spy["entry_price"] - 1 + 0.5
    assert assert_matches_reference(long_histories, read_inputs(long_histories), marts) > 100_000
    assert assert_metrics_equal_empyrical(marts, declared()["strategy_benchmark"]) > 7 * 22 * 11
