"""Polygon aggregates -> bar rows, reference mappings and universe choice (pure).

Models are built by polygon-api-client's own deserializers from the recorded responses in
/work/shared/data/api/polygon (parsed with the landing's Decimal JSON), never by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from polygon.rest.models import Agg, Dividend, GroupedDailyAgg, Split, Ticker

from ingest.polygon.bars import bar_row, select_grouped, symbol_rows, trade_date
from ingest.polygon.http import StrictJSON
from ingest.polygon.reference import (
    dividend_actions,
    latest_listing,
    listed_statuses,
    split_action,
    ticker_row,
)
from ingest.universe import resolve_universe
from tests.support.polygon_server import (
    AAPL_RANGE_RECORDING,
    GROUPED_RECORDING,
    delisted_ticker,
    grouped_day_body,
    recorded_bytes,
)


def parsed(relpath: str) -> dict:
    return StrictJSON.loads(recorded_bytes(relpath))


def test_daily_bar_t_is_midnight_new_york_in_est_and_edt():
    bars = [Agg.from_dict(r) for r in parsed(AAPL_RANGE_RECORDING)["results"]]
    # 2005-04-01 00:00 EST = 05:00Z; 2005-04-04 00:00 EDT = 04:00Z (DST began 2005-04-03)
    assert [b.timestamp for b in bars] == [1112331600000, 1112587200000]
    assert [trade_date(b.timestamp) for b in bars] == [date(2005, 4, 1), date(2005, 4, 4)]
    # one millisecond earlier is still the previous New York day
    assert trade_date(1112331600000 - 1) == date(2005, 3, 31)
    assert trade_date(1112587200000 - 1) == date(2005, 4, 3)


def test_grouped_bar_t_is_the_close_of_its_day():
    body = parsed(GROUPED_RECORDING)
    (bar,) = [GroupedDailyAgg.from_dict(r) for r in body["results"]]
    assert bar.timestamp == 1602705600000  # 2020-10-14 20:00Z = 16:00 EDT
    assert trade_date(bar.timestamp) == date(2020, 10, 14)
    assert trade_date(None) is None
    assert trade_date("garbage") is None


def test_rows_are_canonical_and_exact():
    rows = symbol_rows("AAPL", [Agg.from_dict(r) for r in parsed(AAPL_RANGE_RECORDING)["results"]])
    assert rows[0] == (
        "AAPL",
        date(2005, 4, 1),
        Decimal("1.5032"),
        Decimal("1.5064"),
        Decimal("1.4489"),
        Decimal("1.4604"),
        Decimal("642646396.0"),
    )
    # a missing value stays missing (landing quarantines the row with the reason)
    assert bar_row("X", Agg.from_dict({"o": 1, "t": 1112331600000})) == (
        "X",
        date(2005, 4, 1),
        1,
        None,
        None,
        None,
        None,
    )


def test_a_recorded_bar_stamped_for_another_day_is_set_aside():
    bars = [GroupedDailyAgg.from_dict(r) for r in parsed(GROUPED_RECORDING)["results"]]
    # the recording is filed under 2005-04-04 but its bar is stamped 2020-10-14
    sel = select_grouped(date(2005, 4, 4), bars, None)
    assert (sel.market_rows, sel.rows, sel.missing) == (1, [], [])
    ((row, reason),) = sel.off_day
    assert row[0] == "GIK"
    assert "2020-10-14" in reason and "2005-04-04" in reason


def test_grouped_selection_keeps_the_universe_and_names_the_absent():
    day = date(2024, 1, 2)
    body = StrictJSON.loads(__import__("json").dumps(grouped_day_body(day)))
    bars = [GroupedDailyAgg.from_dict(r) for r in body["results"]]
    whole = select_grouped(day, bars, None)
    assert sorted(r[0] for r in whole.rows) == ["GIK", "KIMpL", "TANH", "VSAT"]
    assert all(r[1] == day for r in whole.rows)
    some = select_grouped(day, bars, ["gik", "VSAT", "NOPE"])
    assert sorted(r[0] for r in some.rows) == ["GIK", "VSAT"]
    assert (some.missing, some.not_in_universe) == (["NOPE"], 2)
    capped = select_grouped(day, bars, None, max_symbols=2)
    assert sorted(r[0] for r in capped.rows) == ["GIK", "KIMpL"]


def test_splits_and_dividends_map_onto_corporate_actions():
    splits = [Split.from_dict(r) for r in parsed("v3/reference/splits.json")["results"]]
    googl = split_action(splits[0])
    assert (googl.symbol, googl.action_type, googl.ex_date) == ("GOOGL", "split", "2022-07-18")
    assert (googl.split_from, googl.split_to) == (1, 20)  # 20-for-1: from 1 to 20
    brw = next(split_action(s) for s in splits if s.ticker == "BRW")
    assert (brw.split_from, brw.split_to) == (2, 1)  # a reverse split
    dividends = [Dividend.from_dict(r) for r in parsed("v3/reference/dividends.json")["results"]]
    actions = dividend_actions(dividends)
    assert len(actions) == 10
    first = actions[0]
    assert (first.symbol, first.ex_date, first.cash_amount) == (
        "CSSEN",
        "2025-06-12",
        Decimal("0.59375"),
    )
    assert first.details["pay_date"] == "2025-06-30"


def test_two_distributions_on_one_ex_date_are_summed_not_dropped():
    dividends = [Dividend.from_dict(r) for r in parsed("v3/reference/dividends.json")["results"]]
    regular = dividends[0]
    special = Dividend.from_dict(
        {**vars(regular), "cash_amount": Decimal("1.5"), "dividend_type": "SC"}
    )
    (combined,) = dividend_actions([regular, special])
    assert combined.cash_amount == Decimal("2.09375")
    assert [c["dividend_type"] for c in combined.details["components"]] == ["CD", "SC"]


def test_ticker_rows_key_each_listing():
    active = Ticker.from_dict(parsed("v3/reference/tickers.json")["results"][0])
    row = ticker_row(active, __import__("uuid").uuid4())
    assert row[:3] == ("stocks", "A", "active")
    gone = Ticker.from_dict(delisted_ticker("OLD", "2023-01-05T00:00:00Z"))
    older = Ticker.from_dict(delisted_ticker("OLD", "2011-03-01T00:00:00Z"))
    row = ticker_row(gone, __import__("uuid").uuid4())
    assert row[:3] == ("stocks", "OLD", "2023-01-05T00:00:00Z")
    assert row[11] == date(2023, 1, 5)
    assert latest_listing([older, gone], "OLD") is gone
    assert latest_listing([], "OLD") is None
    # only a listing of exactly the ticker asked for counts (issue 11)
    other = Ticker.from_dict(delisted_ticker("OLDX", "2024-01-05T00:00:00Z"))
    assert latest_listing([other, older], "old") is older
    assert latest_listing([other], "OLD") is None


def test_universe_precedence():
    pick = resolve_universe
    assert pick(explicit=["aapl", " msft", "AAPL"], configured=["X"], registered=["Y"]).symbols == [
        "AAPL",
        "MSFT",
    ]
    assert pick(explicit=None, configured=["X", "Z"], registered=["Y"]).origin == "MDW_UNIVERSE"
    assert pick(explicit=[], configured=[], registered=["b", "a"]).symbols == ["A", "B"]
    assert pick(explicit=None, configured=None, registered=None).whole_market
    assert pick(explicit=["A"], configured=None, registered=None, whole_market=True).whole_market
    assert pick(
        explicit=["A", "B", "C"], configured=None, registered=None, max_symbols=2
    ).symbols == ["A", "B"]
    with pytest.raises(ValueError):
        pick(explicit=None, configured=None, registered=None, max_symbols=0)


def test_tracked_symbols_split_into_listed_and_absent():
    present, absent = listed_statuses(["a", "OLD", "AAA"], {"A": "Agilent", "AAA": None})
    assert [(p.symbol, p.active, p.name) for p in present] == [
        ("A", True, "Agilent"),
        ("AAA", True, None),
    ]
    assert absent == ["OLD"]
