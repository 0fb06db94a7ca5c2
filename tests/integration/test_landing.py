"""Landing files into the raw layer, against a real PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from ingest.db import migrate, migration_files, transaction
from ingest.landing import ingest_file
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration

HEADER = ["symbol", "date", "open", "high", "low", "close", "volume"]


def rows(url, sql):
    with transaction(url) as cur:
        cur.execute(sql)
        return cur.fetchall()


def write_csv(path: Path, lines: list[list[str]], header=HEADER) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(lines)
    return path


def sample_lines(symbol: str, n: int, sample: Path) -> list[list[str]]:
    with sample.open() as fh:
        return [r for r in csv.reader(fh) if r[0] == symbol][:n]


def test_migrations_apply_once(warehouse_url):
    assert migrate(warehouse_url) == [version for version, _ in migration_files()]
    assert migrate(warehouse_url) == []
    tables = {
        r[0]
        for r in rows(
            warehouse_url,
            "select table_name from information_schema.tables where table_schema = 'raw'",
        )
    }
    assert {
        "daily_bars",
        "load_runs",
        "rejected_bars",
        "schema_migrations",
        "corporate_actions",
        "intraday_bars",
        "symbols",
    } <= tables


def test_sample_lands_and_a_rerun_changes_nothing(warehouse_url, sample_path):
    migrate(warehouse_url)
    first = ingest_file(warehouse_url, sample_path)
    assert first.status == "success"  # 11 rows quarantined, named, none lost
    assert (first.received, first.inserted, first.rejected) == (22213, 22202, 11)
    query = f"select * from raw.rejected_bars where last_seen_run_id = '{first.load_run_id}'"
    assert query in first.error
    snapshot_sql = "select * from raw.daily_bars order by source, symbol, trade_date"
    before = rows(warehouse_url, snapshot_sql)

    second = ingest_file(warehouse_url, sample_path)
    assert (second.inserted, second.updated, second.rejected, second.unchanged) == (0, 0, 11, 22202)
    assert rows(warehouse_url, snapshot_sql) == before  # loaded_at and load_run_id untouched
    assert rows(warehouse_url, "select count(*) from raw.rejected_bars") == [(11,)]
    statuses = dict(
        rows(
            warehouse_url,
            """
        select status, count(*) from raw.load_runs group by status""",
        )
    )
    assert statuses == {"success": 40}  # 20 symbols x 2 runs; rows quarantined, none lost


def test_bad_rows_are_quarantined_with_their_reasons(warehouse_url, sample_path, tmp_path):
    migrate(warehouse_url)
    good = sample_lines("AAPL", 3, sample_path)
    sym, day, o, h, low, c, v = good[0]
    bad = [
        ["AAPL", "2020-01-02", "-1", h, low, c, v],
        ["AAPL", "2020-01-03", o, "1", "2", c, v],
        ["AAPL", "not-a-date", o, h, low, c, v],
        ["AAPL", "", o, h, low, c, v],
        ["AAPL", "2020-01-06", o, h, low, c, "-5"],
        ["", "2020-01-07", o, h, low, c, v],
        ["AAPL", "2020-01-08", "abc", h, low, c, v],
        ["AAPL", "2020-01-09", o, h, low, "NaN", v],
        ["AAPL", "2020-01-10", o, h, low, c, v],
        ["AAPL", "2020-01-10", o, h, low, str(float(c) + 0.01), v],
        ["AAPL", "2020-01-13", o, h, low, c, v],
        ["AAPL", "2020-01-13", o, h, low, c, v],
    ]
    path = write_csv(tmp_path / "bars.csv", good + bad)
    outcome = ingest_file(warehouse_url, path)
    assert outcome.ok
    expected = {
        "2020-01-02": "non-positive open",
        "2020-01-03": "high < low",
        "not-a-date": "unparseable date",
        "": "missing date",
        "2020-01-06": "negative volume",
        "2020-01-07": "missing symbol",
        "2020-01-08": "unparseable open",
        "2020-01-09": "unparseable close",
    }
    got = dict(
        rows(
            warehouse_url,
            "select coalesce(trade_date, ''), reason from raw.rejected_bars"
            " where coalesce(trade_date, '') not in"
            " ('2020-01-10', '2020-01-13')",
        )
    )
    for day_raw, reason in expected.items():
        assert reason in got[day_raw], (day_raw, got[day_raw])
    dupes = rows(
        warehouse_url,
        """select trade_date, reason from raw.rejected_bars
                 where trade_date in ('2020-01-10', '2020-01-13') order by source_line""",
    )
    assert [d[1] for d in dupes] == [
        "conflicting duplicate of symbol and date within the file",
        "conflicting duplicate of symbol and date within the file",
        "repeated row within the file (first copy landed)",
    ]
    # nothing dropped: every row either landed or quarantined, as received
    landed = rows(warehouse_url, "select count(*) from raw.daily_bars")[0][0]
    quarantined = rows(warehouse_url, "select count(*) from raw.rejected_bars")[0][0]
    assert (landed, quarantined) == (4, 11)
    assert landed + quarantined == len(good + bad)
    assert rows(
        warehouse_url, "select open, close from raw.rejected_bars where trade_date = '2020-01-08'"
    ) == [("abc", c)]


def test_a_restated_bar_updates_exactly_that_row(warehouse_url, sample_path, tmp_path):
    migrate(warehouse_url)
    lines = sample_lines("MSFT", 50, sample_path)
    ingest_file(warehouse_url, write_csv(tmp_path / "v1.csv", lines))
    lines[10][6] = str(int(lines[10][6]) + 100)  # a vendor restates the volume
    outcome = ingest_file(warehouse_url, write_csv(tmp_path / "v2.csv", lines))
    assert (outcome.inserted, outcome.updated, outcome.unchanged) == (0, 1, 49)
    assert rows(
        warehouse_url, f"select volume from raw.daily_bars where trade_date = '{lines[10][1]}'"
    )[0][0] == int(lines[10][6])


def test_a_file_that_cannot_be_read_is_a_failed_load_run(warehouse_url, tmp_path):
    migrate(warehouse_url)
    path = write_csv(
        tmp_path / "bad.csv", [["AAPL", "2020-01-02", "1", "2", "1", "1"]], header=HEADER[:-1]
    )
    outcome = ingest_file(warehouse_url, path)
    assert not outcome.ok and "missing column(s) volume" in outcome.error
    assert rows(
        warehouse_url, "select symbol, status, error like '%missing column%' from raw.load_runs"
    ) == [("*", "failed", True)]
    missing = ingest_file(warehouse_url, tmp_path / "nope.csv")
    assert not missing.ok and "no such file" in missing.error


def test_real_kaggle_layout_and_parquet_land_the_same_bars(warehouse_url, tmp_path):
    """The original all_stocks_5yr layout (Name column, other order) and Parquet both land."""
    migrate(warehouse_url)
    src = SHARED_DATA / "prices" / "all_stocks_5yr.csv"
    head = pd.read_csv(src, nrows=2000, dtype=str, keep_default_na=False)
    kaggle = tmp_path / "kaggle.csv"
    head.to_csv(kaggle, index=False)
    typed = pd.read_csv(src, nrows=2000, parse_dates=["date"])
    parquet = tmp_path / "bars.parquet"
    typed.rename(columns={"Name": "Ticker"}).to_parquet(parquet)

    a = ingest_file(warehouse_url, kaggle, source="kaggle")
    b = ingest_file(warehouse_url, parquet, source="parquet")
    assert a.ok and b.ok and a.received == b.received == 2000
    assert a.rejected == b.rejected
    diff = rows(
        warehouse_url,
        """
        select count(*) from raw.daily_bars k
        full join raw.daily_bars p
          on p.source = 'parquet' and p.symbol = k.symbol and p.trade_date = k.trade_date
        where k.source = 'kaggle'
          and (p.symbol is null or (k.open, k.high, k.low, k.close, k.volume)
                                   <> (p.open, p.high, p.low, p.close, p.volume))""",
    )
    assert diff == [(0,)]


def test_vendor_rows_get_the_same_checks_as_files(warehouse_url):
    from ingest.landing import land_rows
    from ingest.outcomes import Unit

    migrate(warehouse_url)
    rows_in = [
        ("AAPL", "2020-08-28", 504.05, 505.77, 498.31, 499.23, 46907479),
        ("AAPL", "2020-08-31", 127.58, 131.0, 126.0, 129.04, 225702688),
        ("AAPL", "2020-09-01", None, 134.8, 130.53, 134.18, 151948100),
    ]
    unit = Unit("polygon", "window", "AAPL", "test://aapl")
    with transaction(warehouse_url) as cur:
        (found,) = land_rows(cur, unit, rows_in, [(rows_in[0], "stamped for another day")]).rows
    assert (found.counts.received, found.counts.inserted, found.counts.rejected) == (4, 2, 2)
    assert rows(warehouse_url, "select reason from raw.rejected_bars order by 1") == [
        ("missing open",),
        ("stamped for another day",),
    ]


# --- files of one symbol (issue 18): the bundled yfinance and Alpha Vantage histories -----

PRICES = SHARED_DATA / "prices"
ALPHA_VANTAGE = {
    # symbol: (rows, dividends, splits as (ex-date, split_to)) - per shared/data/SOURCES.md
    "AAPL": (
        5303,
        34,
        {
            ("2020-08-31", "4"),
            ("2014-06-09", "7.00000700001"),
            ("2005-02-28", "2"),
            ("2000-06-21", "2"),
        },
    ),
    "AMD": (5303, 0, {("2000-08-22", "2")}),
    "FB": (2146, 0, set()),
    "GOOG": (1681, 0, set()),
    "IBM": (5303, 85, set()),
    "INTC": (5303, 85, {("2000-07-31", "2")}),
    "MSFT": (5303, 68, {("2003-02-18", "2")}),
    "SPY": (5303, 85, set()),
    "TSLA": (2623, 0, {("2020-08-31", "5")}),
}


def test_a_yfinance_file_of_one_symbol_lands_with_its_symbol(warehouse_url):
    migrate(warehouse_url)
    nvda = ingest_file(
        warehouse_url, PRICES / "single_symbol" / "NVDA_yfinance_daily_2020_2024.csv", symbol="NVDA"
    )
    assert (nvda.status, nvda.received, nvda.inserted) == ("success", 1190, 1190)
    # local midnight with its offset is that New York day; Dividends / Stock Splits are actions
    calm = ingest_file(
        warehouse_url, PRICES / "yfinance_testdata" / "CALM-1d-no-bad-divs.csv", symbol="calm"
    )
    assert (calm.status, calm.received, calm.inserted) == ("success", 662, 662)
    assert rows(
        warehouse_url,
        "select symbol, min(trade_date)::text, max(trade_date)::text, count(*)"
        " from raw.daily_bars group by 1 order by 1",
    ) == [("CALM", "2022-01-03", "2024-08-21", 662), ("NVDA", "2020-01-02", "2024-09-24", 1190)]
    assert rows(
        warehouse_url,
        "select count(*), sum(cash_amount)::text from raw.corporate_actions"
        " where symbol = 'CALM' and action_type = 'dividend' and source = 'files'",
    ) == [(10, "7.921")]
    missing = ingest_file(
        warehouse_url, PRICES / "single_symbol" / "NVDA_yfinance_daily_2020_2024.csv"
    )
    assert missing.status == "failed" and "no symbol column" in missing.error


def test_alpha_vantage_histories_land_raw_with_their_splits_and_dividends(warehouse_url):
    """Newest first, CRLF line ends, raw (unadjusted) prices: the bars land as they are, the
    split coefficients and dividend amounts as corporate actions (dbt adjusts with them)."""
    migrate(warehouse_url)
    for symbol, (expected_rows, dividends, splits) in ALPHA_VANTAGE.items():
        path = PRICES / "alphavantage_daily_adjusted" / f"daily_adjusted_{symbol}.csv"
        outcome = ingest_file(warehouse_url, path, symbol=symbol)
        assert (outcome.status, outcome.received, outcome.inserted) == (
            "success",
            expected_rows,
            expected_rows,
        ), symbol
        assert rows(
            warehouse_url,
            "select count(*) from raw.corporate_actions where action_type = 'dividend'"
            f" and symbol = '{symbol}'",
        ) == [(dividends,)]
        found = rows(
            warehouse_url,
            "select ex_date::text, split_to::text from raw.corporate_actions"
            f" where action_type = 'split' and split_from = 1 and symbol = '{symbol}'",
        )
        assert {(day, ratio.rstrip("0").rstrip(".")) for day, ratio in found} == splits
    again = ingest_file(warehouse_url, path, symbol=symbol)  # the last one, once more
    assert (again.unchanged, again.inserted) == (expected_rows, 0)
