"""The benchmark's input preparation: subsets, the history / last-day split, 10x synthesis."""

from __future__ import annotations

import csv

import pytest

from bench import data

ROWS = [
    ["2018-02-05", "1", "2", "0.5", "1.5", "100", "AAA"],
    ["2018-02-06", "1", "2", "0.5", "1.5", "100", "AAA"],
    ["2018-02-07", "1", "2", "0.5", "1.5", "100", "AAA"],
    ["2018-02-06", "3", "4", "2.5", "3.5", "100", "BBB"],
    ["2018-02-07", "3", "4", "2.5", "3.5", "100", "BBB"],
    ["2018-02-06", "5", "6", "4.5", "5.5", "100", "CCC"],  # no bar on the last day
]


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "bars.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "open", "high", "low", "close", "volume", "Name"])
        w.writerows(ROWS)
    return path


def read(path):
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_pick_symbols_spreads_a_subset_over_the_sorted_list():
    symbols = [f"S{i:02d}" for i in range(10)][::-1]
    assert data.pick_symbols(symbols, None) == sorted(symbols)
    assert data.pick_symbols(symbols, 50) == sorted(symbols)
    assert data.pick_symbols(symbols, 3) == ["S00", "S03", "S06"]
    assert data.pick_symbols(symbols, 3) == data.pick_symbols(symbols, 3)
    with pytest.raises(ValueError):
        data.pick_symbols(symbols, 0)


def test_prepare_files_splits_off_the_last_date_and_keeps_the_header(source, tmp_path):
    files = data.prepare_files(source, tmp_path / "out")
    assert files.last_date == "2018-02-07"
    assert (files.symbols, files.history_rows, files.last_day_rows, files.rows) == (3, 4, 2, 6)
    history, last_day = read(files.history), read(files.last_day)
    assert history[0] == last_day[0] == ["date", "open", "high", "low", "close", "volume", "Name"]
    assert all(r[0] < "2018-02-07" for r in history[1:])
    assert [r[6] for r in last_day[1:]] == ["AAA", "BBB"]


def test_prepare_files_with_a_subset_keeps_only_those_symbols(source, tmp_path):
    files = data.prepare_files(source, tmp_path / "out", symbols=2)
    kept = {r[6] for r in read(files.history)[1:] + read(files.last_day)[1:]}
    assert kept == {"AAA", "BBB"}
    assert files.rows == 5


def test_synthesis_adds_copies_under_new_symbols_with_scaled_prices():
    sql = data.synthesis_sql(9)
    assert "insert into raw.daily_bars" in sql
    assert "(1, 1.125::numeric)" in sql and "(9, 2.125::numeric)" in sql
    assert "(10," not in sql
    assert "b.symbol || '_' || c.k" in sql
    assert data.price_factor(2) == "1.25"
    with pytest.raises(ValueError):
        data.synthesis_sql(0)
